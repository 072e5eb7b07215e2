"""Expert demonstrations: the one format, its checks and its files.

`Demonstrations` is time-major, `[T, B, ...]`: B streams of T steps, each
stream a sequence of episodes (`done` marks an episode's last step; the
episode running at step `T - 1` is unfinished). What il_jax collects on the
device has B parallel environments; recorded trajectories of different
lengths are one stream (B = 1), episode after episode.

Files, by extension:
- `.npz`: il_jax's own, one array per field in the `[T, B, ...]` layout,
  readable with plain `numpy.load`.
- `.pkl` / `.pickle`: the CS285 homework's layout, a list of trajectories,
  each a dict of `observation [T_i, obs]`, `action [T_i, A]`, `reward [T_i]`
  and `terminal [T_i]` arrays. Each trajectory ends an episode at its last
  step (its `terminal` flag there is 1 in the homework's files; a path cut
  by its length limit ends there all the same).

Minari (Gymnasium's dataset standard, D4RL's successor) is not read: the
`minari` package is not in the package index our machines and CI install
from (no network access), and its HDF5 files need `h5py`, which no other
part of il_jax needs. Convert a Minari dataset with
`trajectories_to_demonstrations` from its episodes' arrays.
"""

import os
import pickle
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from il_jax.types import EpisodeStats

FIELDS = ('obs', 'action', 'expert_action', 'reward', 'done')
# The CS285 homework's trajectory keys, and the fields they fill.
_TRAJECTORY_KEYS = {'observation': 'obs', 'action': 'action',
                    'reward': 'reward', 'terminal': 'done'}
NPZ_EXTENSIONS = ('.npz',)
PICKLE_EXTENSIONS = ('.pkl', '.pickle')


class Demonstrations(NamedTuple):
  """Expert steps, time-major: `x[t, b]` is step t of stream b.

  Attributes:
    obs: `[T, B, obs_size]` observation at which the action was chosen.
    action: `[T, B, action_size]` action executed.
    expert_action: `[T, B, action_size]` the expert's action at `obs`, the
      label a learner is trained on; equal to `action` unless a noisy
      behaviour policy drove.
    reward: `[T, B]` reward of the step.
    done: `[T, B]` bool, whether an episode ended at this step (terminated
      or hit its time limit).
  """
  obs: jax.Array
  action: jax.Array
  expert_action: jax.Array
  reward: jax.Array
  done: jax.Array

  @property
  def num_rows(self) -> int:
    """`T * B`: the rows a dataset holds for them."""
    return int(np.prod(self.reward.shape))


def flatten(demos: Demonstrations) -> Demonstrations:
  """`[T, B, ...]` -> `[T * B, ...]` rows, row-major (step-major)."""
  return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), demos)


def check(demos: Demonstrations, observation_size: int,
          action_size: int) -> None:
  """Raises ValueError, naming the field, unless `demos` are
  `[T, B, ...]` with T, B >= 1 and the given observation and action sizes
  (those of the environment they are to teach)."""
  leading = np.shape(demos.reward)
  if len(leading) != 2 or min(leading) < 1:
    raise ValueError(f'demonstrations must have leading dimensions [T, B] '
                     f'with T, B >= 1; reward has shape {leading}.')
  expected = {'obs': leading + (observation_size,),
              'action': leading + (action_size,),
              'expert_action': leading + (action_size,),
              'done': leading}
  for name, shape in expected.items():
    if np.shape(getattr(demos, name)) != shape:
      raise ValueError(
          f'demonstrations.{name} has shape {np.shape(getattr(demos, name))}'
          f'; the environment (obs {observation_size}, action '
          f'{action_size}) needs {shape}.')


def episode_stats(demos: Demonstrations) -> EpisodeStats:
  """The episodes that end in `demos`, as a rollout reports them: `[T, B]`
  statistics valid where `done`. An episode already running at step 0 is
  counted from step 0."""

  def step(carry, x):
    total, length = carry
    reward, done = x
    total, length = total + reward, length + 1.0
    stats = EpisodeStats(done=done, return_=total, length=length,
                         truncated=jnp.zeros_like(done))
    return (jnp.where(done, 0.0, total), jnp.where(done, 0.0, length)), stats

  zeros = jnp.zeros(demos.reward.shape[1:], jnp.float32)
  _, stats = jax.lax.scan(
      step, (zeros, zeros),
      (jnp.asarray(demos.reward, jnp.float32), jnp.asarray(demos.done, bool)))
  return stats


