"""The experiment driver: seeds, exact resume, logs and early, clear errors."""

import dataclasses
import json
import math
import os
import re
import shutil
import socket
import subprocess

import pytest

import jax
import numpy as np

from il_jax import experiment
from il_jax import experts
from il_jax import workdir as workdirs
from il_jax.algorithms.dagger import DAggerConfig
from il_jax.algorithms.hg_dagger import HGDAggerConfig
from il_jax.config import ImitationConfig
from il_jax.experts import ppo_networks
from expert_exports import SPEC, write_export
from metric_rows import without_timing


SMALL = ImitationConfig(n_iter=4, num_envs=2, expert_steps_per_env=50,
                        steps_per_iter=100, train_steps_per_iter=50,
                        train_batch_size=32, eval_episodes=4,
                        episode_length=50)


def _config(**overrides):
  fields = dict(algo='dagger', env='tightrope', policy='gaussian',
                num_seeds=2, imitation=SMALL)
  fields.update(overrides)
  return experiment.RunConfig(**fields)


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('uninterrupted'))
  return workdir, experiment.run(_config(), workdir, verbose=False)


def test_writes_every_output(uninterrupted):
  workdir, rows = uninterrupted
  assert len(rows) == SMALL.n_iter * 2
  for name in ('config.json', 'metrics.jsonl', 'metrics.csv',
               'learning_curve.png', experiment.EXPERT_PROBE_FILE):
    assert os.path.exists(os.path.join(workdir, name)), name
  assert os.listdir(os.path.join(workdir, 'tensorboard'))
  with open(os.path.join(workdir, 'config.json')) as f:
    assert json.load(f)['imitation']['n_iter'] == SMALL.n_iter
  for name in ('Eval_AverageReturn', 'Eval_StdReturn', 'Eval_MaxReturn',
               'Eval_MinReturn', 'Eval_AverageEpLen', 'Train_AverageReturn',
               'Training_Loss', 'Dataset_Size', 'Env_Steps_Per_Second',
               'Expert_AverageReturn'):
    assert name in rows[0], name


def test_dataset_grows_by_steps_per_iter_after_the_first_iteration(
    uninterrupted):
  _, rows = uninterrupted
  sizes = [r['Dataset_Size'] for r in rows if r['Seed'] == 0]
  assert sizes == [100, 200, 300, 400]


def test_vmapped_seeds_differ(uninterrupted):
  _, rows = uninterrupted
  seed0 = [r['Training_Loss'] for r in rows if r['Seed'] == 0]
  seed1 = [r['Training_Loss'] for r in rows if r['Seed'] == 1]
  assert seed0 != seed1


@pytest.mark.parametrize('interrupt_after', [1, 3])
def test_resume_reproduces_the_uninterrupted_run(uninterrupted, tmp_path,
                                                 interrupt_after):
  _, expected = uninterrupted
  workdir = str(tmp_path)
  experiment.run(_config(), workdir, stop_after=interrupt_after,
                 verbose=False)
  resumed = experiment.run(_config(), workdir, resume=True, verbose=False)
  assert without_timing(resumed) == without_timing(expected)


def test_resume_after_a_kill_between_metrics_and_checkpoint(uninterrupted,
                                                            tmp_path):
  _, expected = uninterrupted
  workdir = str(tmp_path)
  experiment.run(_config(), workdir, stop_after=2, verbose=False)
  # The metrics of iteration 2 were written, its checkpoint was not.
  checkpoints = os.path.join(workdir, 'checkpoints')
  os.rename(os.path.join(checkpoints, '2'),
            os.path.join(str(tmp_path), 'lost'))
  resumed = experiment.run(_config(), workdir, resume=True, verbose=False)
  assert without_timing(resumed) == without_timing(expected)


def test_only_the_primary_process_writes_files(uninterrupted, tmp_path,
                                              monkeypatch):
  # What process 1 of a multi-host run does: it computes, checkpoints and
  # returns the same rows, but leaves every other file to process 0.
  _, expected = uninterrupted
  monkeypatch.setattr(experiment, 'is_primary_process', lambda: False)
  workdir = str(tmp_path)
  rows = experiment.run(_config(), workdir, verbose=False)
  assert without_timing(rows) == without_timing(expected)
  assert sorted(os.listdir(workdir)) == ['checkpoints']


def test_resume_with_parameter_averaging_reproduces_the_run(tmp_path):
  # The average is part of the state a checkpoint must hold.
  config = _config(imitation=dataclasses.replace(SMALL, ema_decay=0.9))
  expected = experiment.run(config, str(tmp_path / 'whole'), verbose=False)
  workdir = str(tmp_path / 'resumed')
  experiment.run(config, workdir, stop_after=2, verbose=False)
  resumed = experiment.run(config, workdir, resume=True, verbose=False)
  assert without_timing(resumed) == without_timing(expected)


