"""Training wrappers: episode limits, vmap, auto-reset with fresh initial states.

We reuse brax's `EpisodeWrapper` (time limit, truncation flag, per-episode
reward sums) and `VmapWrapper`. Brax's `AutoResetWrapper` restarts every
episode of an environment from the one initial state it cached at the first
reset; imitation learning evaluates and aggregates over the initial-state
distribution (Gymnasium samples a fresh one every episode), so our
`AutoResetWrapper` draws a fresh initial state for every new episode.
`ShardEnvsWrapper` splits the batch of environments over devices when a mesh
with an `'envs'` axis is in context.
"""

import jax
import jax.numpy as jnp
from brax.envs.base import Env, State, Wrapper
from brax.envs.wrappers.training import EpisodeWrapper, VmapWrapper
from jax.sharding import PartitionSpec

from il_jax.envs.validation import check_positive

# Mesh axis over which a batch of environments is split (see
# `ShardEnvsWrapper`).
ENV_AXIS = 'envs'

# Keys of `State.info` written by `EpisodeWrapper` and `AutoResetWrapper`: they
# describe the episode that just ended and must survive the reset.
_BOOKKEEPING_KEYS = frozenset(
    {'steps', 'truncation', 'episode_done', 'episode_metrics', 'reset_key',
     'final_obs'})


class AutoResetWrapper(Wrapper):
  """Resets every ended episode to a freshly sampled initial state.

  Operates on a batch with one leading dimension `[B]` (it wraps a
  `VmapWrapper`). At the step where an episode ends, `done` stays true and the
  episode bookkeeping in `info` still describes the ended episode, while `obs`
  and the physics state already belong to the next episode; the ended
  episode's last observation is kept in `info['final_obs']` (equal to `obs`
  where no episode ended), which value bootstrapping at truncation needs.
  """

  def reset(self, rng: jax.Array) -> State:
    keys = jax.vmap(jax.random.split)(rng)  # [B, 2, 2]
    state = self.env.reset(keys[:, 0])
    state.info['reset_key'] = keys[:, 1]
    state.info['final_obs'] = state.obs
    return state

  def step(self, state: State, action: jax.Array) -> State:
    if 'steps' in state.info:
      steps = jnp.where(state.done, jnp.zeros_like(state.info['steps']),
                        state.info['steps'])
      state.info.update(steps=steps)
    state = state.replace(done=jnp.zeros_like(state.done))
    state = self.env.step(state, action)

    keys = jax.vmap(jax.random.split)(state.info['reset_key'])
    fresh = self.env.reset(keys[:, 1])
    done = state.done.astype(bool)

    def where_done(fresh_x, x):
      mask = jnp.reshape(done, done.shape + (1,) * (x.ndim - done.ndim))
      return jnp.where(mask, fresh_x, x)

    info = dict(state.info)
    for key, value in fresh.info.items():
      if key not in _BOOKKEEPING_KEYS:
        info[key] = jax.tree.map(where_done, value, state.info[key])
    info['reset_key'] = keys[:, 0]
    info['final_obs'] = state.obs
    return state.replace(
        pipeline_state=jax.tree.map(where_done, fresh.pipeline_state,
                                    state.pipeline_state),
        obs=jax.tree.map(where_done, fresh.obs, state.obs),
        info=info)


class ShardEnvsWrapper(Wrapper):
  """Splits the batch `[B]` of environments over the mesh axis `'envs'`.

  When the mesh in context (`jax.set_mesh`) has an `'envs'` axis of size
  `d > 1`, every state leaf with a leading dimension divisible by `d` is
  constrained to `PartitionSpec('envs')`, so each device steps `B / d`
  environments (under a `vmap` over members with `spmd_axis_name`, the
  member axis keeps its own sharding). Without such a mesh it does nothing,
  so single-device programs are unchanged.
  """

  def reset(self, rng: jax.Array) -> State:
    return split_envs(self.env.reset(rng))

  def step(self, state: State, action: jax.Array) -> State:
    return split_envs(self.env.step(state, action))


def split_envs(tree):
  """Constrains `tree`'s leaves `[B, ...]` to be split over `'envs'` (see
  `ShardEnvsWrapper`); the identity without such a mesh in context."""
  mesh = jax.sharding.get_abstract_mesh()
  if mesh.empty or ENV_AXIS not in mesh.axis_names:
    return tree
  size = dict(mesh.shape)[ENV_AXIS]
  if size == 1:
    return tree

  def constrain(x):
    if getattr(x, 'ndim', 0) >= 1 and x.shape[0] % size == 0:
      return jax.lax.with_sharding_constraint(x, PartitionSpec(ENV_AXIS))
    return x

  return jax.tree.map(constrain, tree)


def wrap(env: Env,
         episode_length: int = 1000,
         action_repeat: int = 1,
         auto_reset: bool = True) -> Env:
  """Adds an episode limit, vmap over a batch, (optionally) auto-reset, and
  the split of the batch over an `'envs'` mesh axis when one is in context.

  The wrapped environment takes a batch of raw keys `[B, 2]` in `reset` and
  actions `[B, action_size]` in `step`. Episode statistics of the episodes that
  end at a step are read with `il_jax.envs.episode_stats(state)`.

  Args:
    env: an unbatched brax-interface environment, e.g. from `make`.
    episode_length: maximum steps per episode (truncation after it).
    action_repeat: environment steps per agent step.
    auto_reset: whether ended episodes restart from a fresh initial state.
  """
  check_positive('episode_length', episode_length, integer=True)
  check_positive('action_repeat', action_repeat, integer=True)
  env = EpisodeWrapper(env, episode_length, action_repeat)
  env = VmapWrapper(env)
  if auto_reset:
    env = AutoResetWrapper(env)
  return ShardEnvsWrapper(env)
