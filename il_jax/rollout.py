"""Vmapped `lax.scan` rollouts of batched (`wrap`-ped) environments."""

from collections.abc import Callable
from typing import NamedTuple

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


def with_action_noise(act: Callable[[Observation], Action],
                      std: float) -> ActingFn:
  """`act` plus independent `N(0, std^2)` noise per action dimension,
  clipped to [-1, 1] (the action range of every environment here): the
  injected noise of DART-style demonstrations.

  Args:
    act: deterministic `obs [B, obs_size] -> action [B, A]`.
    std: noise standard deviation (>= 0).
  """

  def noisy(obs, key):
    action = act(obs)
    noise = std * jax.random.normal(key, action.shape, action.dtype)
    return jnp.clip(action + noise, -1.0, 1.0)

  return noisy


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


class GateRecord(NamedTuple):
  """Per-step gate outcome of a gated rollout, `[T, B]`.

  Attributes:
    value: the gate's value at the step's observation.
    takeover: whether the expert took control at this step.
  """
  value: jax.Array
  takeover: jax.Array


def collect_gated(env, learner: ActingFn, expert: Callable[[Observation],
                                                           Action],
                  gate: Callable[[Observation, Action, Action], jax.Array],
                  threshold: jax.Array, min_control_steps: int,
                  release_tolerance: float | None, key: PRNGKey,
                  batch_size: int, num_steps: int):
  """Learner rollout in which the expert takes over where a gate fires.

  Per environment: while the learner drives, the expert takes control at a
  step whose gate value exceeds `threshold`; it keeps control for at least
  `min_control_steps` steps and then hands back (`release_tolerance=None`),
  or hands back only once the learner's proposal is within
  `release_tolerance` (L2) of its own action. An episode's end also ends an
  intervention. The expert is queried at every step.

  Environments are reset and keys consumed as in `collect`, so with a gate
  that always fires this visits exactly the states of `collect` with beta=1.

  Args:
    env: a `wrap`-ped environment.
    learner: `(obs [B, obs_size], key) -> action [B, A]`.
    expert: `obs [B, obs_size] -> action [B, A]`.
    gate: `(obs [B, obs_size], learner_action [B, A], expert_action [B, A])
      -> value [B]`; larger means intervene sooner.
    threshold: scalar; the expert takes over when `value > threshold`.
    min_control_steps: minimum length of an intervention.
    release_tolerance: None for the window rule, else the agreement distance.
    key: PRNG key.
    batch_size: environments B.
    num_steps: steps T.

  Returns:
    `(Transition [T, B], GateRecord [T, B])`; `Transition.expert_controlled`
    says who drove at each step.
  """
  reset_key, key = jax.random.split(key)
  state = env.reset(jax.random.split(reset_key, batch_size))

  def step(carry, key):
    state, in_control, control_steps = carry
    learner_key, _ = jax.random.split(key)
    learner_action = learner(state.obs, learner_key)
    expert_action = expert(state.obs)
    value = gate(state.obs, learner_action, expert_action)
    takeover = ~in_control & (value > threshold)
    in_control = in_control | takeover
    control_steps = jnp.where(takeover, 0, control_steps) + in_control
    action = jnp.where(in_control[:, None], expert_action, learner_action)
    next_state = env.step(state, action)

    release = control_steps >= min_control_steps
    if release_tolerance is not None:
      distance = jnp.linalg.norm(learner_action - expert_action, axis=-1)
      release &= distance <= release_tolerance
    done = next_state.done.astype(bool)
    transition = Transition(
        obs=state.obs, action=action, expert_action=expert_action,
        reward=next_state.reward, done=done, expert_controlled=in_control,
        episode=envs.episode_stats(next_state))
    carry = (next_state, in_control & ~release & ~done, control_steps)
    return carry, (transition, GateRecord(value=value, takeover=takeover))

  carry = (state, jnp.zeros(batch_size, bool),
           jnp.zeros(batch_size, jnp.int32))
  _, (transitions, record) = jax.lax.scan(step, carry,
                                          jax.random.split(key, num_steps))
  return transitions, record
