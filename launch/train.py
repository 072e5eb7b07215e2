"""Train a policy by BC, DAgger or HG-DAgger, with logs, checkpoints, resume.

  python -m launch.train --algo=dagger --env=tightrope --n_iter=10 \
      --workdir=runs/tightrope_dagger --num_seeds=5
  python -m launch.train --algo=hg_dagger --gate=safety --env=tightrope \
      --workdir=runs/tightrope_hg
  python -m launch.train ... --resume     # continue an interrupted run
  python -m launch.train ... --overwrite  # delete the run there, start again

Writes config.json, metrics.jsonl, metrics.csv, TensorBoard events, orbax
checkpoints and learning_curve.png to --workdir. A workdir holding a run is
refused without --resume or --overwrite; --resume on a workdir without a
checkpoint says so and starts a fresh run.
"""

import math

from absl import app, flags

from il_jax import envs, experiment, policies
from il_jax.config import (BETA_SCHEDULES, GATES, RELEASE_RULES,
                           HGDAggerConfig, ImitationConfig)
import launch

_ALGO = flags.DEFINE_string('algo', 'dagger',
                            f'One of {sorted(experiment.ALGORITHMS)}.')
_ENV = flags.DEFINE_string(
    'env', 'tightrope',
    f'Environment, one of {list(envs.registered_names())}.')
_ENV_OPTIONS = flags.DEFINE_list(
    'env_options', [], 'Environment options as name=value, e.g. '
    'solver=faithful,version=v5.')
_EXPERT = flags.DEFINE_string(
    'expert', None, "The expert that demonstrates and labels: a shipped "
    "expert's name or an export directory (`<workdir>/expert` of "
    "launch.train_expert); unset: the environment's own.")
_POLICY = flags.DEFINE_string(
    'policy', 'mlp',
    f'Policy family, one of {list(policies.registered_names())}.')
_N_LAYERS = flags.DEFINE_integer('n_layers', 2, 'Hidden layers.')
_SIZE = flags.DEFINE_integer('size', 64, 'Units per hidden layer.')
_ACTIVATION = flags.DEFINE_string('activation', 'tanh', 'Hidden activation.')
_N_ITER = flags.DEFINE_integer('n_iter', 10, 'Iterations.')
_NUM_ENVS = flags.DEFINE_integer('num_envs', 2, 'Parallel environments.')
_EXPERT_STEPS = flags.DEFINE_integer(
    'expert_steps_per_env', 1000, 'Expert demonstration steps per env.')
_STEPS_PER_ITER = flags.DEFINE_integer(
    'steps_per_iter', 1000, 'Env steps collected per DAgger iteration.')
_TRAIN_STEPS = flags.DEFINE_integer('train_steps_per_iter', 1000,
                                    'Gradient steps per iteration.')
_BATCH = flags.DEFINE_integer('train_batch_size', 100, 'Minibatch size.')
_LR = flags.DEFINE_float('learning_rate', 5e-3, 'Adam learning rate.')
_MAX_GRAD_NORM = flags.DEFINE_float(
    'max_grad_norm', float('inf'), 'Global gradient-norm clip (inf: none).')
_BETA_SCHEDULE = flags.DEFINE_string(
    'beta_schedule', 'dagger', f'One of {list(BETA_SCHEDULES)}.')
_BETA = flags.DEFINE_float('beta', 1.0, 'Initial/constant beta.')
_BETA_DECAY = flags.DEFINE_float('beta_decay', 0.5, 'Exponential decay.')
_EVAL_EPISODES = flags.DEFINE_integer('eval_episodes', 5,
                                      'Evaluation episodes.')
_EPISODE_LENGTH = flags.DEFINE_integer('episode_length', None,
                                       "Time limit; the env's default if "
                                       'unset.')
_NORMALIZE = flags.DEFINE_bool('normalize_observations', False,
                               'Normalise observations by dataset stats.')
_DEMO_NOISE = flags.DEFINE_float(
    'demo_noise', 0.0, 'Std of Gaussian noise on the actions the expert '
    'executes while demonstrating (DART); labels stay noiseless.')
_EMA_DECAY = flags.DEFINE_float(
    'ema_decay', 0.0, 'Per-step decay of a moving average of the policy '
    'parameters that collects and is evaluated; 0 acts with the last '
    'iterate.')
_GATE = flags.DEFINE_string('gate', 'discrepancy',
                            f'HG-DAgger gate, one of {list(GATES)}.')
_THRESHOLD = flags.DEFINE_float(
    'threshold', None, 'HG-DAgger: fixed gate threshold; unset = quantile of '
    "the previous iteration's gate values.")
_THRESHOLD_QUANTILE = flags.DEFINE_float('threshold_quantile', 0.9,
                                         'HG-DAgger: threshold quantile.')
