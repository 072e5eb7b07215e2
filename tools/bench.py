"""Environment and DAgger-loop throughput, appended to BENCHMARKS.md.

Raw stepping: for each solver preset and batch size, times the compilation
and the run of `--num_steps` random-action steps of the wrapped (episode
limit + auto-reset) environment under `lax.scan`. DAgger loop (`--loop`):
times one whole DAgger iteration (roll out, relabel, aggregate, train,
evaluate) at the same batch and reports its env-steps/s as a fraction of raw
stepping. Writes JSON and appends one row per configuration.

  python -m tools.bench                               # sized for the device
  python -m tools.bench --batch_sizes=1024,65536 --num_steps=1000
"""

import json
import os
import time

import jax
from absl import app, flags

import jax.numpy as jnp

from il_jax import envs
from il_jax import policies
from il_jax import rollout
from il_jax.algorithms import dagger
from il_jax.config import ImitationConfig
from il_jax.envs.walker2d import SOLVER_PRESETS
from il_jax.experts import registry as experts
from launch import reporting
import launch

_ENV = flags.DEFINE_string('env', 'walker2d', 'Environment name.')
_PRESETS = flags.DEFINE_list('presets', list(SOLVER_PRESETS),
                             'Walker2d solver presets to measure.')
_BATCH_SIZES = flags.DEFINE_list(
    'batch_sizes', None,
    'Numbers of parallel environments; default 1024..65536 on an '
    'accelerator, 16,64 on a CPU.')
_NUM_STEPS = flags.DEFINE_integer(
    'num_steps', None, 'Steps per timed run; default 1000 on an accelerator, '
    '50 on a CPU.')
_REPEATS = flags.DEFINE_integer('repeats', 2, 'Timed runs; the best counts.')
_LOOP = flags.DEFINE_bool(
    'loop', True, 'Also time full DAgger iterations (roll out, relabel, '
    'aggregate, train, evaluate) against raw stepping at the same batch.')
_LOOP_BATCH_SIZES = flags.DEFINE_list(
    'loop_batch_sizes', None, 'Batch sizes (a subset of --batch_sizes) at '
    'which to time the DAgger loop; default all of them.')
_TRAIN_STEPS = flags.DEFINE_integer('train_steps_per_iter', 1000,
                                    'Gradient steps per DAgger iteration.')
_OUT = flags.DEFINE_string('out', 'bench_out/env_throughput.json',
                           'JSON results.')
_MARKDOWN = flags.DEFINE_string('markdown', 'BENCHMARKS.md',
                                'File to append result rows to ("" for none).')


def measure(env_name: str, options: dict, batch_size: int,
            num_steps: int, repeats: int) -> dict:
  """Compile seconds and env-steps/s of one configuration."""
  env = envs.wrap(envs.make(env_name, **options),
                  episode_length=envs.env_class(env_name).default_episode_length)
  run = jax.jit(rollout.make_episode_summary_rollout(
      env, rollout.uniform_random_policy(env.action_size), batch_size,
      num_steps))
  key = jax.random.PRNGKey(0)
  start = time.perf_counter()
  compiled = run.lower(key).compile()
  compile_s = time.perf_counter() - start
  best = float('inf')
  for repeat in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(compiled(jax.random.PRNGKey(repeat + 1)))
    best = min(best, time.perf_counter() - start)
  return {
      'env': env_name, **options, 'batch_size': batch_size,
      'num_steps': num_steps, 'compile_s': compile_s, 'run_s': best,
      'env_steps_per_s': batch_size * num_steps / best,
  }


def stand_in_expert(env):
  """The shipped expert, or, for throughput only, a fixed random 2x256 MLP
  (the cost of a real expert query, not its behaviour)."""
  try:
    return experts.load(env.__class__.__name__.lower()), 'shipped'
  except ValueError:
    pass
  keys = jax.random.split(jax.random.PRNGKey(42), 3)
  sizes = [env.observation_size, 256, 256, env.action_size]
  weights = [jax.random.normal(k, (m, n)) / m**0.5
             for k, m, n in zip(keys, sizes[:-1], sizes[1:])]

  def expert(obs):
    for w in weights[:-1]:
      obs = jnp.tanh(obs @ w)
    return jnp.tanh(obs @ weights[-1])

  return expert, 'random 2x256 stand-in'


