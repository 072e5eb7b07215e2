"""The prepared GPU session: budget, skipping, returned files, valid flags."""

import json
import os
import re
import subprocess
import sys
import tarfile
import textwrap

import pytest

from launch import device_session
from launch_scripts import REPO
from launch.device_session import Step

# A stand-in measurement: appends a row to BENCHMARKS.md, then sleeps or
# fails as told; prints the wall-clock limit it was given.
_FAKE_MODULE = textwrap.dedent('''
    import sys, time
    name, seconds, code = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    print(name, 'limit', [a for a in sys.argv[4:]], flush=True)
    with open('BENCHMARKS.md', 'a') as f:
      f.write(f'| {name} |\\n')
    time.sleep(seconds)
    sys.exit(code)
''')

# What the device tool brings back: at most 8 plain files, names in letters,
# digits, '.', '_' and '-'.
_RETURNABLE_NAME = re.compile(r'^[A-Za-z0-9._-]+$')


@pytest.fixture
def fake_tree(tmp_path, monkeypatch):
  """A working directory whose `fake_measure` module stands in for a step."""
  (tmp_path / 'fake_measure.py').write_text(_FAKE_MODULE)
  monkeypatch.chdir(tmp_path)
  monkeypatch.setenv('PYTHONPATH', str(tmp_path))
  return tmp_path


def _fake(name, seconds=0.0, code=0, min_s=0.0, **kwargs):
  return Step(name, 0, 'fake_measure', (name, str(seconds), str(code)),
              min_s=min_s, what=name, **kwargs)


def test_budget_kills_the_overrunning_step_and_skips_what_no_longer_fits(
    fake_tree):
  steps = (_fake('quick'), _fake('broken', code=3), _fake('endless', 600),
           _fake('needs_time', min_s=30), _fake('wants_limit',
                                                 wallclock_flag='--limit'))
  out = str(fake_tree / 'out')
  summary = device_session.run_plan(steps, budget_s=6.0, out=out,
                                    margin_s=1.0)

  status = {s['name']: s['status'] for s in summary['steps']}
  assert status == {'quick': 'done', 'broken': 'failed',
                    'endless': 'timed out', 'needs_time': 'skipped',
                    'wants_limit': 'skipped'}
  assert summary['steps'][1]['returncode'] == 3
  # Killed within its timeout: the budget less the margin.
  assert summary['elapsed_s'] < 6.0
  files = sorted(os.listdir(out))
  assert files == ['BENCHMARKS.md', 'artifacts.tar.gz', 'session.log',
                   'summary.json']
  assert all(_RETURNABLE_NAME.match(f) for f in files)
  # The rows written by the steps that ran (the killed one's included).
  assert open(os.path.join(out, 'BENCHMARKS.md')).read().split() == [
      '|', 'quick', '|', '|', 'broken', '|', '|', 'endless', '|']
  with open(os.path.join(out, 'summary.json')) as f:
    assert json.load(f)['steps'][3]['reason'].endswith('needs 30 s')


def test_a_step_with_a_wallclock_flag_is_given_the_budget_left(fake_tree):
  step = _fake('limited', wallclock_flag='--limit', wallclock_reserve_s=20)
  out = str(fake_tree / 'out')
  device_session.run_plan((step,), budget_s=100.0, out=out, margin_s=5.0)
  log = open(os.path.join(out, 'session.log')).read()
  limit = int(re.search(r"'--limit=(\d+)'", log).group(1))
  assert 70 <= limit <= 75  # 100 s less margin and reserve, minus start-up


def test_artifacts_hold_the_experiment_tables_and_the_expert(fake_tree):
  experiment_dir = fake_tree / 'experiments' / device_session.GPU_EXPERIMENT
  experiment_dir.mkdir(parents=True)
  (experiment_dir / 'results.md').write_text('table')
  expert_dir = fake_tree / device_session.PPO_WORKDIR / 'expert'
  expert_dir.mkdir(parents=True)
  (expert_dir / 'card.json').write_text('{}')
  out = str(fake_tree / 'out')
  device_session.run_plan((_fake('quick'),), budget_s=30.0, out=out,
                          margin_s=1.0)
  with tarfile.open(os.path.join(out, 'artifacts.tar.gz')) as tar:
    names = tar.getnames()
  assert f'experiments/{device_session.GPU_EXPERIMENT}/results.md' in names
  assert f'{device_session.PPO_WORKDIR}/expert/card.json' in names


