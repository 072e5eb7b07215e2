"""Training and acting cost per policy family, appended to BENCHMARKS.md.

For every family at Walker2d's sizes (17 observations, 6 actions) with its
default options (2x64 tanh networks): gradient steps/s of the family's loss
under Adam, `--train_steps` steps in one `lax.scan` on minibatches drawn from
a fixed random dataset on the device, and actions/s of its deterministic
`mode` on a batch of observations (what evaluation and DAgger's rollouts
pay). The best of `--repeats` timed runs counts; compilation is excluded.

  python -m tools.bench_policies                      # sized for the device
  python -m tools.bench_policies --batch_sizes=100,4096 --families=mlp,diffusion
"""

import contextlib
import time

import jax
import optax
from absl import app, flags

from il_jax import policies
from il_jax.types import Batch
from launch import reporting
import launch

_FAMILIES = flags.DEFINE_list('families', list(policies.registered_names()),
                              'Policy families to measure.')
_BATCH_SIZES = flags.DEFINE_list(
    'batch_sizes', None, 'Minibatch sizes; default 100 (CS285) and 4096 on '
    'an accelerator, 100 and 1024 on a CPU.')
_TRAIN_STEPS = flags.DEFINE_integer('train_steps', 1000,
                                    'Gradient steps per timed run.')
_ACT_BATCH = flags.DEFINE_integer('act_batch', 1024,
                                  'Observations per timed `mode` call.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Timed runs; the best counts.')
_MARKDOWN = flags.DEFINE_string('markdown', 'BENCHMARKS.md',
                                'File to append the rows to ("" for none).')

_OBS, _ACT = 17, 6
_DATASET = 100_000


def _best_seconds(fn, *args, repeats: int,
                  timing=contextlib.nullcontext) -> float:
  fn = fn.lower(*args).compile()
  best = float('inf')
  with timing():
    jax.block_until_ready(fn(*args))  # warm-up
    for _ in range(repeats):
      start = time.perf_counter()
      jax.block_until_ready(fn(*args))
      best = min(best, time.perf_counter() - start)
  return best


def measure_family(family: str, batch_size: int, *, train_steps: int = 1000,
                   act_batch: int = 1024, repeats: int = 3,
                   dataset_size: int = _DATASET,
                   timing=contextlib.nullcontext) -> dict:
  """Gradient steps/s and mode actions/s of `family` at Walker2d's sizes:
  the best of `repeats` timed runs of `train_steps` steps at `batch_size`,
  and of one `mode` call on `act_batch` observations. `timing()` is entered
  around each program's timed runs (after its compile), e.g. to hold a
  device lock."""
  policy = policies.make(family, _OBS, _ACT)
  optimizer = optax.adam(1e-3)
  data_key, init_key, run_key = jax.random.split(jax.random.PRNGKey(0), 3)
  obs_key, act_key = jax.random.split(data_key)
  # A history policy (k > 1) acts on windows [k, obs] of observations.
  window = (policy.history_length,) if policy.history_length > 1 else ()
  dataset = Batch(
      obs=jax.random.normal(obs_key, (dataset_size, *window, _OBS)),
      action=jax.random.uniform(act_key, (dataset_size, _ACT), minval=-1.0,
                                maxval=1.0))
  params = policy.init(init_key, dataset.obs[:1])
  opt_state = optimizer.init(params)

  @jax.jit
  def train(params, opt_state, key):
    def step(carry, key):
      params, opt_state = carry
      index_key, loss_key = jax.random.split(key)
      index = jax.random.randint(index_key, (batch_size,), 0, dataset_size)
      batch = jax.tree.map(lambda x: x[index], dataset)
      (loss, _), grads = jax.value_and_grad(policy.loss, has_aux=True)(
          params, batch, loss_key)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(
        step, (params, opt_state), jax.random.split(key, train_steps))
    return params, losses

  train_s = _best_seconds(train, params, opt_state, run_key, repeats=repeats,
                          timing=timing)
  act = jax.jit(policy.mode)
  act_s = _best_seconds(act, params, dataset.obs[:act_batch], repeats=repeats,
                        timing=timing)
  return {
      'family': family,
      'batch_size': batch_size,
      'grad_steps_per_s': train_steps / train_s,
      'act_batch': act_batch,
      'actions_per_s': act_batch / act_s,
  }


def measure(family: str, batch_size: int) -> dict:
  """Gradient steps/s and mode actions/s of `family`, sized by the flags."""
  return measure_family(family, batch_size, train_steps=_TRAIN_STEPS.value,
                        act_batch=_ACT_BATCH.value, repeats=_REPEATS.value)


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  if _BATCH_SIZES.value:
    batch_sizes = [int(b) for b in _BATCH_SIZES.value]
  else:
    on_accelerator = launch.on_accelerator()
    batch_sizes = [100, 4096] if on_accelerator else [100, 1024]
  unknown = sorted(set(_FAMILIES.value) - set(policies.registered_names()))
  if unknown:
    raise app.UsageError(f'Unknown families {unknown}; expected some of '
                         f'{list(policies.registered_names())}.')
  header = ['family', 'batch', 'gradient steps/s',
            f'mode actions/s (batch {_ACT_BATCH.value})', 'device', 'date',
            'command']
  for family in _FAMILIES.value:
    for batch_size in batch_sizes:
      r = measure(family, batch_size)
      print(f"{family:15s} batch {batch_size:5d}: "
            f"{r['grad_steps_per_s']:,.0f} grad steps/s, "
            f"{r['actions_per_s']:,.0f} actions/s (mode)", flush=True)
      # Written as measured, so a run stopped at a time limit keeps its rows.
      if _MARKDOWN.value:
        reporting.append_rows(
            _MARKDOWN.value, reporting.POLICY_COST,
            header, [[family, batch_size, f"{r['grad_steps_per_s']:,.0f}",
                      f"{r['actions_per_s']:,.0f}", reporting.device_name(),
                      reporting.today(), reporting.command_line()]])


if __name__ == '__main__':
  launch.run_app(main)
