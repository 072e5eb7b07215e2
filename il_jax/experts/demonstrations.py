"""Expert demonstrations: roll an expert out on device, save and load them.

`collect_demonstrations` is `rollout.collect` with the expert always in
control (beta = 1), or with a noisy behaviour policy in control and the
deterministic expert labelling every step (noise injection as in DART), so
demonstrations and DAgger's aggregated data come from the same primitive.
"""

import os
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from brax.envs.base import Env

from il_jax import data
from il_jax import envs
from il_jax import rollout
from il_jax.types import Action, Observation, PRNGKey

_FIELDS = ('obs', 'action', 'expert_action', 'reward', 'done')


class Demonstrations(NamedTuple):
  """Expert rollouts, time-major: leading dimensions `[T, B]` (T steps of B
  parallel environments), so `x[t, b]` is step t of environment b.

  Episodes of one environment follow each other along T (the environment is
  auto-reset; `done[t, b]` marks the last step of an episode; the episode
  running at `T - 1` is cut off). `flatten(demos)` gives `[T * B]` rows in
  row-major order.

  Attributes:
    obs: `[T, B, obs_size]` observation at which the action was chosen.
    action: `[T, B, action_size]` action executed.
    expert_action: `[T, B, action_size]` the deterministic expert's action at
      `obs` (the BC label); equals `action` unless a noisy behaviour policy
      drove.
    reward: `[T, B]` reward of the step.
    done: `[T, B]` bool, whether an episode ended at this step (terminated or
      hit the time limit).
  """
  obs: jax.Array
  action: jax.Array
  expert_action: jax.Array
  reward: jax.Array
  done: jax.Array


def collect_demonstrations(
    expert: Callable[[Observation], Action],
    env: Env,
    key: PRNGKey,
    num_envs: int,
    num_steps: int,
    behaviour: Callable[[Observation, PRNGKey], Action] | None = None,
    episode_length: int | None = None) -> Demonstrations:
  """Rolls `expert` out in `num_envs` copies of `env` for `num_steps` steps.

  Everything runs in one jitted `lax.scan`; the result stays on the device.

  Args:
    expert: deterministic `obs [B, obs_size] -> action [B, A]`, e.g.
      `il_jax.experts.load(name)`; it labels every step.
    env: an unbatched environment from `il_jax.envs.make`; it is wrapped here
      (episode limit, vmap over `num_envs`, auto-reset).
    key: PRNG key (initial states and behaviour noise).
    num_envs: parallel environments B.
    num_steps: steps per environment T.
    behaviour: None to execute the expert's actions, or a stochastic
      `(obs [B, obs_size], key) -> action [B, A]` that chooses the executed
      actions instead (e.g. `il_jax.experts.load_stochastic(name)`).
    episode_length: time limit; None for the environment's
      `default_episode_length` (1000 if it has none).

  Returns:
    `Demonstrations` with leading dimensions `[num_steps, num_envs]`.
  """
  for name, value in (('num_envs', num_envs), ('num_steps', num_steps)):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
      raise ValueError(f'{name}={value!r} is not valid; expected a positive '
                       'integer.')
  if episode_length is None:
    episode_length = getattr(env, 'default_episode_length', 1000)
  wrapped = envs.wrap(env, episode_length=episode_length)
  if behaviour is None:
    # beta = 1: the learner's action is never executed, so it is a constant.
    beta = 1.0
    action_size = env.action_size

    def learner(obs, key):
      del key
      return jnp.zeros(obs.shape[:-1] + (action_size,), obs.dtype)
  else:
    beta, learner = 0.0, behaviour

  @jax.jit
  def run(key):
    transitions = rollout.collect(wrapped, learner, expert, jnp.float32(beta),
                                  key, num_envs, num_steps)
    return Demonstrations(
        obs=transitions.obs, action=transitions.action,
        expert_action=transitions.expert_action, reward=transitions.reward,
        done=transitions.done)

  return run(key)


def flatten(demos: Demonstrations) -> Demonstrations:
  """`[T, B, ...]` -> `[T * B, ...]` rows, row-major (step-major)."""
  return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), demos)


def to_dataset(demos: Demonstrations, capacity: int | None = None,
               label: str = 'expert_action') -> data.Dataset:
  """An on-device `il_jax.data.Dataset` holding every step as one row.

  Args:
    demos: demonstrations `[T, B, ...]`.
    capacity: rows of the dataset (>= T * B); None for exactly T * B.
    label: the field used as the action label: 'expert_action' (the clean
      expert action) or 'action' (what was executed).
  """
  if label not in ('expert_action', 'action'):
    raise ValueError(f"label={label!r} is not valid; expected 'expert_action' "
                     "or 'action'.")
  rows = flatten(demos)
  n = rows.obs.shape[0]
  capacity = n if capacity is None else capacity
  if capacity < n:
    raise ValueError(f'capacity={capacity} is too small for the {n} steps of '
                     'the demonstrations.')
  dataset = data.create(capacity, rows.obs.shape[-1], rows.action.shape[-1])
  return data.add(dataset, rows.obs, getattr(rows, label))


def save_npz(demos: Demonstrations, path: str) -> None:
  """Writes `demos` to `path` (`.npz`, one array per field, layout
  `[T, B, ...]`), readable with plain `numpy.load`."""
  host = jax.device_get(demos)
  np.savez(path, **{name: np.asarray(getattr(host, name)) for name in _FIELDS})


def load_npz(path: str) -> Demonstrations:
  """Reads a file written by `save_npz` back onto the device.

  Raises:
    FileNotFoundError: if `path` does not exist.
    ValueError: if a field is missing or the fields' leading dimensions
      disagree.
  """
  if not os.path.exists(path):
    raise FileNotFoundError(f'{path} does not exist; expected demonstrations '
                            'written by `save_npz`.')
  with np.load(path) as arrays:
    missing = [name for name in _FIELDS if name not in arrays.files]
    if missing:
      raise ValueError(f'{path} lacks field(s) {missing}; expected '
                       f'{list(_FIELDS)}.')
    fields = {name: arrays[name] for name in _FIELDS}
  leading = fields['reward'].shape
  for name, value in fields.items():
    if value.shape[:len(leading)] != leading:
      raise ValueError(f'{path}: field {name!r} has shape {value.shape}, '
                       f'expected leading dimensions {leading} like reward.')
  return Demonstrations(**{k: jnp.asarray(v) for k, v in fields.items()})