def test_resume_accepts_a_run_written_before_a_field_at_its_default(
    uninterrupted, tmp_path):
  workdir, expected = uninterrupted
  older = str(tmp_path / 'older')
  shutil.copytree(workdir, older)
  path = os.path.join(older, 'config.json')
  with open(path) as f:
    saved = json.load(f)
  del saved['imitation']['ema_decay']
  del saved['expert']
  with open(path, 'w') as f:
    json.dump(saved, f)
  os.remove(os.path.join(older, experiment.EXPERT_PROBE_FILE))
  rows = experiment.run(_config(), older, resume=True, verbose=False)
  assert without_timing(rows) == without_timing(expected)
  # A field missing from the saved config but set off its default in this
  # one asks for another run.
  with pytest.raises(ValueError, match=r'another config \(imitation.ema_decay: '
                     r'0.0 → 0.5\)'):
    experiment.run(
        _config(imitation=dataclasses.replace(SMALL, ema_decay=0.5)), older,
        resume=True, verbose=False)
  expert_dir = str(tmp_path / 'expert')
  write_export(expert_dir)
  with pytest.raises(ValueError, match=r'another config \(expert: null → '):
    experiment.run(_config(expert=expert_dir), older, resume=True,
                   verbose=False)


def test_a_run_demonstrates_and_labels_with_the_expert_it_names(
    uninterrupted, tmp_path):
  _, analytic_rows = uninterrupted
  expert_dir = str(tmp_path / 'expert')
  params = write_export(expert_dir)
  config = _config(expert=expert_dir,
                   imitation=dataclasses.replace(SMALL, n_iter=1))
  _, _, expert, _ = experiment.build(config)
  obs = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (32, 3))) * 0.3
  np.testing.assert_allclose(
      expert(obs), ppo_networks.make_policy_fn(SPEC, params)(obs), rtol=1e-6)
  assert not np.allclose(expert(obs), experts.load('tightrope')(obs),
                         atol=1e-2)
  # The random network demonstrates, so the demonstrations' return is its
  # own (it falls off the rope), not the analytic expert's.
  rows = experiment.run(config, str(tmp_path / 'run'), verbose=False)
  assert max(r['Expert_AverageReturn'] for r in rows) < 0.8 * min(
      r['Expert_AverageReturn'] for r in analytic_rows)
  with open(tmp_path / 'run' / 'config.json') as f:
    assert json.load(f)['expert'] == expert_dir


def test_resume_refuses_a_run_started_with_another_expert(tmp_path):
  expert_dir = str(tmp_path / 'expert')
  write_export(expert_dir, seed=0)
  config = _config(expert=expert_dir,
                   imitation=dataclasses.replace(SMALL, n_iter=2))
  workdir = str(tmp_path / 'run')
  experiment.run(config, workdir, stop_after=1, verbose=False)
  # Same config, same directory, other weights: the labels would change.
  shutil.rmtree(expert_dir)
  write_export(expert_dir, seed=1)
  with pytest.raises(ValueError, match=r'started with another expert: at 64 '
                     r'probe observations its actions differ by up to'):
    experiment.run(config, workdir, resume=True, verbose=False)
  shutil.rmtree(expert_dir)
  write_export(expert_dir, seed=0)
  rows = experiment.run(config, workdir, resume=True, verbose=False)
  assert len(rows) == 2 * config.num_seeds


def test_resume_refuses_a_workdir_of_another_config(uninterrupted):
  workdir, _ = uninterrupted
  with pytest.raises(ValueError, match='another config'):
    experiment.run(_config(algo='bc'), workdir, resume=True, verbose=False)


@pytest.mark.parametrize('overrides, message', [
    ({'algo': 'airl'}, r"algo='airl' is not valid; expected one of "
                       r"\['bc', 'dagger', 'gail', 'gcbc', 'hg_dagger'\]"),
    ({'env': 'ant'}, r"env='ant' is not valid"),
    ({'policy': 'not_a_family'}, r"policy='not_a_family' is not valid"),
    ({'num_seeds': 0}, r'num_seeds=0 is not valid'),
    ({'expert': 'tightrope_best'}, r"expert='tightrope_best' is neither a "
                                   r'directory nor a shipped expert'),
])
def test_bad_run_configs_fail_clearly(overrides, message):
  with pytest.raises(ValueError, match=message):
    _config(**overrides)


