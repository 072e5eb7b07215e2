"""Trains a PPO expert on device, with progress output and resumable checkpoints.

  python -m launch.train_expert --workdir=runs/walker2d_expert
  python -m launch.train_expert --env=tightrope --total_env_steps=2000000 \
      --num_envs=256 --workdir=runs/tightrope_expert

Every `--iterations_per_call` PPO iterations run as one compiled call; after
each call it prints steps, steps/s and losses, and every `--eval_every`
iterations the deterministic return over `--num_eval_envs` episodes. The whole
training state (environments included) is checkpointed under
`<workdir>/checkpoints`, so running the same command again resumes where it
stopped. At the end it exports the expert (policy parameters and observation
normaliser only) to `<workdir>/expert/params` with `<workdir>/expert/card.json`
(policy spec, its evaluation, steps, wall-clock, settings), and appends every
progress line to `<workdir>/metrics.jsonl`. `--max_wallclock_s` ends a run
early, exported and resumable, on a machine lent for a fixed time.

The exported policy is, by default (`--export=best`), the one whose
evaluation beat every other, as `launch/train_expert_gymnasium.py` does for
SAC: PPO's deterministic return can drop for a while and recover (RESULTS.md
records drops from 3325 to 134 and from 3168 to 610 within one evaluation
interval on Walker2d), and a run that ends or is stopped in such a drop
should not ship it. The candidates are the evaluations at whole multiples of
`--eval_every` iterations and at the end, so an interrupted run, resumed,
exports what the uninterrupted one does; the policy a `--max_wallclock_s`
stop reaches competes for that export alone. `--export=last` exports the
last policy.
"""

import dataclasses
import json
import math
import os
import shlex
import sys
import time
from typing import NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import app, flags

from il_jax import envs
from il_jax import export
from il_jax.checkpoint import Checkpointer
from il_jax.experts import ppo
from il_jax.experts import ppo_networks
import launch

_DEFAULTS = ppo.PPOConfig()

_ENV = flags.DEFINE_string('env', 'walker2d', 'Registered environment name.')
_SOLVER = flags.DEFINE_string(
    'solver', None, "Walker2d solver preset ('fast' or 'faithful'); only for "
    'environments that take a `solver` option.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Checkpoints, metrics, export.')
_SEED = flags.DEFINE_integer('seed', 0, 'Random seed.')
_ITERATIONS_PER_CALL = flags.DEFINE_integer(
    'iterations_per_call', 10, 'PPO iterations per compiled call (and per '
    'progress line).')
_EVAL_EVERY = flags.DEFINE_integer(
    'eval_every', 50, 'Evaluate every this many iterations (rounded up to '
    'whole calls); 0: only at the end.')
_MAX_WALLCLOCK_S = flags.DEFINE_float(
    'max_wallclock_s', None, 'Stop after the call during which this '
    'invocation has run this many seconds: checkpoint, evaluate and export '
    'as at the end (the learning rate has not finished annealing then); '
    'running the command again without it resumes. For time-limited '
    'machines.')
_EXPORT = flags.DEFINE_enum(
    'export', 'best', ['best', 'last'], 'The policy to export: the one whose '
    'evaluation (every --eval_every iterations, at the end and at a '
    '--max_wallclock_s stop) beat every other, or the last one.')
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    'checkpoint_every', 50, 'Checkpoint every this many iterations (rounded '
    'up to whole calls).')

_TOTAL_ENV_STEPS = flags.DEFINE_integer('total_env_steps',
                                        _DEFAULTS.total_env_steps,
                                        'Environment steps to train for.')
_NUM_ENVS = flags.DEFINE_integer('num_envs', _DEFAULTS.num_envs,
                                 'Parallel training environments.')
_UNROLL_LENGTH = flags.DEFINE_integer('unroll_length', _DEFAULTS.unroll_length,
                                      'Steps per environment per iteration.')
_NUM_MINIBATCHES = flags.DEFINE_integer('num_minibatches',
                                        _DEFAULTS.num_minibatches,
                                        'Minibatches per epoch.')
_UPDATE_EPOCHS = flags.DEFINE_integer('update_epochs', _DEFAULTS.update_epochs,
                                      'Passes over each rollout.')
