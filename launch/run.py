"""`make run`: the default job, sized for the device it finds.

Until the DAgger loop lands this rolls out a uniformly random policy in
Walker2d (fast preset) over many environments and prints episode statistics
and throughput: a smoke test of the whole environment stack on real physics.

  python -m launch.run                  # 16 envs on a CPU, 4096 on a GPU
  python -m launch.run --num_envs=64 --num_steps=500
"""

import time

import jax
from absl import app, flags

from il_jax import envs
from il_jax import rollout

_NUM_ENVS = flags.DEFINE_integer(
    'num_envs', None, 'Parallel environments; default 4096 on an '
    'accelerator, 16 on a CPU.')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 1000, 'Steps per environment.')
_SOLVER = flags.DEFINE_enum('solver', 'fast', ['fast', 'faithful'],
                            'Walker2d solver preset.')
_SEED = flags.DEFINE_integer('seed', 0, 'Random seed.')


def main(_):
  on_accelerator = jax.default_backend() != 'cpu'
  num_envs = _NUM_ENVS.value or (4096 if on_accelerator else 16)
  env = envs.wrap(envs.make('walker2d', solver=_SOLVER.value),
                  episode_length=envs.env_class('walker2d').default_episode_length)
  print(f'Walker2d ({_SOLVER.value} solver), random policy: {num_envs} envs x '
        f'{_NUM_STEPS.value} steps on {jax.devices()[0]}')

  start = time.perf_counter()
  run = rollout.make_episode_summary_rollout(
      env, rollout.uniform_random_policy(env.action_size), num_envs,
      _NUM_STEPS.value)
  key = jax.random.PRNGKey(_SEED.value)
  compiled = jax.jit(run).lower(key).compile()
  print(f'compiled in {time.perf_counter() - start:.1f} s')
  start = time.perf_counter()
  summary = jax.device_get(compiled(key))
  seconds = time.perf_counter() - start
  print(f"episodes ended: {summary['num_episodes']}  "
        f"return: {summary['return_mean']:.1f} +- {summary['return_std']:.1f} "
        f"(min {summary['return_min']:.1f}, max {summary['return_max']:.1f})  "
        f"length: {summary['length_mean']:.1f}  "
        f"truncated: {100 * summary['truncated_fraction']:.0f} %")
  print(f'{num_envs * _NUM_STEPS.value / seconds:,.0f} env-steps/s '
        f'({seconds:.1f} s)')


if __name__ == '__main__':
  app.run(main)
