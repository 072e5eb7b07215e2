"""Evaluates an exported policy file (`il_jax.export`) in Walker2d.

  python -m launch.evaluate --policy_file=runs/bc/policy --backend=gymnasium
  python -m launch.evaluate --policy_file=runs/bc/policy --backend=mjx \
      --episodes=64

`--backend=gymnasium` runs Gymnasium's `Walker2d-v4` (or `-v5`) with its
1000-step time limit on the CPU, acting with the NumPy forward pass of
`il_jax/numpy_policy.py`: no JAX involved, so the number is what a user of the
file outside il_jax gets. `--backend=mjx` runs the same file (a JAX forward
pass built from the same JSON) in our MJX Walker2d with
`il_jax.evaluation.evaluate`, all episodes in parallel. Both print the mean
and std of the return and the episode length.
"""

import math

from absl import app, flags

from il_jax import numpy_policy
from il_jax.envs.walker2d import DEFAULT_SOLVER, SOLVER_PRESETS
from il_jax.gymnasium_evaluation import (check_env, evaluate_gymnasium,
                                         policy_version, summarize)
import launch

_POLICY_FILE = flags.DEFINE_string(
    'policy_file', None, 'Prefix of the exported policy: <prefix>.json and '
    '<prefix>.npz.')
_BACKEND = flags.DEFINE_enum('backend', 'gymnasium', ['gymnasium', 'mjx'],
                             'Simulator to evaluate in.')
_ENV = flags.DEFINE_string('env', 'walker2d', 'Environment (walker2d only).')
_VERSION = flags.DEFINE_enum(
    'version', None, ['v4', 'v5'], "Walker2d version; default: the file's "
    "env version, else v4.")
_EPISODES = flags.DEFINE_integer('episodes', 10, 'Episodes to run.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the initial states.')
_SOLVER = flags.DEFINE_enum(
    'solver', DEFAULT_SOLVER, list(SOLVER_PRESETS),
    'Walker2d solver preset for --backend=mjx.')
_MAX_EPISODE_STEPS = flags.DEFINE_integer(
    'max_episode_steps', None, 'Time limit; default: the environment\'s 1000.')


def evaluate_mjx(policy_file: str, version: str | None = None,
                 episodes: int = 10, seed: int = 0,
                 max_episode_steps: int | None = None,
                 solver: str = DEFAULT_SOLVER) -> dict[str, float]:
  """Runs `episodes` parallel episodes of our MJX Walker2d (`solver`
  preset) with the file's JAX forward pass; returns
  `il_jax.evaluation.evaluate`'s summary."""
  from il_jax import envs, evaluation, export  # pylint: disable=g-import-not-at-top
  policy_fn, _ = export.make_jax_policy_fn(policy_file)
  policy = numpy_policy.load_numpy_policy(policy_file)
  version = policy_version(policy, version)
  env = envs.make('walker2d', version=version, solver=solver)
  check_env(policy, 'walker2d', version, env.observation_size,
            env.action_size)
  return evaluation.evaluate_in(policy_fn, env, episodes, seed,
                                max_episode_steps)


def main(argv):
  launch.quiet_logs()
  launch.configure_jax()
  del argv
  if not _POLICY_FILE.value:
    raise app.UsageError('--policy_file is required: the prefix of an '
                         'exported <prefix>.json / <prefix>.npz pair.')
  if _ENV.value != 'walker2d':
    raise app.UsageError(f'--env={_ENV.value!r} is not valid; expected '
                         "'walker2d'.")
  if _EPISODES.value <= 0:
    raise app.UsageError(f'--episodes={_EPISODES.value} is not valid; '
                         'expected a positive integer.')
  args = (_POLICY_FILE.value, _VERSION.value, _EPISODES.value, _SEED.value,
          _MAX_EPISODE_STEPS.value)
  try:
    if _BACKEND.value == 'gymnasium':
      summary = summarize(evaluate_gymnasium(*args))
    else:
      summary = evaluate_mjx(*args, solver=_SOLVER.value)
  except (FileNotFoundError, ValueError) as error:
    raise app.UsageError(str(error)) from None
  print(f"{_BACKEND.value}: return {summary['return_mean']:.1f} +- "
        f"{summary['return_std']:.1f}, length {summary['length_mean']:.1f}"
        + (f" +- {summary['length_std']:.1f}" if 'length_std' in summary
           else '') + f" over {int(summary['num_episodes'])} episodes")
  if not math.isfinite(summary['return_mean']):
    raise SystemExit('non-finite return')


if __name__ == '__main__':
  launch.run_app(main)
