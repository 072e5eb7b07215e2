"""The environments of one member split over devices: same results, and the
environment state really is split.

Runs in a subprocess with 4 simulated CPU devices
(`--xla_force_host_platform_device_count=4`) and compares with the same run
on this process's single device.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax

from il_jax import experiment
from il_jax.config import ImitationConfig

# One seed, 8 environments: the mesh is 1 member group x 4 env devices.
CONFIG = experiment.RunConfig(
    algo='dagger', env='tightrope', policy='mlp', num_seeds=1,
    policy_options=(('size', 16),),
    imitation=ImitationConfig(
        n_iter=3, num_envs=8, expert_steps_per_env=20, steps_per_iter=160,
        train_steps_per_iter=20, train_batch_size=16, eval_episodes=8,
        episode_length=20))

_SCRIPT = textwrap.dedent('''
    import json
    import jax
    from jax.sharding import PartitionSpec
    from il_jax import envs, experiment
    from il_jax.config import ImitationConfig
    from tests.test_sharding import CONFIG
    assert jax.device_count() == 4, jax.devices()
    mesh = experiment.run_mesh(1)
    assert dict(mesh.shape) == {{'members': 1, 'envs': 4}}, mesh
    env = envs.wrap(envs.make('tightrope'), episode_length=20)
    reset = jax.jit(env.reset)
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    with jax.set_mesh(mesh):
      state = reset(keys)
    assert state.obs.sharding.spec == PartitionSpec('envs'), state.obs.sharding
    assert len(state.obs.sharding.device_set) == 4
    # Without a mesh in context nothing is split.
    assert reset(keys).obs.sharding.is_fully_replicated
    rows = experiment.run(CONFIG, {workdir!r}, verbose=False)
    print('ROWS=' + json.dumps(rows))
''')


def test_one_member_split_over_four_devices_equals_one_device(tmp_path):
  assert jax.device_count() == 1
  expected = experiment.run(CONFIG, str(tmp_path / 'one'), verbose=False)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = {**os.environ, 'JAX_PLATFORMS': 'cpu', 'PYTHONPATH': root,
         'XLA_FLAGS': '--xla_force_host_platform_device_count=4'}
  result = subprocess.run(
      [sys.executable, '-c',
       _SCRIPT.format(workdir=str(tmp_path / 'four'))],
      env=env, cwd=root, capture_output=True, text=True, timeout=300,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  line = next(l for l in result.stdout.splitlines() if l.startswith('ROWS='))
  sharded = json.loads(line[len('ROWS='):])
  assert len(sharded) == len(expected) == 3
  # Each device steps 2 of the 8 environments; the dataset and training are
  # replicated, so results agree to float32 rounding (reductions over the
  # split environments are ordered differently).
  from metric_rows import assert_rows_close  # pylint: disable=g-import-not-at-top
  assert_rows_close(sharded, expected)