def test_select_keeps_the_order_given_and_names_unknown_steps():
  names = [s.name for s in device_session.select(['ppo_expert',
                                                   'env_throughput'])]
  assert names == ['ppo_expert', 'env_throughput']
  with pytest.raises(ValueError, match=r"\['warp_drive'\].*env_throughput"):
    device_session.select(['env_throughput', 'warp_drive'])


def test_every_planned_command_parses_with_its_module(tmp_path):
  """A mistyped flag would cost a GPU session its slot; catch it here."""
  check = ('import importlib, sys\n'
           'from absl import flags\n'
           'importlib.import_module(sys.argv[1])\n'
           'flags.FLAGS(["prog"] + sys.argv[2:])\n'
           'if sys.argv[1] == "launch.reproduce":\n'
           '  assert importlib.import_module(\n'
           '      "experiments." + flags.FLAGS.experiment).RUNS\n')
  processes = []
  for step in device_session.STEPS:
    argv = device_session.command(step, left_s=500.0)
    processes.append((step.name, subprocess.Popen(
        [sys.executable, '-c', check, argv[2], *argv[3:]],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)))
  for name, process in processes:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, f'{name}: {output[-2000:]}'


def test_carried_wheels_are_the_versions_setup_py_pins():
  setup = open(os.path.join(REPO, 'setup.py')).read()
  # Unconditional pins only ('jax==0.10.2; python_version ...' is excluded).
  pins = dict(re.findall(r"'([A-Za-z0-9_.-]+)==([0-9.]+)'", setup))
  carried = {}
  for line in open(os.path.join(REPO, 'launch', 'device_requirements.txt')):
    line = line.split('#')[0].strip()
    if line:
      name, version = line.split('==')
      carried[name] = version
  needed = {'brax', 'mujoco', 'mujoco-mjx', 'flax', 'optax', 'chex',
            'orbax-checkpoint'}
  assert needed <= set(carried) and needed <= set(pins)
  assert {n: carried[n] for n in pins if n in carried} == {
      n: pins[n] for n in pins if n in carried}


def test_a_step_an_accelerator_has_measured_is_skipped_unless_asked(
    fake_tree):
  table = ['## Throughput', '', '| envs | rate | device |', '|---|---|---|',
           '| 16 | 555 | cpu (2 cores) |']
  (fake_tree / 'BENCHMARKS.md').write_text('\n'.join(table) + '\n')
  (fake_tree / 'RESULTS.md').write_text('## GPU experiment\n\ntext\n')
  on_cpu = _fake('on_cpu', measured_in=('BENCHMARKS.md', 'Throughput'))
  in_results = _fake('in_results',
                     measured_in=('RESULTS.md', 'GPU experiment'))
  missing = _fake('missing', measured_in=('RESULTS.md', 'Other'))
  assert not device_session.already_measured(on_cpu)
  assert device_session.already_measured(in_results)
  assert not device_session.already_measured(missing)
  with open(fake_tree / 'BENCHMARKS.md', 'a') as f:
    f.write('| 1024 | 2,300,000 | NVIDIA H200 x1 |\n')
  assert device_session.already_measured(on_cpu)

  out = str(fake_tree / 'out')
  summary = device_session.run_plan((on_cpu, missing), budget_s=30.0,
                                    out=out, margin_s=1.0)
  assert [s['status'] for s in summary['steps']] == ['skipped', 'done']
  assert 'already measured' in summary['steps'][0]['reason']
  summary = device_session.run_plan((on_cpu,), budget_s=30.0, out=out,
                                    margin_s=1.0, remeasure=True)
  assert summary['steps'][0]['status'] == 'done'
