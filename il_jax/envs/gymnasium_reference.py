"""Gymnasium's Walker2d (C MuJoCo, float64) as the reference for our MJX one.

Used by the parity tests, `tools/fidelity.py` and CPU evaluation. Gymnasium
is a `[dev]` extra, so it is imported only when these functions run.
"""

from typing import NamedTuple

import numpy as np

_GYMNASIUM_IDS = {'v4': 'Walker2d-v4', 'v5': 'Walker2d-v5'}


class ReferenceTrajectory(NamedTuple):
  """A Gymnasium trajectory under given actions; T steps, T+1 states.

  Shapes: `qpos, qvel: [T+1, 9]`, `obs: [T+1, 17]`, `action: [T, 6]`,
  `reward, terminated: [T]`.
  """
  qpos: np.ndarray
  qvel: np.ndarray
  obs: np.ndarray
  action: np.ndarray
  reward: np.ndarray
  terminated: np.ndarray


def make_walker2d(version: str = 'v4'):
  """Gymnasium's Walker2d of `version` ('v4' or 'v5'), without wrappers.

  The time-limit and order-enforcing wrappers are dropped so that a
  trajectory can go on through termination, which is where contacts are
  richest and the two simulators are most likely to differ.
  """
  if version not in _GYMNASIUM_IDS:
    raise ValueError(f'version={version!r} is not valid; expected one of '
                     f'{sorted(_GYMNASIUM_IDS)}.')
  import gymnasium  # pylint: disable=g-import-not-at-top
  import warnings  # pylint: disable=g-import-not-at-top
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # v4 is deprecated in favour of v5.
    return gymnasium.make(_GYMNASIUM_IDS[version]).unwrapped


def rollout(env, actions: np.ndarray, seed: int = 0) -> ReferenceTrajectory:
  """Steps Gymnasium's `env` from its seeded reset through `actions [T, 6]`."""
  obs, _ = env.reset(seed=seed)
  qpos, qvel, observations = [env.data.qpos.copy()], [env.data.qvel.copy()], [
      obs
  ]
  rewards, terminated = [], []
  for action in actions:
    obs, reward, term, _, _ = env.step(action)
    qpos.append(env.data.qpos.copy())
    qvel.append(env.data.qvel.copy())
    observations.append(obs)
    rewards.append(reward)
    terminated.append(term)
  return ReferenceTrajectory(
      qpos=np.stack(qpos), qvel=np.stack(qvel), obs=np.stack(observations),
      action=np.asarray(actions), reward=np.asarray(rewards),
      terminated=np.asarray(terminated))
