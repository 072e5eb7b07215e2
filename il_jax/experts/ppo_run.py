"""A resumable PPO run on the host: compiled calls of several iterations,
evaluations, checkpoints and the exported expert.

`run(config, env, workdir, env_name=...)` trains `il_jax.experts.ppo` in
calls of `iterations_per_call` iterations and writes to `workdir`:
- `checkpoints/`: the whole `ppo.PPOState` (environments included), the
  wall-clock so far and the best evaluated policy, every `checkpoint_every`
  iterations and at the end, so that running it again resumes exactly;
- `metrics.jsonl`: a row per call (steps, steps/s, losses, evaluations);
- `expert/`: the exported policy (`params/`, orbax), its `card.json` (policy
  spec, evaluation, steps, wall-clock, settings) and the framework-free
  `policy` files of `il_jax.export`.

It reports through callbacks instead of printing: `progress_fn(row)` gets
each metrics row, `report(message)` one-line messages.

The exported policy is, by default (`export='best'`), the one whose
evaluation beat every other: PPO's deterministic return can drop for a while
and recover (RESULTS.md records drops from 3325 to 134 and from 3168 to 610
within one evaluation interval on Walker2d), and a run that ends or is
stopped in such a drop should not ship it. The candidates are the
evaluations at whole multiples of `eval_every` iterations and at the end, so
an interrupted run, resumed, exports what the uninterrupted one does; the
policy a `max_wallclock_s` stop reaches competes for that export alone.
`export='last'` exports the last policy.
"""

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp
from brax.envs.base import Env

from il_jax import export as export_lib
from il_jax.checkpoint import Checkpointer
from il_jax.envs.validation import check_choice, check_positive
from il_jax.experts import ppo
from il_jax.experts import ppo_networks

EXPORTS = ('best', 'last')

# The training metrics a row holds (each reduced over the call's iterations)
# besides the extremes of `ppo.EXTREME_METRICS`.
_ROW_METRICS = ('policy_loss', 'value_loss', 'entropy', 'approx_kl', 'kl',
                'clip_fraction', 'grad_norm', 'scale_mean')


class BestPolicy(NamedTuple):
  """The exported parameters of the best evaluated policy so far, with its
  evaluation; a pytree of host arrays that the checkpoints hold.

  Attributes:
    eval_metrics: `{name: scalar}`, the policy's deterministic evaluation;
      `Eval_AverageReturn` is -inf before any evaluation.
    iteration: scalar int, the PPO iteration the policy is from.
    env_steps: scalar int, the environment steps it was trained on.
    params: `ppo_networks.ExpertParams`, policy and normaliser.
  """
  eval_metrics: dict[str, np.ndarray]
  iteration: np.ndarray
  env_steps: np.ndarray
  params: ppo_networks.ExpertParams

  @classmethod
  def before_any_evaluation(cls, params, eval_like) -> 'BestPolicy':
    """A record that any evaluation beats; `params` and `eval_like` (a
    metrics dict or its shapes) give its structure."""
    metrics = {name: np.zeros(np.shape(value), np.float32)
               for name, value in eval_like.items()}
    metrics['Eval_AverageReturn'] = np.full((), -np.inf, np.float32)
    return cls(metrics, np.zeros((), np.int32), np.zeros((), np.int32),
               params)

  @classmethod
  def of(cls, eval_metrics: Mapping[str, float], state) -> 'BestPolicy':
    """`state`'s policy and its evaluation."""
    return cls(
        {name: np.asarray(value, np.float32)
         for name, value in eval_metrics.items()},
        np.asarray(int(state.iteration), np.int32),
        np.asarray(int(state.env_steps), np.int32),
        jax.device_get(ppo.export(state)))

  @property
  def eval_return(self) -> float:
    return float(self.eval_metrics['Eval_AverageReturn'])

  def offer(self, eval_metrics: Mapping[str, float], state) -> 'BestPolicy':
    """This record, or `state`'s policy if its evaluation returned more."""
    if eval_metrics['Eval_AverageReturn'] > self.eval_return:
      return BestPolicy.of(eval_metrics, state)
    return self


def _to_float(metrics) -> dict[str, float]:
  return {k: float(np.asarray(v)) for k, v in jax.device_get(metrics).items()}


def _last_finite(values) -> float:
  values = np.asarray(values)
  finite = values[np.isfinite(values)]
  return float(finite[-1]) if finite.size else math.nan


def _check_settings(iterations_per_call: int, eval_every: int,
                    checkpoint_every: int, max_wallclock_s: float | None,
                    export: str) -> None:
  for name, value in (('iterations_per_call', iterations_per_call),
                      ('checkpoint_every', checkpoint_every)):
    check_positive(name, value, integer=True)
  if max_wallclock_s is not None:
    check_positive('max_wallclock_s', max_wallclock_s)
  if eval_every < 0:
    raise ValueError(f'eval_every={eval_every} is not valid; expected a '
                     'non-negative integer.')
  check_choice('export', export, EXPORTS)


