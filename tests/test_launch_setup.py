"""`launch.configure_jax`: GPU XLA flags on a GPU only, and the persistent
compilation cache. Each case runs in its own process, before jax starts."""

import json
import os
import subprocess
import sys

from launch_scripts import REPO

_PROBE = '''
import json, os, sys
from absl import flags
import launch
flags.FLAGS(["prog"] + sys.argv[2:])
if sys.argv[1] == "gpu":
  launch.has_cuda_plugin = lambda: True
launch.configure_jax()
launch.configure_jax()  # idempotent
import jax
print(json.dumps({"xla_flags": os.environ.get("XLA_FLAGS", ""),
                  "cache": jax.config.jax_compilation_cache_dir}))
'''


def _configure(machine, *flags, xla_flags=''):
  env = dict(os.environ, XLA_FLAGS=xla_flags)
  result = subprocess.run([sys.executable, '-c', _PROBE, machine, *flags],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
  return json.loads(result.stdout.strip().splitlines()[-1])


def test_gpu_flags_are_added_once_on_a_gpu_and_never_on_a_cpu(tmp_path):
  import launch  # pylint: disable=g-import-not-at-top
  cache = f'--compilation_cache={tmp_path}'
  assert not launch.has_cuda_plugin()  # the test machine has no GPU
  on_cpu = _configure('cpu', cache, xla_flags='--xla_dump_to=/tmp/x')
  assert on_cpu['xla_flags'] == '--xla_dump_to=/tmp/x'
  on_gpu = _configure('gpu', cache, xla_flags='--xla_dump_to=/tmp/x')
  assert on_gpu['xla_flags'].split() == ['--xla_dump_to=/tmp/x',
                                         *launch.GPU_XLA_FLAGS]
  assert _configure('gpu', cache, '--nogpu_xla_flags')['xla_flags'] == ''
  # A flag the user set keeps the user's value.
  own = '--xla_gpu_graph_min_graph_size=5'
  assert _configure('gpu', cache, xla_flags=own)['xla_flags'].split().count(
      own) == 1


def test_the_compilation_cache_is_on_by_default_and_can_be_turned_off(
    tmp_path):
  assert _configure('cpu', f'--compilation_cache={tmp_path}/c')['cache'] == (
      f'{tmp_path}/c')
  assert os.path.isdir(tmp_path / 'c')
  assert _configure('cpu', '--compilation_cache=')['cache'] in (None, '')


def test_a_run_fills_the_cache_that_a_second_run_reads(tmp_path):
  cache = tmp_path / 'cache'
  args = ['-m', 'launch.train', '--algo=bc', '--env=tightrope', '--n_iter=1',
          '--num_envs=2', '--expert_steps_per_env=20', '--eval_episodes=2',
          '--train_steps_per_iter=5', f'--compilation_cache={cache}']
  for name in ('first', 'second'):
    subprocess.run([sys.executable, *args, f'--workdir={tmp_path / name}'],
                   cwd=REPO, capture_output=True, text=True, timeout=300,
                   check=True)
    if name == 'first':
      entries = set(os.listdir(cache))
      assert entries  # the run's programs were written
  # The identical second run compiled nothing new: it loaded every program.
  assert set(os.listdir(cache)) == entries