def trajectories_to_demonstrations(
    trajectories: Sequence[Mapping[str, np.ndarray]]) -> Demonstrations:
  """Trajectories in the CS285 layout (see the module docstring) as one
  stream, `[sum T_i, 1, ...]`; each trajectory's last step ends an episode.

  Raises:
    ValueError: no trajectory, a missing key, or arrays whose lengths
      disagree, naming the trajectory.
  """
  if not trajectories:
    raise ValueError('no trajectories; expected a list of dicts with keys '
                     f'{sorted(_TRAJECTORY_KEYS)}.')
  parts = {field: [] for field in _TRAJECTORY_KEYS.values()}
  for i, trajectory in enumerate(trajectories):
    missing = sorted(set(_TRAJECTORY_KEYS) - set(trajectory))
    if missing:
      raise ValueError(f'trajectory {i} lacks {missing}; expected keys '
                       f'{sorted(_TRAJECTORY_KEYS)}.')
    arrays = {field: np.asarray(trajectory[key])
              for key, field in _TRAJECTORY_KEYS.items()}
    length = len(arrays['reward'])
    if length == 0 or any(len(a) != length for a in arrays.values()):
      raise ValueError(
          f'trajectory {i} has arrays of lengths '
          f'{ {k: len(v) for k, v in arrays.items()} }; expected one '
          'length of at least 1.')
    arrays['done'] = arrays['done'].astype(bool).copy()
    arrays['done'][-1] = True
    for field, value in arrays.items():
      parts[field].append(value)
  rows = {field: np.concatenate(values) for field, values in parts.items()}
  obs = rows['obs'].reshape(len(rows['obs']), -1).astype(np.float32)
  action = rows['action'].reshape(len(rows['action']), -1).astype(np.float32)
  return Demonstrations(
      obs=obs[:, None], action=action[:, None], expert_action=action[:, None],
      reward=rows['reward'].astype(np.float32)[:, None],
      done=rows['done'][:, None])


def demonstrations_to_trajectories(
    demos: Demonstrations) -> list[dict[str, np.ndarray]]:
  """`demos` in the CS285 layout: every finished episode of every stream,
  stream after stream, with the expert's labels as `action`; the unfinished
  episode at the end of a stream is a trajectory too, with `terminal` 0 at
  its last step."""
  host = jax.tree.map(np.asarray, jax.device_get(demos))
  trajectories = []
  for b in range(host.reward.shape[1]):
    ends = np.flatnonzero(host.done[:, b]) + 1
    for start, stop in zip(np.concatenate([[0], ends]),
                           np.concatenate([ends, [len(host.reward)]])):
      if stop > start:
        trajectories.append({
            'observation': host.obs[start:stop, b],
            'action': host.expert_action[start:stop, b],
            'reward': host.reward[start:stop, b],
            'terminal': host.done[start:stop, b].astype(np.float32)})
  return trajectories


def save_demonstrations(demos: Demonstrations, path: str) -> None:
  """Writes `demos` to `path`: `.npz` (il_jax's layout) or `.pkl` (the CS285
  layout, see `demonstrations_to_trajectories`)."""
  extension = os.path.splitext(path)[1]
  if extension in NPZ_EXTENSIONS:
    host = jax.device_get(demos)
    np.savez(path, **{name: np.asarray(getattr(host, name))
                      for name in FIELDS})
  elif extension in PICKLE_EXTENSIONS:
    with open(path, 'wb') as f:
      pickle.dump(demonstrations_to_trajectories(demos), f)
  else:
    raise ValueError(_unknown_extension(path))


def load_demonstrations(path: str) -> Demonstrations:
  """Reads demonstrations from `path` (by extension, see the module
  docstring) as host arrays.

  Raises:
    FileNotFoundError: if `path` does not exist.
    ValueError: an unknown extension, a missing field, or fields whose
      leading dimensions disagree; the message names the file.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{path} does not exist; expected demonstrations '
                            f'({", ".join(NPZ_EXTENSIONS + PICKLE_EXTENSIONS)}'
                            ').')
  extension = os.path.splitext(path)[1]
  if extension in PICKLE_EXTENSIONS:
    with open(path, 'rb') as f:
      trajectories = pickle.load(f)
    try:
      return trajectories_to_demonstrations(trajectories)
    except (ValueError, TypeError) as error:
      raise ValueError(f'{path}: {error}') from None
  if extension not in NPZ_EXTENSIONS:
    raise ValueError(_unknown_extension(path))
  with np.load(path) as arrays:
    missing = [name for name in FIELDS if name not in arrays.files]
    if missing:
      raise ValueError(f'{path} lacks field(s) {missing}; expected '
                       f'{list(FIELDS)}.')
    fields = {name: arrays[name] for name in FIELDS}
  leading = fields['reward'].shape
  for name, value in fields.items():
    if value.shape[:len(leading)] != leading:
      raise ValueError(f'{path}: field {name!r} has shape {value.shape}, '
                       f'expected leading dimensions {leading} like reward.')
  return Demonstrations(**fields)


def _unknown_extension(path: str) -> str:
  return (f'{path}: unknown demonstrations format; expected one of '
          f'{", ".join(NPZ_EXTENSIONS + PICKLE_EXTENSIONS)} (Minari datasets: '
          'see il_jax.data.demonstrations).')