def run(config: ppo.PPOConfig, env: Env, workdir: str, *, env_name: str,
        env_options: Mapping[str, Any] | None = None, seed: int = 0,
        iterations_per_call: int = 10, eval_every: int = 50,
        checkpoint_every: int = 50, max_wallclock_s: float | None = None,
        export: str = 'best', command: str | None = None,
        progress_fn: Callable[[dict[str, float]], None] | None = None,
        report: Callable[[str], None] | None = None) -> dict[str, Any]:
  """Trains (or resumes) a PPO expert in `workdir` and exports it.

  Args:
    config: the PPO settings.
    env: the unbatched environment to train on (`il_jax.envs.make`).
    env_name: its registered name, for the card and the exported files.
    env_options: the options it was made with, likewise.
    seed: the run's seed; evaluations use `seed + 1`.
    iterations_per_call: PPO iterations per compiled call (and per row).
    eval_every: evaluate every this many iterations (rounded up to whole
      calls); 0: only at the end.
    checkpoint_every: checkpoint every this many iterations (rounded up to
      whole calls).
    max_wallclock_s: stop after the call during which this invocation has
      run this many seconds: checkpoint, evaluate and export as at the end
      (the learning rate has not finished annealing then); running again
      without it resumes. None: run to `config.total_env_steps`.
    export: 'best', the policy whose evaluation beat every other, or
      'last' (see the module docstring).
    command: the command line that started the run, for the card.
    progress_fn: called with each metrics row (the `metrics.jsonl` row of a
      call: `iteration`, `env_steps`, `Env_Steps_Per_Second`,
      `wallclock_s`, `Train_AverageReturn`, the training metrics and, when
      the call ended with an evaluation, `Eval_*`).
    report: called with one-line messages (start, resume, wall-clock stop,
      export).

  Returns:
    The exported expert's card (`expert/card.json`).

  Raises:
    ValueError: for a setting out of range, naming the argument.
    FloatingPointError: when a training loss is not finite, naming the
      iteration and the last checkpoint.
  """
  _check_settings(iterations_per_call, eval_every, checkpoint_every,
                  max_wallclock_s, export)
  env_options = dict(env_options or {})
  progress_fn = progress_fn or (lambda row: None)
  report = report or (lambda message: None)
  trainer = ppo.make_ppo(config, env)
  config = trainer.config  # episode_length filled in
  num_iterations = config.num_iterations
  workdir = os.path.abspath(workdir)
  os.makedirs(workdir, exist_ok=True)
  report(f'PPO on {env_name} {env_options or ""}: {num_iterations} '
         f'iterations x {config.env_steps_per_iteration} env steps on '
         f'{jax.devices()[0]}; workdir {workdir}')

  def iterate_n(state, n):
    return jax.lax.scan(lambda s, _: trainer.iterate(s), state, None, n)

  # Donating the state halves its memory on accelerators; the CPU backend
  # does not implement donation and would warn on every call.
  donate = () if jax.default_backend() == 'cpu' else (0,)
  iterate_calls = jax.jit(iterate_n, static_argnums=1, donate_argnums=donate)
  evaluate = jax.jit(trainer.evaluate)
  eval_seed = jax.random.PRNGKey(seed + 1)

  state = jax.jit(trainer.init)(jax.random.PRNGKey(seed))
  best = BestPolicy.before_any_evaluation(
      jax.device_get(ppo.export(state)),
      jax.eval_shape(evaluate, state, eval_seed))
  checkpointer = Checkpointer(workdir)
  wallclock = 0.0
  step = checkpointer.latest_step()
  if step is not None:
    saved = checkpointer.restore(
        step, {'state': state, 'wallclock': np.zeros(()), 'best': best})
    state, best = saved['state'], saved['best']
    wallclock = float(saved['wallclock'])
    report(f'resumed from checkpoint {step} (iteration '
           f'{int(state.iteration)})')

  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  iteration = int(state.iteration)
  eval_metrics = {}
  last_checkpoint = iteration
  out_of_time = False
  loop_start = time.perf_counter()
  while iteration < num_iterations and not out_of_time:
    n = min(iterations_per_call, num_iterations - iteration)
    start = time.perf_counter()
    state, metrics = iterate_calls(state, n)
    metrics = jax.device_get(metrics)
    seconds = time.perf_counter() - start
    wallclock += seconds
    iteration = int(state.iteration)
    losses = np.asarray(metrics['policy_loss']) + np.asarray(
        metrics['value_loss'])
    if not np.all(np.isfinite(losses)):
      bad = iteration - n + int(np.argmax(~np.isfinite(losses)))
      raise FloatingPointError(
          f'Non-finite PPO loss at iteration {bad}; the last checkpoint is '
          f'iteration {last_checkpoint} in {workdir}.')
    row = {
        'iteration': iteration,
        'env_steps': int(state.env_steps),
        'Env_Steps_Per_Second': n * config.env_steps_per_iteration / seconds,
        'wallclock_s': wallclock,
        'Train_AverageReturn': _last_finite(metrics['Train_AverageReturn']),
    }
    for name in (*_ROW_METRICS, *ppo.EXTREME_METRICS):
      if name in metrics:
        reduce = ppo.EXTREME_METRICS.get(name, np.mean)
        row[name] = float(reduce(metrics[name]))
    out_of_time = (max_wallclock_s is not None and
                   time.perf_counter() - loop_start >= max_wallclock_s)
    done = iteration >= num_iterations or out_of_time
    # Evaluations at fixed iterations, wherever a run was resumed from, are
    # the candidates for the best policy; a wall-clock stop's is not.
    scheduled = iteration >= num_iterations or (
        eval_every > 0 and
        iteration // eval_every > (iteration - n) // eval_every)
    if done or scheduled:
      eval_metrics = _to_float(
          evaluate(state, jax.random.fold_in(eval_seed, iteration)))
      row.update(eval_metrics)
    if scheduled:
      best = best.offer(eval_metrics, state)
    progress_fn(row)
    with open(metrics_path, 'a') as f:
      f.write(json.dumps(row) + '\n')
    if done or iteration - last_checkpoint >= checkpoint_every:
      checkpointer.save(iteration, {
          'state': state,
          'wallclock': np.asarray(wallclock),
          'best': best,
      })
      last_checkpoint = iteration
  checkpointer.close()
  if out_of_time and iteration < num_iterations:
    report(f'stopped at the max_wallclock_s limit after iteration '
           f'{iteration} of {num_iterations}; run again without it to '
           'resume.')

  if not eval_metrics:  # resumed a finished run
    eval_metrics = _to_float(
        evaluate(state, jax.random.fold_in(eval_seed, iteration)))
  last = BestPolicy.of(eval_metrics, state)
  # The policy a wall-clock stop reached competes too (after the scheduled
  # ones, so a tie keeps the earlier policy).
  chosen = best.offer(eval_metrics, state) if export == 'best' else last
  card = {
      'algorithm': 'ppo',
      'env': env_name,
      'env_options': env_options,
      'policy_spec': trainer.policy_spec.to_dict(),
      # The exported policy's evaluation and training.
      'eval': _to_float(chosen.eval_metrics),
      'env_steps': int(chosen.env_steps),
      'iteration': int(chosen.iteration),
      # 'best': the best evaluated policy; 'last': the run's last one.
      'export': export,
      # Where the run ended, which the exported policy may precede.
      'final_eval': _to_float(last.eval_metrics),
      'final_env_steps': int(last.env_steps),
      # False: stopped at max_wallclock_s before `total_env_steps`.
      'finished': iteration >= num_iterations,
      'wallclock_s': wallclock,
      'device': str(jax.devices()[0].device_kind),
      'seed': seed,
      'config': dataclasses.asdict(config),
      'command': command,
  }
  expert_dir = _export(workdir, env, env_name, env_options, trainer, chosen,
                       card)
  report(f"exported the {export} policy (iteration {card['iteration']}) to "
         f"{expert_dir}: eval return {card['eval']['Eval_AverageReturn']:.1f}"
         f" +- {card['eval']['Eval_StdReturn']:.1f} over "
         f"{int(card['eval']['Eval_NumEpisodes'])} episodes")
  return card


def _export(workdir: str, env: Env, env_name: str,
            env_options: Mapping[str, Any], trainer: ppo.PPO,
            chosen: BestPolicy, card: Mapping[str, Any]) -> str:
  """Writes the `chosen` expert (params + normaliser), its card and its
  framework-free copy to `<workdir>/expert`; returns that directory."""
  expert_dir = os.path.join(workdir, 'expert')
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(os.path.join(expert_dir, 'params'), chosen.params,
                    force=True)
  checkpointer.wait_until_finished()
  with open(os.path.join(expert_dir, 'card.json'), 'w') as f:
    json.dump(card, f, indent=2)
  # The framework-free copy: what tools.expert_card evaluates in Gymnasium.
  export_lib.export_ppo_expert(
      os.path.join(expert_dir, 'policy'), trainer.policy_spec, chosen.params,
      env={'name': env_name, **env_options,
           **({'version': env.version} if hasattr(env, 'version') else {})},
      metadata={'algorithm': 'ppo', 'env_steps': card['env_steps']})
  return expert_dir
