"""Seed scaling: N seeds vmapped in one program against N runs one after
another, appended to BENCHMARKS.md.

The workload is a named experiment's CS285-sized DAgger run (by default
`walker2d_bc_vs_dagger`'s `DAgger` on an accelerator,
`tightrope_bc_vs_dagger`'s on a CPU, where Walker2d is too slow for many seeds), built as one program by
`core.scan_train`: demonstrations, every iteration's rollout, relabelling,
aggregation, training and evaluation. For each N it times the compilation
and the run of `jax.vmap(train)` over N seeds. One after another means the
one-seed program, compiled once, run for seed after seed: it is run for up
to `--max_sequential` seeds and, beyond that, its mean run time is
multiplied by N (the table says which). Env steps are the runs' own
`Total_EnvSteps` (demonstrations, collection and evaluation).

  python -m launch.bench_seeds                          # sized for the device
  python -m launch.bench_seeds --experiment=walker2d_bc_vs_dagger --seeds=1,8,64,256
"""

import importlib
import json
import os
import time

import jax
import numpy as np
from absl import app, flags

from il_jax import experiment
from il_jax.algorithms import core
from launch import reporting
import launch

_EXPERIMENT = flags.DEFINE_string(
    'experiment', None, 'Experiment whose run to time; default '
    'walker2d_bc_vs_dagger on an accelerator, tightrope_bc_vs_dagger on a '
    'CPU.')
_RUN = flags.DEFINE_string('run', 'DAgger', 'Label of the run in the '
                           "experiment's RUNS.")
_SEEDS = flags.DEFINE_list(
    'seeds', None, 'Numbers of vmapped seeds; default 1,5,8,64,256 on an '
    'accelerator, 1,8,64 on a CPU.')
_MAX_SEQUENTIAL = flags.DEFINE_integer(
    'max_sequential', 8, 'Run at most this many seeds one after another; '
    'beyond it the one-seed run time is multiplied by N.')
_OUT = flags.DEFINE_string('out', 'bench_out/seed_scaling.json',
                           'JSON results.')
_MARKDOWN = flags.DEFINE_string('markdown', 'BENCHMARKS.md',
                                'File to append result rows to ("" for none).')


def compiled_train(run_config: experiment.RunConfig, num_seeds: int):
  """`(compiled, compile_s)`: the run's whole training program vmapped over
  `num_seeds` keys, compiled ahead of time."""
  _, _, _, fns = experiment.build(run_config)
  train = jax.vmap(core.scan_train(fns, run_config.imitation.n_iter))
  keys = jax.random.split(jax.random.PRNGKey(0), num_seeds)
  start = time.perf_counter()
  compiled = jax.jit(train).lower(keys).compile()
  return compiled, time.perf_counter() - start


def timed_run(compiled, keys: jax.Array) -> tuple[float, int]:
  """`(seconds, env_steps)` of one call of a compiled `vmap(train)`."""
  start = time.perf_counter()
  _, metrics = jax.block_until_ready(compiled(keys))
  seconds = time.perf_counter() - start
  return seconds, int(np.asarray(metrics['Total_EnvSteps'])[:, -1].sum())


def measure_vmapped(program, num_seeds: int) -> dict:
  """`program` is `compiled_train(run_config, num_seeds)`."""
  compiled, compile_s = program
  keys = jax.random.split(jax.random.PRNGKey(1), num_seeds)
  timed_run(compiled, keys)  # first call: transfers and allocation
  run_s, env_steps = timed_run(compiled, keys)
  return {'seeds': num_seeds, 'compile_s': compile_s, 'run_s': run_s,
          'env_steps': env_steps, 'env_steps_per_s': env_steps / run_s}


def measure_sequential(one_seed_program, max_seeds: int) -> dict:
  """The one-seed program (`compiled_train(run_config, 1)`) run for
  `max_seeds` seeds one after another."""
  compiled, compile_s = one_seed_program
  keys = jax.random.split(jax.random.PRNGKey(1), max_seeds)
  timed_run(compiled, keys[:1])
  runs = [timed_run(compiled, keys[i:i + 1]) for i in range(max_seeds)]
  seconds = np.array([s for s, _ in runs])
  return {'compile_s': compile_s, 'seeds_run': max_seeds,
          'mean_run_s': float(seconds.mean()),
          'env_steps_per_seed': float(np.mean([n for _, n in runs]))}


def main(_):
  launch.quiet_logs()
  name = _EXPERIMENT.value or (
      'walker2d_bc_vs_dagger' if launch.on_accelerator()
      else 'tightrope_bc_vs_dagger')
  module = importlib.import_module(f'experiments.{name}')
  if _RUN.value not in module.RUNS:
    raise app.UsageError(f'--run={_RUN.value!r} is not a run of {name}; it '
                         f'has {list(module.RUNS)}.')
  run_config = module.RUNS[_RUN.value]
  seed_counts = ([int(n) for n in _SEEDS.value] if _SEEDS.value else
                 [1, 5, 8, 64, 256] if launch.on_accelerator() else [1, 8, 64])
  if min(seed_counts) < 1 or _MAX_SEQUENTIAL.value < 1:
    raise app.UsageError('--seeds and --max_sequential must be positive.')
  # One seed first: every other row is compared with it. The rest run in the
  # order given, so a time-limited machine measures the most wanted first.
  seed_counts = [1] + [n for n in dict.fromkeys(seed_counts) if n != 1]

  # The one-seed program serves both the sequential runs and N = 1.
  one_seed_program = compiled_train(run_config, 1)
  sequential = measure_sequential(one_seed_program,
                                  min(_MAX_SEQUENTIAL.value, max(seed_counts)))
  print(json.dumps(sequential), flush=True)
  one = None
  results = []
  for n in seed_counts:
    result = measure_vmapped(
        one_seed_program if n == 1 else compiled_train(run_config, n), n)
    result['sequential_s'] = (sequential['compile_s'] +
                              n * sequential['mean_run_s'])
    result['sequential_measured'] = n <= sequential['seeds_run']
    if n == 1:
      one = result
    result['run_s_over_one_seed'] = (result['run_s'] / one['run_s']
                                     if n != 1 else None)
    print(json.dumps(result), flush=True)
    results.append(result)
    # Written as measured, so a run stopped at a time limit keeps its rows.
    os.makedirs(os.path.dirname(_OUT.value) or '.', exist_ok=True)
    with open(_OUT.value, 'w') as f:
      json.dump({'experiment': name, 'run': _RUN.value,
                 'sequential': sequential, 'vmapped': results}, f, indent=2)
    if _MARKDOWN.value:
      reporting.append_rows(
          _MARKDOWN.value, reporting.SEED_SCALING, _HEADER,
          [_row(f'{name} ({_RUN.value})', result)])


_HEADER = ['experiment', 'seeds', 'compile s', 'run s', 'compile + run s',
           'env-steps/s', "run s / one seed's", 'one after another s',
           'device', 'date', 'command']


def _row(experiment_name: str, r: dict) -> list[str]:
  return [experiment_name, r['seeds'], f"{r['compile_s']:.1f}",
          f"{r['run_s']:.2f}", f"{r['compile_s'] + r['run_s']:.1f}",
          f"{r['env_steps_per_s']:,.0f}",
          '-' if r['run_s_over_one_seed'] is None
          else f"{r['run_s_over_one_seed']:.2f}",
          f"{r['sequential_s']:.1f}" +
          ('' if r['sequential_measured'] else ' (extrapolated)'),
          reporting.device_name(), reporting.today(), reporting.command_line()]


if __name__ == '__main__':
  launch.run_app(main)
