"""Vmapped `lax.scan` rollouts of batched (`wrap`-ped) environments."""

from collections.abc import Callable

import jax

from il_jax import envs
from il_jax.types import Action, Observation, PRNGKey

# (obs [B, obs_size], key) -> action [B, action_size]
ActingFn = Callable[[Observation, PRNGKey], Action]


def uniform_random_policy(action_size: int, low: float = -1.0,
                          high: float = 1.0) -> ActingFn:
  """Actions uniform in [low, high]^action_size, independently per env."""

  def act(obs, key):
    return jax.random.uniform(key, obs.shape[:-1] + (action_size,),
                              minval=low, maxval=high)

  return act


def make_episode_summary_rollout(env, act: ActingFn, batch_size: int,
                                 num_steps: int):
  """`run(key) -> summary`: reset `batch_size` envs, act for `num_steps`.

  Args:
    env: a `wrap`-ped (batched, auto-resetting) environment.
    act: acting function `(obs [B, obs_size], key) -> action [B, A]`.
    batch_size: number of parallel environments B.
    num_steps: steps per environment.

  Returns:
    `run(key)` giving `envs.summarize_episodes` over the episodes that ended
    during the rollout: scalars only, so nothing of size `[num_steps, B]`
    leaves the device.
  """

  def run(key):
    reset_key, act_key = jax.random.split(key)
    state = env.reset(jax.random.split(reset_key, batch_size))

    def step(state, key):
      state = env.step(state, act(state.obs, key))
      return state, envs.episode_stats(state)

    _, stats = jax.lax.scan(step, state, jax.random.split(act_key, num_steps))
    return envs.summarize_episodes(stats)

  return run
