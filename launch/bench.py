"""Raw environment throughput: random actions, `lax.scan` over vmapped envs.

For each solver preset and batch size, times the compilation and the run of
`--num_steps` steps of the wrapped (episode limit + auto-reset) environment,
writes JSON and appends one row per configuration to BENCHMARKS.md.

  python -m launch.bench                               # sized for the device
  python -m launch.bench --batch_sizes=1024,65536 --num_steps=1000
"""

import json
import os
import time

import jax
from absl import app, flags

from il_jax import envs
from il_jax import rollout
from launch import reporting

_ENV = flags.DEFINE_string('env', 'walker2d', 'Environment name.')
_PRESETS = flags.DEFINE_list('presets', ['fast', 'faithful'],
                             'Walker2d solver presets to measure.')
_BATCH_SIZES = flags.DEFINE_list(
    'batch_sizes', None,
    'Numbers of parallel environments; default 1024..65536 on an '
    'accelerator, 16,64 on a CPU.')
_NUM_STEPS = flags.DEFINE_integer(
    'num_steps', None, 'Steps per timed run; default 1000 on an accelerator, '
    '50 on a CPU.')
_REPEATS = flags.DEFINE_integer('repeats', 2, 'Timed runs; the best counts.')
_OUT = flags.DEFINE_string('out', 'bench_out/env_throughput.json',
                           'JSON results.')
_MARKDOWN = flags.DEFINE_string('markdown', 'BENCHMARKS.md',
                                'File to append result rows to ("" for none).')


def _on_accelerator() -> bool:
  return jax.default_backend() != 'cpu'


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


def main(_):
  if _BATCH_SIZES.value:
    batch_sizes = [int(b) for b in _BATCH_SIZES.value]
  else:
    batch_sizes = [1024, 4096, 16384, 65536] if _on_accelerator() else [16, 64]
  num_steps = _NUM_STEPS.value or (1000 if _on_accelerator() else 50)
  option_sets = ([{'solver': p} for p in _PRESETS.value]
                 if _ENV.value == 'walker2d' else [{}])

  results = []
  for options in option_sets:
    for batch_size in batch_sizes:
      result = measure(_ENV.value, options, batch_size, num_steps,
                       _REPEATS.value)
      print(json.dumps(result), flush=True)
      results.append(result)

  os.makedirs(os.path.dirname(_OUT.value) or '.', exist_ok=True)
  with open(_OUT.value, 'w') as f:
    json.dump(results, f, indent=2)
  if _MARKDOWN.value:
    reporting.append_rows(
        _MARKDOWN.value, 'Environment throughput (random actions)',
        ['env', 'preset', 'envs', 'steps', 'compile s', 'env-steps/s',
         'device', 'date', 'command'],
        [[r['env'], r.get('solver', '-'), r['batch_size'], r['num_steps'],
          f"{r['compile_s']:.1f}", f"{r['env_steps_per_s']:,.0f}",
          reporting.device_name(), reporting.today(),
          reporting.command_line()] for r in results])


if __name__ == '__main__':
  app.run(main)
