"""The GPU probe (`tools/gpu_probe.py`) at its CPU smoke sizes."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from il_jax import envs
from tools import gpu_probe

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _probe(out, *flags, timeout=900):
  result = subprocess.run(
      [sys.executable, '-m', 'tools.gpu_probe', '--smoke', f'--out={out}',
       *flags], cwd=REPO, capture_output=True, text=True, timeout=timeout)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return gpu_probe.read_rows(str(out)), result.stdout


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
  out = tmp_path_factory.mktemp('probe')
  # A budget no CPU run reaches: deadlines have their own test below.
  return out, *_probe(out, '--parts=warp,step_gpu,cs285,dagger_8192',
                      '--budget_s=1500', timeout=1800)


def test_every_part_writes_a_measured_row(smoke):
  out, rows, stdout = smoke
  by_part = {r['part']: r for r in rows}
  assert set(by_part) == {'warp', 'step_gpu', 'cs285', 'dagger_8192'}
  # No CUDA plugin here: the GPU flags must not be applied on a CPU.
  assert not any(r['xla_flags'] for r in rows)
  step = by_part['step_gpu']
  assert step['status'] == 'ok' and step['env_steps_per_s'] > 0
  assert step['loop_trips_per_step'] == envs.make(
      'walker2d').loop_trips_per_step
  # env_steps_per_s is rounded to an integer: on a slow CPU (tens of ms
  # per step) that is more than 0.1 % of it.
  assert abs(step['env_steps_per_s'] - 1e3 * step['batch'] /
             step['ms_per_step']) <= 1
  cs285 = by_part['cs285']
  # Compilation and running are reported apart, and add up to less than
  # the whole run (which also builds, checkpoints and writes logs).
  assert 0 < cs285['compile_s'] and 0 < cs285['run_s']
  assert cs285['compile_s'] + cs285['run_s'] <= cs285['end_to_end_s']
  assert by_part['dagger_8192']['env_steps_per_s'] > 0
  warp = [r for r in rows if r['part'] == 'warp']
  assert all(r['impl'] == 'warp' for r in warp)
  if importlib.util.find_spec('warp') is None:
    assert [r['status'] for r in warp] == [warp[0]['status']]
    assert 'il_jax[warp]' in warp[0]['status']
  else:
    measured = [r for r in warp if r['status'] == 'ok']
    assert {r['setting'] for r in measured} == {'gpu', 'playground'}
    assert all(r['env_steps_per_s'] > 0 for r in measured)
  # Rows are printed as they come, and tabulated at the end.
  for part in by_part:
    assert f'"part": "{part}"' in stdout
  table = open(os.path.join(out, 'probe.md')).read()
  assert all(f'| {part} |' in table for part in by_part)


def test_the_policies_part_measures_every_registered_family(tmp_path):
  from il_jax import policies
  rows, stdout = _probe(tmp_path, '--parts=policies', '--budget_s=1500',
                        timeout=1800)
  families = list(policies.registered_names())
  assert {'gru', 'transformer'} <= set(families)
  # One row per family, in the registry's order, each measured.
  assert [r['family'] for r in rows] == families
  for r in rows:
    assert r['part'] == 'policies' and r['status'] == 'ok', r
    assert r['grad_steps_per_s'] > 0 and r['actions_per_s'] > 0, r
    assert r['batch'] == 8 and r['act_batch'] == 8
  assert '"family": "transformer"' in stdout
  table = open(os.path.join(tmp_path, 'probe.md')).read()
  header = ('| family | batch | gradient steps/s | mode actions/s | act batch '
            '| status | device |')
  assert header in table
  for family in families:
    assert f'| {family} | 8 |' in table


def test_a_part_past_the_deadline_is_killed_and_reported(tmp_path):
  rows, _ = _probe(tmp_path, '--parts=cs285', '--budget_s=5')
  assert rows == [{'part': 'cs285', 'status': 'killed at the deadline'}]


def test_an_unknown_part_is_refused_in_one_line(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m', 'tools.gpu_probe', '--smoke', f'--out={tmp_path}',
       '--parts=step_gpu,warp_drive'], cwd=REPO, capture_output=True,
      text=True, timeout=120)
  assert result.returncode != 0
  assert "unknown part 'warp_drive'" in result.stderr


def test_carried_wheels_are_the_versions_setup_py_pins():
  setup = open(os.path.join(REPO, 'setup.py')).read()
  # Unconditional pins only ('jax==0.10.2; python_version ...' is excluded).
  pins = dict(re.findall(r"'([A-Za-z0-9_.-]+)==([0-9.]+)'", setup))
  carried = {}
  for line in open(os.path.join(REPO, 'tools', 'device_requirements.txt')):
    line = line.split('#')[0].strip()
    if line:
      name, version = line.split('==')
      carried[name] = version
  needed = {'brax', 'mujoco', 'mujoco-mjx', 'flax', 'optax', 'chex',
            'orbax-checkpoint'}
  assert needed <= set(carried)
  for name in needed:
    assert carried[name] == pins[name], name
  warp_line = open(os.path.join(REPO, 'tools', 'device_requirements_warp.txt')
                   ).read().split('#')[-1].split('\n', 1)[1].strip()
  assert warp_line == f"warp-lang=={pins['warp-lang']}"