@pytest.mark.parametrize('field, value, message', [
    ('train_batch_size', 0, 'expected a positive integer'),
    ('learning_rate', -1.0, 'expected a positive number'),
    ('beta_schedule', 'cosine', "beta_schedule='cosine' is not valid"),
    ('beta', 1.5, r'expected a number in \[0, 1\]'),
    ('steps_per_iter', 999, 'multiple of num_envs=2'),
    ('demo_noise', -0.1, 'demo_noise=-0.1 is not valid'),
    ('ema_decay', 1.0, r'ema_decay=1.0 is not valid; expected a number in '
                       r'\[0, 1\)'),
    ('learning_rate', math.nan, 'learning_rate=nan is not valid'),
    ('learning_rate', math.inf, 'learning_rate=inf is not valid'),
    ('max_grad_norm', math.nan, 'max_grad_norm=nan is not valid'),
    ('demo_noise', math.inf, 'demo_noise=inf is not valid'),
    ('beta_decay', math.nan, 'beta_decay=nan is not valid'),
])
def test_bad_imitation_configs_fail_clearly(field, value, message):
  with pytest.raises(ValueError, match=message):
    DAggerConfig(**{'num_envs': 2, field: value})


@pytest.mark.parametrize('field, value', [
    ('threshold', math.nan),
    ('threshold_quantile', math.nan), ('release_tolerance', math.inf),
    ('learning_rate', -math.inf)])
def test_hg_dagger_floats_reject_nan_and_inf(field, value):
  with pytest.raises(ValueError, match=f'{field}={value} is not valid'):
    HGDAggerConfig(**{field: value})


def test_an_unbounded_gradient_clip_is_still_allowed():
  assert ImitationConfig(max_grad_norm=math.inf).max_grad_norm == math.inf


def test_a_dataset_that_cannot_fit_fails_before_compiling(tmp_path):
  huge = ImitationConfig(n_iter=10**6, num_envs=1000, steps_per_iter=10**6)
  with pytest.raises(ValueError, match='The dataset needs .* GiB'):
    experiment.run(_config(imitation=huge), str(tmp_path), verbose=False)


