"""Evaluating an exported policy file in Gymnasium's Walker2d, NumPy only.

The number this gives is what a user of the file outside il_jax gets: the
policy acts through the NumPy forward pass of `il_jax/numpy_policy.py` in
Gymnasium's C MuJoCo (a `[dev]` extra, imported only when called).
"""

import warnings

import numpy as np

from il_jax import numpy_policy
from il_jax.envs.validation import check_choice

GYMNASIUM_IDS = {'v4': 'Walker2d-v4', 'v5': 'Walker2d-v5'}


def make_env(version: str, max_episode_steps: int | None = None):
  """Gymnasium's `Walker2d-<version>` (1000-step limit unless given)."""
  check_choice('version', version, GYMNASIUM_IDS)
  import gymnasium  # pylint: disable=g-import-not-at-top
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # v4 is deprecated in favour of v5.
    return gymnasium.make(GYMNASIUM_IDS[version],
                          max_episode_steps=max_episode_steps)


def check_env(policy: numpy_policy.NumpyPolicy, env_name: str,
               version: str | None, observation_size: int,
               action_size: int) -> None:
  """Fails early where the file was not made for this environment."""
  file_env = policy.description.get('env') or {}
  if file_env.get('name') not in (None, env_name):
    raise ValueError(f"The policy file is for env {file_env['name']!r}, not "
                     f'{env_name!r}.')
  if version and file_env.get('version') not in (None, version):
    warnings.warn(f"The policy file was made for {env_name} "
                  f"{file_env['version']}, evaluating in {version}.")
  if policy.observation_size != observation_size:
    raise ValueError(
        f'The policy file takes observations of size '
        f'{policy.observation_size}, but {env_name} {version or ""} gives '
        f'{observation_size}.')
  if policy.action_size != action_size:
    raise ValueError(
        f'The policy file gives actions of size {policy.action_size}, but '
        f'{env_name} {version or ""} takes {action_size}.')


def policy_version(policy: numpy_policy.NumpyPolicy, version: str | None) -> str:
  if version is not None:
    return version
  return (policy.description.get('env') or {}).get('version') or 'v4'


def evaluate_gymnasium(policy_file: str, version: str | None = None,
                       episodes: int = 10, seed: int = 0,
                       max_episode_steps: int | None = None
                       ) -> dict[str, np.ndarray]:
  """Runs `episodes` episodes of Gymnasium's Walker2d with the NumPy policy.

  Episode `i` is reset with seed `seed + i`. Returns `{'return': [N],
  'length': [N]}`.

  Raises:
    FileNotFoundError, ValueError: for a missing or malformed policy file, or
      one whose sizes do not fit Walker2d.
  """
  if episodes <= 0:
    raise ValueError(f'episodes={episodes} is not valid; expected a positive '
                     'integer.')
  policy = numpy_policy.load_numpy_policy(policy_file)
  version = policy_version(policy, version)
  env = make_env(version, max_episode_steps)
  check_env(policy, 'walker2d', version, env.observation_space.shape[0],
             env.action_space.shape[0])
  try:
    return run_episodes(env, policy, episodes, seed)
  finally:
    env.close()


def run_episodes(env, act, episodes: int, seed: int) -> dict[str, np.ndarray]:
  """Runs `episodes` episodes of a Gymnasium environment acting with
  `act(obs) -> action`; episode `i` is reset with seed `seed + i`.

  Returns `{'return': [episodes], 'length': [episodes]}`.
  """
  returns, lengths = [], []
  for i in range(episodes):
    obs, _ = env.reset(seed=seed + i)
    total, length, ended = 0.0, 0, False
    while not ended:
      # Unclipped, like our MJX Walker2d: MuJoCo clamps the control to
      # [-1, 1] and the control cost sees the raw action in both.
      obs, reward, terminated, truncated, _ = env.step(act(obs))
      total += float(reward)
      length += 1
      ended = terminated or truncated
    returns.append(total)
    lengths.append(length)
  return {'return': np.asarray(returns), 'length': np.asarray(lengths)}


def summarize(episodes: dict[str, np.ndarray]) -> dict[str, float]:
  """`run_episodes`' arrays as the summary keys `il_jax.evaluation` uses."""
  return {'return_mean': float(np.mean(episodes['return'])),
          'return_std': float(np.std(episodes['return'])),
          'length_mean': float(np.mean(episodes['length'])),
          'length_std': float(np.std(episodes['length'])),
          'num_episodes': float(len(episodes['return']))}
