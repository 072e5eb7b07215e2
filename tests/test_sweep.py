"""Sweeps: expansion, the grouping rule, the Slurm submission, one program
over hyper-parameters x seeds, aggregation, and sharded == unsharded."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from il_jax import experiment, settings, sweep
from launch import slurm
from metric_rows import assert_rows_close, without_timing

TINY = dict(env='tightrope', policy='mlp', size=16, n_iter=3, num_envs=2,
            expert_steps_per_env=20, steps_per_iter=40,
            train_steps_per_iter=20, train_batch_size=16, eval_episodes=2,
            episode_length=20)
# 2 x 2 grid points x 2 seeds = 8 members in one program.
SPEC = {'base': {**TINY, 'algo': 'dagger', 'beta_schedule': 'linear'},
        'grid': {'learning_rate': [3e-3, 3e-2], 'beta': [0.2, 0.9]},
        'seeds': 2}


def test_expand_is_the_grid_times_the_seeds():
  runs = sweep.expand(SPEC)
  assert len(runs) == 8
  assert runs[0].name == 'learning_rate=0.003,beta=0.2/seed=0'
  assert [r.seed for r in runs[:2]] == [0, 1]
  assert {(r.config.imitation.learning_rate, r.config.imitation.beta)
          for r in runs} == {(3e-3, 0.2), (3e-3, 0.9), (3e-2, 0.2),
                             (3e-2, 0.9)}
  assert all(r.config.num_seeds == 1 for r in runs)
  assert dict(runs[0].config.policy_options)['size'] == 16


@pytest.mark.parametrize('spec, message', [
    ({'grid': {'lr': [1.0]}}, r"Unknown setting\(s\) \['lr'\]"),
    ({'grid': {'size': []}}, r"grid\['size'\] is empty"),
    ({'grid': {'size': 32}}, 'expected a list of values'),
    ({'base': {'gate': 'safety'}}, 'belongs to algo hg_dagger'),
    ({'base': {'num_components': 3}}, 'option of policy family mog'),
    ({'grid': {'learning_rate': [-1.0]}, 'base': TINY},
     'Sweep point learning_rate=-1.0: learning_rate=-1.0 is not valid'),
    ({'seeds': 0}, 'seeds=0 is not valid'),
    ({'grids': {}}, r"Unknown sweep spec key\(s\) \['grids'\]"),
])
def test_bad_specs_fail_clearly(spec, message):
  with pytest.raises(ValueError, match=message):
    sweep.expand(spec)


def test_traced_hyperparameters_share_a_program_and_shapes_do_not():
  assert [len(g.runs) for g in sweep.group(sweep.expand(SPEC))] == [8]
  shapes = {**SPEC, 'grid': {**SPEC['grid'], 'size': [16, 32],
                             'num_envs': [2, 4]}}
  groups = sweep.group(sweep.expand(shapes))
  assert [len(g.runs) for g in groups] == [8, 8, 8, 8]
  for g in groups:
    assert len({(dict(r.settings)['size'], dict(r.settings)['num_envs'])
                for r in g.runs}) == 1
  # A fixed threshold is traced; the adaptive rule (None) is another program.
  hg = {'base': {**TINY, 'algo': 'hg_dagger'},
        'grid': {'threshold': [None, 0.1, 0.5], 'threshold_quantile':
                 [0.5, 0.9]}}
  assert sorted(len(g.runs) for g in sweep.group(sweep.expand(hg))) == [2, 4]
  # Other static settings split programs too.
  other = {'base': TINY, 'grid': {'beta_schedule': ['linear', 'constant']}}
  assert len(sweep.group(sweep.expand(other))) == 2


def test_a_policy_family_option_is_a_setting():
  spec = {'base': {**TINY, 'algo': 'bc', 'policy': 'mog'},
          'grid': {'num_components': [2, 3]}}
  runs = sweep.expand(spec)
  assert [dict(r.config.policy_options)['num_components'] for r in runs] == [
      2, 3]
  # The family's other options are its defaults, so equal policies give
  # equal configs however they were written.
  assert settings.run_config({**TINY, 'algo': 'bc', 'policy': 'mog',
                              'num_components': 2}) == runs[0].config
  assert settings.run_config(
      {**TINY, 'algo': 'bc', 'policy': 'mog',
       'policy_options': {'num_components': 2}}) == runs[0].config
  # Two component counts are two shapes: two programs.
  assert len(sweep.group(runs)) == 2


def test_max_members_splits_groups_in_order():
  groups = sweep.group(sweep.expand(SPEC), max_members=3)
  assert [len(g.runs) for g in groups] == [3, 3, 2]
  assert [r for g in groups for r in g.runs] == sweep.expand(SPEC)
  assert len({g.name for g in groups}) == 3


def test_slurm_submission_is_an_array_that_requeues(tmp_path):
  pytest.importorskip('submitit')
  executor = slurm.executor(
      str(tmp_path), offline=True, time=30, gpus_per_node=1,
      ntasks_per_node=1, partition='gpu', array_parallelism=2,
      job_name='il_jax_sweep')
  script = slurm.script(executor, num_tasks=3)
  for line in ('#SBATCH --array=0-2%2', '#SBATCH --partition=gpu',
               '#SBATCH --gpus-per-node=1', '#SBATCH --time=30',
               '#SBATCH --job-name=il_jax_sweep',
               # Preemption/timeout signal that submitit turns into requeue.
               '#SBATCH --signal=USR2@90'):
    assert line in script, (line, script)
  assert 'submitit.core._submit' in script
  # On preemption the task is resubmitted with resume=True.
  group = sweep.group(sweep.expand(SPEC))[0]
  delayed = slurm.GroupJob().checkpoint(group, '/w/group_000', False)
  assert delayed.args == (group, '/w/group_000', True)


@pytest.fixture(scope='module')
def group_run(tmp_path_factory):
  """The SPEC's one program, run on this process's (one) device."""
  assert jax.device_count() == 1
  (g,) = sweep.group(sweep.expand(SPEC))
  workdir = str(tmp_path_factory.mktemp('sweep'))
  sweep.write_plan([g], workdir)
  rows = sweep.run_group(g, os.path.join(workdir, g.name))
  return g, workdir, rows


def test_a_member_equals_its_standalone_run(group_run, tmp_path):
  g, _, rows = group_run
  m = next(i for i, r in enumerate(g.runs)
           if r.name == 'learning_rate=0.03,beta=0.2/seed=1')
  alone = experiment.run(g.runs[m].config, str(tmp_path), verbose=False)
  member = [r for r in rows if r['Seed'] == m]
  assert len(member) == len(alone) == 3
  for got, want in zip(without_timing(member), without_timing(alone)):
    assert got.keys() == want.keys()
    for name in want:
      if name != 'Seed':
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_members_use_their_own_hyperparameters(group_run):
  g, _, rows = group_run
  by_member = {m: [r for r in rows if r['Seed'] == m]
               for m in range(len(g.runs))}
  for m, run in enumerate(g.runs):
    beta = run.config.imitation.beta
    # Linear schedule: beta at iteration 1, decaying to 0 at the last one.
    np.testing.assert_allclose([r['Beta'] for r in by_member[m]],
                               [1.0, beta, 0.0], rtol=1e-6)
  # Same seed and beta, other learning rate: other losses.
  loss = lambda name: [r['Training_Loss'] for r in by_member[
      [run.name for run in g.runs].index(name)]]
  assert loss('learning_rate=0.003,beta=0.2/seed=0') != loss(
      'learning_rate=0.03,beta=0.2/seed=0')


def test_aggregate_writes_one_table_and_plot(group_run):
  g, workdir, rows = group_run
  paths = sweep.aggregate(workdir)
  for key in ('all_metrics', 'csv', 'markdown', 'plot'):
    assert os.path.exists(paths[key]), key
  with open(paths['csv']) as f:
    lines = f.read().splitlines()
  assert len(lines) == 1 + 4  # header + one line per grid point
  point = 'learning_rate=0.03,beta=0.9'
  finals = [r['Eval_AverageReturn'] for r in rows
            if r['Iteration'] == 2 and g.runs[r['Seed']].point == point]
  assert len(finals) == 2
  with open(paths['markdown']) as f:
    table = f.read()
  assert (f'| {point} | 2 | 3 | {np.mean(finals):.2f} ± '
          f'{np.std(finals):.2f} |') in table


def test_hg_dagger_threshold_is_traced_per_member(tmp_path):
  spec = {'base': {**TINY, 'algo': 'hg_dagger', 'n_iter': 2},
          'grid': {'threshold': [-float('inf'), float('inf')]}}
  (g,) = sweep.group(sweep.expand(spec))
  rows = sweep.run_group(g, str(tmp_path))
  last = {r['Seed']: r for r in rows if r['Iteration'] == 1}
  assert last[0]['Intervention_Rate'] == 1.0  # gate always fires
  assert last[1]['Intervention_Rate'] == 0.0  # gate never fires
  assert last[0]['Dataset_Size'] == 80 and last[1]['Dataset_Size'] == 40


_SHARDED_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import jax
    from il_jax import experiment, sweep
    assert jax.device_count() == 4, jax.devices()
    (g,) = sweep.group(sweep.expand(json.loads({spec!r})))
    assert experiment.member_sharding(len(g.runs)).spec == (
        jax.sharding.PartitionSpec('members'))
    rows = sweep.run_group(g, {workdir!r})
    print('ROWS=' + json.dumps(rows))
''')


def test_four_simulated_devices_equal_one(group_run, tmp_path):
  _, _, expected = group_run
  script = _SHARDED_SCRIPT.format(
      spec=json.dumps(SPEC),
      workdir=str(tmp_path))
  env = {**os.environ, 'JAX_PLATFORMS': 'cpu',
         'XLA_FLAGS': '--xla_force_host_platform_device_count=4'}
  result = subprocess.run([sys.executable, '-c', script], env=env,
                          capture_output=True, text=True, timeout=300,
                          check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  line = next(l for l in result.stdout.splitlines() if l.startswith('ROWS='))
  sharded = json.loads(line[len('ROWS='):])
  # Members are independent and each device computes whole members, but XLA
  # compiles a batch of 2 members per device differently from a batch of 8
  # (fusion and vectorisation of the float32 reductions), so the results are
  # equal to float32 rounding, not bit for bit; integers are exact.
  assert len(sharded) == len(expected) == 8 * 3
  worst = assert_rows_close(sharded, expected)
  print(f'largest difference, 4 devices vs 1: {worst:.2e}')


def test_every_sweep_setting_is_a_flag_of_launch_train():
  # A separate process: launch modules define flags (e.g. --workdir) that
  # other test modules' launch imports define too.
  names = subprocess.run(
      [sys.executable, '-c', 'import json; from absl import flags; '
       'import launch.train; print(json.dumps(list(flags.FLAGS)))'],
      check=True, capture_output=True, text=True,
      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  flag_names = set(json.loads(names.stdout.strip().splitlines()[-1]))
  assert set(settings.names()) - flag_names == set()
