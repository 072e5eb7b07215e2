"""What GCBC's data cost on `reach`: the play rollout and hindsight
relabelling, printed as BENCHMARKS.md rows.

For each batch size B: env steps/s of GCBC's play behaviour stepping B
`reach` environments for `--num_steps` steps (one `rollout.run`, auto-reset,
waypoints and noise included), and rows/s of `relabel_goals` ('future') on
that rollout's `[num_steps, B]` arrays. The best of `--repeats` timed runs
counts; compilation is excluded.

  python -m tools.bench_goals --batch_sizes=64,1024
"""

import time

import jax
from absl import app, flags

from il_jax import envs, rollout
from il_jax.algorithms import gcbc
from il_jax.data import relabel
from launch import reporting
import launch

_BATCH_SIZES = flags.DEFINE_list('batch_sizes', ['64', '1024'],
                                 'Numbers of parallel environments.')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 200, 'Steps per rollout.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Timed runs; the best counts.')


def _best_seconds(fn, *args) -> float:
  jax.block_until_ready(fn(*args))  # compile
  best = float('inf')
  for _ in range(_REPEATS.value):
    began = time.perf_counter()
    jax.block_until_ready(fn(*args))
    best = min(best, time.perf_counter() - began)
  return best


def main(_):
  launch.quiet_logs()
  env = envs.make('reach')
  wrapped = envs.wrap(env, episode_length=env.default_episode_length)
  actor = gcbc.with_relabel_draws(
      gcbc.play_actor(wrapped, env.expert_action, noise_std=0.3))
  num_steps = _NUM_STEPS.value
  print('| what | B | T | steps (rows) / s | device | date |')
  print('|---|---|---|---|---|---|')
  for batch_size in map(int, _BATCH_SIZES.value):
    play = jax.jit(lambda key, b=batch_size: rollout.run(
        wrapped, [rollout.part(actor, key, b, num_steps)])[0])
    key = jax.random.PRNGKey(0)
    seconds = _best_seconds(play, key)
    steps = play(key)
    relabelled = jax.jit(lambda s: relabel.relabel_goals(
        s.obs, s.final_obs, s.done, s.record[1], 'future', env.goal_slice,
        env.achieved_goal))
    relabel_seconds = _best_seconds(relabelled, steps)
    rows = batch_size * num_steps
    for what, took in (('play rollout (env steps)', seconds),
                       ("relabel_goals 'future' (rows)", relabel_seconds)):
      print(f'| {what} | {batch_size} | {num_steps} | {rows / took:,.0f} | '
            f'{reporting.device_name()} | {reporting.today()} |')


if __name__ == '__main__':
  launch.run_app(main)