_EPISODE_LENGTH = flags.DEFINE_integer(
    'episode_length', None, "Time limit; default: the environment's.")
_ACTION_REPEAT = flags.DEFINE_integer('action_repeat', _DEFAULTS.action_repeat,
                                      'Environment steps per action.')
_LEARNING_RATE = flags.DEFINE_float('learning_rate', _DEFAULTS.learning_rate,
                                    'Adam learning rate (start of the decay).')
_ANNEAL = flags.DEFINE_bool('anneal_learning_rate',
                            _DEFAULTS.anneal_learning_rate,
                            'Decay the learning rate linearly to 0.')
_MAX_GRAD_NORM = flags.DEFINE_float('max_grad_norm', _DEFAULTS.max_grad_norm,
                                    'Global gradient-norm clip.')
_DISCOUNT = flags.DEFINE_float('discount', _DEFAULTS.discount, 'Discount.')
_GAE_LAMBDA = flags.DEFINE_float('gae_lambda', _DEFAULTS.gae_lambda,
                                 'GAE lambda.')
_CLIP_EPSILON = flags.DEFINE_float('clip_epsilon', _DEFAULTS.clip_epsilon,
                                   'PPO ratio clip.')
_DUAL_CLIP = flags.DEFINE_float(
    'dual_clip', _DEFAULTS.dual_clip, 'Bound the surrogate of a negative '
    'advantage below by this times the advantage (dual-clip PPO; > 1); '
    'unset: off.')
_VALUE_COEF = flags.DEFINE_float('value_coef', _DEFAULTS.value_coef,
                                 'Value-loss weight.')
_ENTROPY_COEF = flags.DEFINE_float('entropy_coef', _DEFAULTS.entropy_coef,
                                   'Entropy-bonus weight.')
_REWARD_SCALING = flags.DEFINE_float('reward_scaling', _DEFAULTS.reward_scaling,
                                     'Multiplies rewards for learning.')
_NORMALIZE_OBS = flags.DEFINE_bool('normalize_observations',
                                   _DEFAULTS.normalize_observations,
                                   'Running mean/var observation normaliser.')
_POLICY_HIDDEN = flags.DEFINE_list(
    'policy_hidden_sizes', [str(s) for s in _DEFAULTS.policy_hidden_sizes],
    'Policy MLP hidden layer sizes.')
_VALUE_HIDDEN = flags.DEFINE_list(
    'value_hidden_sizes', [str(s) for s in _DEFAULTS.value_hidden_sizes],
    'Value MLP hidden layer sizes.')
_ACTIVATION = flags.DEFINE_string('activation', _DEFAULTS.activation,
                                  'Hidden activation.')
_NUM_EVAL_ENVS = flags.DEFINE_integer('num_eval_envs', _DEFAULTS.num_eval_envs,
                                      'Episodes per deterministic evaluation.')


def _config() -> ppo.PPOConfig:
  try:
    return ppo.PPOConfig(
        total_env_steps=_TOTAL_ENV_STEPS.value,
        num_envs=_NUM_ENVS.value,
        unroll_length=_UNROLL_LENGTH.value,
        num_minibatches=_NUM_MINIBATCHES.value,
        update_epochs=_UPDATE_EPOCHS.value,
        episode_length=_EPISODE_LENGTH.value,
        action_repeat=_ACTION_REPEAT.value,
        learning_rate=_LEARNING_RATE.value,
        anneal_learning_rate=_ANNEAL.value,
        max_grad_norm=_MAX_GRAD_NORM.value,
        discount=_DISCOUNT.value,
        gae_lambda=_GAE_LAMBDA.value,
        clip_epsilon=_CLIP_EPSILON.value,
        dual_clip=_DUAL_CLIP.value,
        value_coef=_VALUE_COEF.value,
        entropy_coef=_ENTROPY_COEF.value,
        reward_scaling=_REWARD_SCALING.value,
        normalize_observations=_NORMALIZE_OBS.value,
        policy_hidden_sizes=launch.parse_sizes('policy_hidden_sizes',
                                                _POLICY_HIDDEN.value),
        value_hidden_sizes=launch.parse_sizes('value_hidden_sizes',
                                               _VALUE_HIDDEN.value),
        activation=_ACTIVATION.value,
        num_eval_envs=_NUM_EVAL_ENVS.value)
  except ValueError as error:
    raise app.UsageError(str(error)) from None