def _flip_a_bit(path):
  with open(path, 'r+b') as f:
    f.seek(os.path.getsize(path) // 2)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 1]))


def test_a_workdir_holding_a_run_is_refused_and_left_untouched(
    uninterrupted):
  workdir, _ = uninterrupted
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    metrics = f.read()
  steps = sorted(os.listdir(os.path.join(workdir, 'checkpoints')))
  with pytest.raises(ValueError, match=r'holds a run \(config.json, .*\); '
                     r'resume it, overwrite it \(delete it'):
    experiment.run(_config(algo='bc'), workdir, verbose=False)
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    assert f.read() == metrics
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == steps


def test_overwrite_removes_the_old_run_so_resume_cannot_restore_it(
    uninterrupted, tmp_path):
  # The case: a new run with another learning rate, killed before
  # its first checkpoint, then resumed.
  workdir, _ = uninterrupted
  used = str(tmp_path / 'used')
  shutil.copytree(workdir, used)
  other = _config(imitation=dataclasses.replace(
      SMALL, n_iter=2, learning_rate=1e-3))
  experiment.run(other, used, overwrite=True, stop_after=0, verbose=False)
  assert os.listdir(os.path.join(used, 'checkpoints')) == []
  assert not os.path.exists(os.path.join(used, 'metrics.csv'))
  messages = []
  resumed = experiment.run(other, used, resume=True, report=messages.append)
  assert messages[0] == f'No checkpoint in {used}: starting a fresh run.'
  fresh = experiment.run(other, str(tmp_path / 'fresh'), verbose=False)
  assert without_timing(resumed) == without_timing(fresh)


def test_resume_skips_a_corrupt_checkpoint_and_still_reproduces_the_run(
    uninterrupted, tmp_path):
  _, expected = uninterrupted
  workdir = str(tmp_path)
  experiment.run(_config(), workdir, stop_after=3, verbose=False)
  checkpoints = os.path.join(workdir, 'checkpoints')
  # The newest checkpoint's dataset rows: one flipped bit.
  chunk = os.path.join(checkpoints, 'dataset', '3')
  _flip_a_bit(os.path.join(chunk, max(
      os.listdir(chunk), key=lambda n: os.path.getsize(os.path.join(chunk,
                                                                    n)))))
  messages = []
  resumed = experiment.run(_config(), workdir, resume=True,
                           report=messages.append)
  assert messages[0] == (
      f'Checkpoint 3 in {checkpoints} needs dataset chunk dataset/3, which '
      'fails its checksum: skipped, restoring checkpoint 2 instead.')
  assert messages[1] == f'Resumed from iteration 2 in {workdir}'
  assert without_timing(resumed) == without_timing(expected)


def test_resume_refuses_in_one_line_when_no_checkpoint_is_intact(tmp_path):
  workdir = str(tmp_path)
  config = _config(imitation=dataclasses.replace(SMALL, n_iter=2))
  experiment.run(config, workdir, stop_after=1, verbose=False)
  step = os.path.join(workdir, 'checkpoints', '1', 'state')
  for root, _, names in os.walk(step):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
  with pytest.raises(ValueError) as error:
    experiment.run(config, workdir, resume=True, verbose=False)
  message = str(error.value)
  assert '\n' not in message
  assert message.startswith('No intact checkpoint in ')
  assert 'Checkpoint 1 cannot be read' in message


def test_resume_of_an_hg_dagger_run_reproduces_it(tmp_path):
  # Seeds aggregate different numbers of rows: the dataset chunks of the
  # incremental saves overlap, and rebuild every seed's dataset exactly.
  config = _config(algo='hg_dagger', policy='mlp', imitation=HGDAggerConfig(
      **dataclasses.asdict(SMALL)))
  expected = experiment.run(config, str(tmp_path / 'whole'), verbose=False)
  sizes = {r['Dataset_Size'] for r in expected if r['Iteration'] == 3}
  assert len(sizes) == 2
  workdir = str(tmp_path / 'resumed')
  experiment.run(config, workdir, stop_after=2, verbose=False)
  resumed = experiment.run(config, workdir, resume=True, verbose=False)
  assert without_timing(resumed) == without_timing(expected)


def test_a_locked_workdir_is_refused_naming_its_holder(tmp_path):
  workdir = str(tmp_path)
  with workdirs.lock(workdir):
    with pytest.raises(ValueError, match=rf'{workdir} is in use by process '
                       rf'{os.getpid()} on {socket.gethostname()}'):
      experiment.run(_config(), workdir, verbose=False)


def test_a_lock_left_by_a_dead_process_is_broken(tmp_path):
  workdir = str(tmp_path)
  with open(os.path.join(workdir, workdirs.LOCK_FILE), 'w') as f:
    json.dump({'pid': _exited_pid(), 'host': socket.gethostname()}, f)
  with workdirs.lock(workdir):
    with open(os.path.join(workdir, workdirs.LOCK_FILE)) as f:
      assert json.load(f)['pid'] == os.getpid()
  assert not os.path.exists(os.path.join(workdir, workdirs.LOCK_FILE))


def _exited_pid() -> int:
  child = subprocess.Popen(['true'])
  child.wait()
  return child.pid


@pytest.mark.parametrize('kind', ['file', 'below_a_file', 'not_writable'])
def test_a_bad_workdir_is_refused_in_one_line_naming_it(tmp_path, kind,
                                                        monkeypatch):
  path = str(tmp_path / 'file')
  with open(path, 'w') as f:
    f.write('not a directory')
  workdir = {'file': path, 'below_a_file': os.path.join(path, 'run'),
             'not_writable': str(tmp_path)}[kind]
  if kind == 'not_writable':  # root may write anywhere: ask os.access
    monkeypatch.setattr(os, 'access', lambda *_: False)
  with pytest.raises(ValueError, match=rf'^workdir={workdir} ') as error:
    experiment.run(_config(), workdir, verbose=False)
  assert '\n' not in str(error.value)


def test_divergence_is_one_line_with_the_seeds_and_last_finite_loss():
  rows = [{'Seed': s, 'Iteration': i, 'Training_Loss': 0.5 + i + s}
          for i in range(2) for s in range(2)]
  message = experiment._divergence_message(  # pylint: disable=protected-access
      2, np.array([1.0, np.inf]), rows)
  assert message == (
      'Training_Loss is inf (not finite) at iteration 2 for seed(s) [1]; '
      'last finite loss: seed 1: 2.5 at iteration 1. Lower learning_rate '
      'or set max_grad_norm.')


def test_a_diverged_run_raises_floating_point_error(tmp_path):
  config = _config(imitation=dataclasses.replace(
      SMALL, n_iter=2, learning_rate=1e30))
  with pytest.raises(FloatingPointError, match=r'not finite\) at iteration'):
    experiment.run(config, str(tmp_path), verbose=False)
  # The run's lock went with it.
  assert not os.path.exists(os.path.join(str(tmp_path), workdirs.LOCK_FILE))


def test_every_program_compiled_is_reported(tmp_path):
  messages = []
  config = _config(imitation=dataclasses.replace(SMALL, n_iter=1))
  experiment.run(config, str(tmp_path), report=messages.append)
  assert messages[0] == ('compiling the demonstrations and initial state '
                         '(first call)...')
  assert re.fullmatch(r'compiled the demonstrations and initial state in '
                      r'\d+\.\d s', messages[1])
  assert messages[2] == 'compiling the dagger iteration (first call)...'
  assert re.fullmatch(r'compiled the dagger iteration in \d+\.\d s',
                      messages[3])