_RELEASE = flags.DEFINE_string(
    'release', 'window', f'HG-DAgger release rule, one of '
    f'{list(RELEASE_RULES)}.')
_MIN_CONTROL_STEPS = flags.DEFINE_integer(
    'min_control_steps', 10, 'HG-DAgger: minimum steps per intervention.')
_RELEASE_TOLERANCE = flags.DEFINE_float(
    'release_tolerance', 0.1, "HG-DAgger: 'agreement' release distance.")
_SEED = flags.DEFINE_integer('seed', 0, 'Random seed.')
_NUM_SEEDS = flags.DEFINE_integer('num_seeds', 1, 'Seeds, vmapped.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory.')
_RESUME = flags.DEFINE_bool(
    'resume', False, 'Continue from the newest intact checkpoint in '
    '--workdir; without one, say so and start a fresh run.')
_OVERWRITE = flags.DEFINE_bool(
    'overwrite', False, 'Delete the run in --workdir (config, metrics, '
    'checkpoints) before starting a new one.')
# Float flags for which inf is a setting (no clipping; a gate never or
# always firing); NaN never is.
_INF_ALLOWED = ('max_grad_norm', 'threshold')


def _parse_value(text: str):
  for cast in (int, float):
    try:
      return cast(text)
    except ValueError:
      pass
  return {'true': True, 'false': False}.get(text.lower(), text)


def parse_options(items: list[str]) -> tuple[tuple[str, object], ...]:
  """['a=1', 'b=x'] -> (('a', 1), ('b', 'x')); a clear error otherwise."""
  options = []
  for item in items:
    name, sep, value = item.partition('=')
    if not sep or not name:
      raise ValueError(f'--env_options item {item!r} is not name=value.')
    options.append((name, _parse_value(value)))
  return tuple(sorted(options))


def check_float_flags() -> None:
  """Raises ValueError for a float flag of this module set to NaN or inf
  (inf only where it means something: `_INF_ALLOWED`)."""
  for holder in (v for v in globals().values()
                 if isinstance(v, flags.FlagHolder)):
    value = holder.value
    if not isinstance(value, float) or math.isfinite(value):
      continue
    if math.isnan(value) or holder.name not in _INF_ALLOWED:
      raise ValueError(f'--{holder.name}={value} is not valid; expected a '
                       'finite number.')


def config_from_flags() -> experiment.RunConfig:
  """The run's config; raises ValueError for any bad flag."""
  check_float_flags()
  envs.env_class(_ENV.value)  # unknown env: fail with the list of names
  episode_length = (_EPISODE_LENGTH.value or
                    envs.env_class(_ENV.value).default_episode_length)
  imitation_fields = dict(
      n_iter=_N_ITER.value, num_envs=_NUM_ENVS.value,
      expert_steps_per_env=_EXPERT_STEPS.value,
      steps_per_iter=_STEPS_PER_ITER.value,
      train_steps_per_iter=_TRAIN_STEPS.value,
      train_batch_size=_BATCH.value, learning_rate=_LR.value,
      max_grad_norm=_MAX_GRAD_NORM.value,
      beta_schedule=_BETA_SCHEDULE.value, beta=_BETA.value,
      beta_decay=_BETA_DECAY.value, eval_episodes=_EVAL_EPISODES.value,
      episode_length=episode_length,
      normalize_observations=_NORMALIZE.value, demo_noise=_DEMO_NOISE.value,
      ema_decay=_EMA_DECAY.value)
  if _ALGO.value == 'hg_dagger':
    imitation = HGDAggerConfig(
        **imitation_fields, gate=_GATE.value, threshold=_THRESHOLD.value,
        threshold_quantile=_THRESHOLD_QUANTILE.value, release=_RELEASE.value,
        min_control_steps=_MIN_CONTROL_STEPS.value,
        release_tolerance=_RELEASE_TOLERANCE.value)
  else:
    imitation = ImitationConfig(**imitation_fields)
  return experiment.RunConfig(
      algo=_ALGO.value, env=_ENV.value,
      env_options=parse_options(_ENV_OPTIONS.value), policy=_POLICY.value,
      policy_options=(('activation', _ACTIVATION.value),
                      ('n_layers', _N_LAYERS.value), ('size', _SIZE.value)),
      seed=_SEED.value, num_seeds=_NUM_SEEDS.value, imitation=imitation,
      expert=_EXPERT.value)


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required.')
  try:
    # Every name, option and size is validated before anything compiles.
    experiment.run(config_from_flags(), _WORKDIR.value, resume=_RESUME.value,
                   overwrite=_OVERWRITE.value)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  print(f'Results in {_WORKDIR.value}')


if __name__ == '__main__':
  launch.run_app(main)