def _to_float(metrics) -> dict[str, float]:
  return {k: float(np.asarray(v)) for k, v in jax.device_get(metrics).items()}


def _last_finite(values) -> float:
  values = np.asarray(values)
  finite = values[np.isfinite(values)]
  return float(finite[-1]) if finite.size else math.nan


def main(argv):
  launch.quiet_logs()
  launch.configure_jax()
  del argv
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required (checkpoints, metrics and the '
                         'exported expert go there).')
  for name, flag in (('iterations_per_call', _ITERATIONS_PER_CALL),
                     ('checkpoint_every', _CHECKPOINT_EVERY)):
    if flag.value <= 0:
      raise app.UsageError(f'--{name}={flag.value} is not valid; expected a '
                           'positive integer.')
  if _MAX_WALLCLOCK_S.value is not None and _MAX_WALLCLOCK_S.value <= 0:
    raise app.UsageError(f'--max_wallclock_s={_MAX_WALLCLOCK_S.value} is not '
                         'valid; expected a positive number of seconds.')
  if _EVAL_EVERY.value < 0:
    raise app.UsageError(f'--eval_every={_EVAL_EVERY.value} is not valid; '
                         'expected a non-negative integer.')
  env_options = {} if _SOLVER.value is None else {'solver': _SOLVER.value}
  try:
    env = envs.make(_ENV.value, **env_options)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  config = _config()
  trainer = ppo.make_ppo(config, env)
  config = trainer.config  # episode_length filled in
  num_iterations = config.num_iterations
  workdir = os.path.abspath(_WORKDIR.value)
  os.makedirs(workdir, exist_ok=True)
  print(f'PPO on {_ENV.value} {env_options or ""}: {num_iterations} '
        f'iterations x {config.env_steps_per_iteration} env steps on '
        f'{jax.devices()[0]}; workdir {workdir}')

  def iterate_n(state, n):
    return jax.lax.scan(lambda s, _: trainer.iterate(s), state, None, n)

  # Donating the state halves its memory on accelerators; the CPU backend
  # does not implement donation and would warn on every call.
  donate = () if jax.default_backend() == 'cpu' else (0,)
  iterate_calls = jax.jit(iterate_n, static_argnums=1, donate_argnums=donate)
  evaluate = jax.jit(trainer.evaluate)
  eval_seed = jax.random.PRNGKey(_SEED.value + 1)

  state = jax.jit(trainer.init)(jax.random.PRNGKey(_SEED.value))
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
    print(f'resumed from checkpoint {step} (iteration {int(state.iteration)})')

  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  iteration = int(state.iteration)
  eval_metrics = {}
  last_checkpoint = iteration
  first_call = True
  out_of_time = False
  loop_start = time.perf_counter()
  while iteration < num_iterations and not out_of_time:
    n = min(_ITERATIONS_PER_CALL.value, num_iterations - iteration)
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
    for name in ('policy_loss', 'value_loss', 'entropy', 'approx_kl', 'kl',
                 'clip_fraction', 'grad_norm', 'scale_mean',
                 *ppo.EXTREME_METRICS):
      if name in metrics:
        reduce = ppo.EXTREME_METRICS.get(name, np.mean)
        row[name] = float(reduce(metrics[name]))
    out_of_time = (_MAX_WALLCLOCK_S.value is not None and
                   time.perf_counter() - loop_start >= _MAX_WALLCLOCK_S.value)
    done = iteration >= num_iterations or out_of_time
    # Evaluations at fixed iterations, wherever a run was resumed from, are
    # the candidates for the best policy; a wall-clock stop's is not.
    scheduled = iteration >= num_iterations or (
        _EVAL_EVERY.value > 0 and
        iteration // _EVAL_EVERY.value > (iteration - n) // _EVAL_EVERY.value)
    if done or scheduled:
      eval_metrics = _to_float(
          evaluate(state, jax.random.fold_in(eval_seed, iteration)))
      row.update(eval_metrics)
    if scheduled:
      best = best.offer(eval_metrics, state)
    print(f"it {iteration}/{num_iterations}  steps {row['env_steps']:,}  "
          f"{row['Env_Steps_Per_Second']:,.0f} steps/s"
          f"{' (with compile)' if first_call else ''}  "
          f"train return {row['Train_AverageReturn']:.1f}  "
          f"entropy {row['entropy']:.2f}  kl {row['approx_kl']:.4f}" +
          (f"  eval return {row['Eval_AverageReturn']:.1f} +- "
           f"{row['Eval_StdReturn']:.1f}" if 'Eval_AverageReturn' in row
           else ''), flush=True)
    first_call = False
    with open(metrics_path, 'a') as f:
      f.write(json.dumps(row) + '\n')
    if done or iteration - last_checkpoint >= _CHECKPOINT_EVERY.value:
      checkpointer.save(iteration, {
          'state': state,
          'wallclock': np.asarray(wallclock),
          'best': best,
      })
      last_checkpoint = iteration
  checkpointer.close()
  if out_of_time and iteration < num_iterations:
    print(f'stopped at the --max_wallclock_s limit after iteration '
          f'{iteration} of {num_iterations}; run again without it to resume.')

  if not eval_metrics:  # resumed a finished run
    eval_metrics = _to_float(
        evaluate(state, jax.random.fold_in(eval_seed, iteration)))
  last = BestPolicy.of(eval_metrics, state)
  # The policy a wall-clock stop reached competes too (after the scheduled
  # ones, so a tie keeps the earlier policy).
  chosen = best.offer(eval_metrics, state) if _EXPORT.value == 'best' else last
  _export(workdir, env, trainer, config, env_options, chosen, last, wallclock,
          finished=iteration >= num_iterations)


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
  def of(cls, eval_metrics: dict[str, float], state) -> 'BestPolicy':
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

  def offer(self, eval_metrics: dict[str, float], state) -> 'BestPolicy':
    """This record, or `state`'s policy if its evaluation returned more."""
    if eval_metrics['Eval_AverageReturn'] > self.eval_return:
      return BestPolicy.of(eval_metrics, state)
    return self


def _export(workdir, env, trainer, config, env_options, chosen: BestPolicy,
            last: BestPolicy, wallclock, finished):
  """Writes the `chosen` expert (params + normaliser) and its card."""
  expert_dir = os.path.join(workdir, 'expert')
  params_dir = os.path.join(expert_dir, 'params')
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(params_dir, chosen.params, force=True)
  checkpointer.wait_until_finished()
  eval_metrics = _to_float(chosen.eval_metrics)
  card = {
      'algorithm': 'ppo',
      'env': _ENV.value,
      'env_options': env_options,
      'policy_spec': trainer.policy_spec.to_dict(),
      # The exported policy's evaluation and training.
      'eval': eval_metrics,
      'env_steps': int(chosen.env_steps),
      'iteration': int(chosen.iteration),
      # 'best': the best evaluated policy; 'last': the run's last one.
      'export': _EXPORT.value,
      # Where the run ended, which the exported policy may precede.
      'final_eval': _to_float(last.eval_metrics),
      'final_env_steps': int(last.env_steps),
      # False: stopped at --max_wallclock_s before `total_env_steps`.
      'finished': finished,
      'wallclock_s': wallclock,
      'device': str(jax.devices()[0].device_kind),
      'seed': _SEED.value,
      'config': dataclasses.asdict(config),
      'command': 'python -m launch.train_expert ' + shlex.join(sys.argv[1:]),
  }
  with open(os.path.join(expert_dir, 'card.json'), 'w') as f:
    json.dump(card, f, indent=2)
  # The framework-free copy: what launch.expert_card evaluates in Gymnasium.
  export.export_ppo_expert(
      os.path.join(expert_dir, 'policy'), trainer.policy_spec, chosen.params,
      env={'name': _ENV.value, **env_options,
           **({'version': env.version} if hasattr(env, 'version') else {})},
      metadata={'algorithm': 'ppo', 'env_steps': card['env_steps']})
  print(f"exported the {_EXPORT.value} policy (iteration "
        f"{card['iteration']}) to {expert_dir}: eval return "
        f"{eval_metrics['Eval_AverageReturn']:.1f} +- "
        f"{eval_metrics['Eval_StdReturn']:.1f} over "
        f"{int(eval_metrics['Eval_NumEpisodes'])} episodes")


if __name__ == '__main__':
  launch.run_app(main)
