"""Trains a PPO expert on device, with progress output and resumable checkpoints.

  python -m launch.train_expert --workdir=runs/walker2d_expert
  python -m launch.train_expert --env=tightrope --total_env_steps=2000000 \
      --num_envs=256 --workdir=runs/tightrope_expert

The flags of `il_jax.experts.ppo_run.run` (the host loop: compiled calls of
`--iterations_per_call` iterations, evaluations every `--eval_every`,
checkpoints every `--checkpoint_every`, the export of `--export=best|last`
to `<workdir>/expert`, a `--max_wallclock_s` stop) and of `PPOConfig`. After
each call it prints steps, steps/s, losses and any evaluation; running the
same command again resumes where it stopped.
"""

import shlex
import sys
from collections.abc import Callable

from absl import app, flags

from il_jax import envs
from il_jax.experts import ppo
from il_jax.experts import ppo_run
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
    'export', 'best', list(ppo_run.EXPORTS), 'The policy to export: the one whose '
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


def _printer(num_iterations: int) -> Callable[[dict[str, float]], None]:
  """`ppo_run.run`'s `progress_fn`: one line per call."""
  first_call = True

  def progress(row: dict[str, float]) -> None:
    nonlocal first_call
    print(f"it {row['iteration']}/{num_iterations}  "
          f"steps {row['env_steps']:,}  "
          f"{row['Env_Steps_Per_Second']:,.0f} steps/s"
          f"{' (with compile)' if first_call else ''}  "
          f"train return {row['Train_AverageReturn']:.1f}  "
          f"entropy {row['entropy']:.2f}  kl {row['approx_kl']:.4f}" +
          (f"  eval return {row['Eval_AverageReturn']:.1f} +- "
           f"{row['Eval_StdReturn']:.1f}" if 'Eval_AverageReturn' in row
           else ''), flush=True)
    first_call = False

  return progress


def main(argv):
  launch.quiet_logs()
  launch.configure_jax()
  del argv
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required (checkpoints, metrics and the '
                         'exported expert go there).')
  env_options = {} if _SOLVER.value is None else {'solver': _SOLVER.value}
  try:
    env = envs.make(_ENV.value, **env_options)
    config = _config()
    ppo_run.run(
        config, env, _WORKDIR.value, env_name=_ENV.value,
        env_options=env_options, seed=_SEED.value,
        iterations_per_call=_ITERATIONS_PER_CALL.value,
        eval_every=_EVAL_EVERY.value,
        checkpoint_every=_CHECKPOINT_EVERY.value,
        max_wallclock_s=_MAX_WALLCLOCK_S.value, export=_EXPORT.value,
        command='python -m launch.train_expert ' + shlex.join(sys.argv[1:]),
        progress_fn=_printer(config.num_iterations),
        report=lambda message: print(message, flush=True))
  except ValueError as error:
    # Library messages name the argument; here each is a flag.
    raise app.UsageError(str(error)) from None


if __name__ == '__main__':
  launch.run_app(main)
