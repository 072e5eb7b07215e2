"""Vmapped `lax.scan` rollouts of batched (`wrap`-ped) environments."""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from il_jax import envs
from il_jax.types import Action, Observation, PRNGKey, Transition

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


def collect(env, learner: ActingFn, expert: Callable[[Observation], Action],
            beta: jax.Array, key: PRNGKey, batch_size: int,
            num_steps: int) -> Transition:
  """Rolls out a beta-mixture of expert and learner, labelling every step.

  At every step and in every environment independently, the expert's action
  is executed with probability `beta` and the learner's otherwise (DAgger's
  mixture policy); the expert is queried at every visited observation either
  way, so `expert_action` is the relabelled target.

  Args:
    env: a `wrap`-ped (batched, auto-resetting) environment; it is reset
      here, so episodes do not span calls.
    learner: `(obs [B, obs_size], key) -> action [B, A]`.
    expert: `obs [B, obs_size] -> action [B, A]`, deterministic.
    beta: scalar probability of executing the expert's action.
    key: PRNG key.
    batch_size: number of parallel environments B.
    num_steps: steps per environment T.

  Returns:
    Transition with leading dimensions `[T, B]`.
  """
  reset_key, key = jax.random.split(key)
  state = env.reset(jax.random.split(reset_key, batch_size))

  def step(state, key):
    learner_key, mix_key = jax.random.split(key)
    learner_action = learner(state.obs, learner_key)
    expert_action = expert(state.obs)
    use_expert = jax.random.bernoulli(mix_key, beta, (batch_size,))
    action = jnp.where(use_expert[:, None], expert_action, learner_action)
    next_state = env.step(state, action)
    return next_state, Transition(
        obs=state.obs, action=action, expert_action=expert_action,
        reward=next_state.reward, done=next_state.done.astype(bool),
        expert_controlled=use_expert,
        episode=envs.episode_stats(next_state))

  _, transitions = jax.lax.scan(step, state, jax.random.split(key, num_steps))
  return transitions