def measure_dagger_loop(env_name: str, options: dict, num_envs: int,
                        num_steps: int, raw_steps_per_s: float) -> dict:
  """Env-steps/s of whole DAgger iterations, as a fraction of raw stepping.

  One iteration rolls out `num_envs` learners for `num_steps` steps,
  relabels and aggregates them, trains and evaluates over `num_envs`
  episodes; its env steps are the collected and the evaluation steps.
  """
  env = envs.make(env_name, **options)
  length = envs.env_class(env_name).default_episode_length
  expert, expert_kind = stand_in_expert(env)
  config = ImitationConfig(
      n_iter=3, num_envs=num_envs, expert_steps_per_env=num_steps,
      steps_per_iter=num_envs * num_steps,
      train_steps_per_iter=_TRAIN_STEPS.value, eval_episodes=num_envs,
      episode_length=length)
  policy = policies.make('mlp', env.observation_size, env.action_size)
  fns = dagger.make_train_fns(config, env, policy, expert)
  state = jax.jit(fns.init)(jax.random.PRNGKey(0))
  iteration = jax.jit(fns.iteration)
  start = time.perf_counter()
  state, _ = iteration(state, 1)  # compiles the collecting branch
  jax.block_until_ready(state)
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  state, _ = iteration(state, 2)
  jax.block_until_ready(state)
  seconds = time.perf_counter() - start
  steps = num_envs * num_steps + num_envs * length
  return {
      'env': env_name, **options, 'batch_size': num_envs,
      'num_steps': num_steps, 'expert': expert_kind,
      'train_steps_per_iter': _TRAIN_STEPS.value,
      'first_iteration_s': compile_s, 'iteration_s': seconds,
      'loop_env_steps_per_s': steps / seconds,
      'fraction_of_raw': steps / seconds / raw_steps_per_s,
  }


_RAW_HEADER = ['env', 'preset', 'envs', 'steps', 'compile s', 'env-steps/s',
               'device', 'date', 'command']
_LOOP_HEADER = ['env', 'preset', 'envs', 'steps/iter/env', 'train steps/iter',
                'expert', 'iteration s', 'loop env-steps/s', 'fraction of raw',
                'device', 'date', 'command']


def _raw_row(r: dict) -> list[str]:
  return [r['env'], r.get('solver', '-'), r['batch_size'], r['num_steps'],
          f"{r['compile_s']:.1f}", f"{r['env_steps_per_s']:,.0f}",
          reporting.device_name(), reporting.today(), reporting.command_line()]


def _loop_row(r: dict) -> list[str]:
  return [r['env'], r.get('solver', '-'), r['batch_size'], r['num_steps'],
          r['train_steps_per_iter'], r['expert'], f"{r['iteration_s']:.2f}",
          f"{r['loop_env_steps_per_s']:,.0f}",
          f"{100 * r['fraction_of_raw']:.0f} %", reporting.device_name(),
          reporting.today(), reporting.command_line()]


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  if _BATCH_SIZES.value:
    batch_sizes = [int(b) for b in _BATCH_SIZES.value]
  else:
    batch_sizes = ([1024, 4096, 16384, 65536] if launch.on_accelerator()
                   else [16, 64])
  loop_batch_sizes = ([int(b) for b in _LOOP_BATCH_SIZES.value]
                      if _LOOP_BATCH_SIZES.value else batch_sizes)
  missing = sorted(set(loop_batch_sizes) - set(batch_sizes))
  if missing:
    raise app.UsageError(f'--loop_batch_sizes {missing} are not in '
                         f'--batch_sizes {batch_sizes}: the loop is compared '
                         'with raw stepping at the same batch.')
  num_steps = _NUM_STEPS.value or (1000 if launch.on_accelerator() else 50)
  option_sets = ([{'solver': p} for p in _PRESETS.value]
                 if _ENV.value == 'walker2d' else [{}])

  # Every result is written as soon as it is measured, so a run stopped at a
  # machine's time limit keeps what it finished.
  results, loop_results = [], []

  def record(result, measured, section, header, row):
    print(json.dumps(result), flush=True)
    measured.append(result)
    os.makedirs(os.path.dirname(_OUT.value) or '.', exist_ok=True)
    with open(_OUT.value, 'w') as f:
      json.dump({'raw': results, 'dagger_loop': loop_results}, f, indent=2)
    if _MARKDOWN.value:
      reporting.append_rows(_MARKDOWN.value, section, header, [row(result)])

  for options in option_sets:
    for batch_size in batch_sizes:
      record(measure(_ENV.value, options, batch_size, num_steps,
                     _REPEATS.value),
             results, reporting.RAW_THROUGHPUT, _RAW_HEADER, _raw_row)
  if not _LOOP.value:
    return
  for raw in list(results):
    if raw['batch_size'] in loop_batch_sizes:
      options = {k: raw[k] for k in ('solver',) if k in raw}
      record(measure_dagger_loop(_ENV.value, options, raw['batch_size'],
                                 raw['num_steps'], raw['env_steps_per_s']),
             loop_results, reporting.LOOP_THROUGHPUT, _LOOP_HEADER,
             _loop_row)


if __name__ == '__main__':
  launch.run_app(main)
