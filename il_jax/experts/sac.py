"""Soft actor-critic: the expert trainer for machines without an accelerator.

PPO (`ppo.py`) is the expert trainer on a GPU: it needs 10^7 to 10^8
environment steps, which MJX delivers at millions of steps/s there but at
under a thousand on a CPU. SAC reaches a walking Walker2d in about 10^6
steps, few enough for Gymnasium's C MuJoCo on one CPU core, at the price of
one gradient step per environment step. This module is the learner only, as
pure functions; `launch/train_expert_gymnasium.py` drives it with Gymnasium
environments on the host and exports the same expert format as PPO
(`ppo_networks.ExpertParams` + `PolicySpec`), so `experts.load` cannot tell
the two apart.

The actor is `ppo_networks.policy_module`, the tanh-Gaussian policy PPO
trains; the critic is a pair of Q networks with Polyak-averaged targets
(clipped double Q), and the entropy temperature is tuned towards a target
entropy of `-action_size` (Haarnoja et al., 2018). No observation normaliser
is learned (an off-policy learner would chase a moving input scale); the
exported normaliser is the identity.
"""

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from il_jax.envs.validation import (check_fraction, check_layer_sizes,
                                    check_positive)
from il_jax.experts import ppo_networks
from il_jax.types import Action, Metrics, Observation, Params, PRNGKey


@dataclasses.dataclass(frozen=True)
class SACConfig:
  """Static settings of the SAC learner; frozen and hashable.

  Attributes:
    policy_hidden_sizes: the actor MLP's hidden layer sizes.
    q_hidden_sizes: each critic MLP's hidden layer sizes.
    activation: the hidden activation.
    policy_learning_rate: the actor's Adam learning rate.
    q_learning_rate: the critics' Adam learning rate.
    alpha_learning_rate: the entropy temperature's Adam learning rate.
    batch_size: transitions per gradient step.
    discount: the discount factor.
    tau: the Polyak step of the target critics per update.
    initial_alpha: the entropy temperature at the start.
    target_entropy: the entropy the temperature steers towards; None:
      -action_size, the usual heuristic.
    reward_scaling: multiplies rewards for learning.
  """
  policy_hidden_sizes: tuple[int, ...] = (256, 256)
  q_hidden_sizes: tuple[int, ...] = (256, 256)
  activation: str = 'relu'
  policy_learning_rate: float = 3e-4
  q_learning_rate: float = 1e-3
  alpha_learning_rate: float = 1e-3
  batch_size: int = 256
  discount: float = 0.99
  tau: float = 0.005
  initial_alpha: float = 1.0
  target_entropy: float | None = None
  reward_scaling: float = 1.0

  def __post_init__(self):
    check_positive('batch_size', self.batch_size, integer=True)
    for name in ('policy_learning_rate', 'q_learning_rate',
                 'alpha_learning_rate', 'initial_alpha', 'reward_scaling'):
      check_positive(name, getattr(self, name))
    for name in ('discount', 'tau'):
      check_fraction(name, getattr(self, name))
    for name in ('policy_hidden_sizes', 'q_hidden_sizes'):
      object.__setattr__(self, name,
                         check_layer_sizes(name, getattr(self, name)))
    # Builds a spec once so that a bad activation fails here.
    ppo_networks.PolicySpec(1, 1, self.policy_hidden_sizes, self.activation)


class ReplayBatch(NamedTuple):
  """A batch sampled from the replay buffer; every field has leading shape
  `[B]`.

  `terminated` is 1.0 where the episode ended in a terminal state (no
  bootstrap) and 0.0 otherwise, time-limit truncation included.
  """
  obs: jax.Array  # [B, obs_size]
  action: jax.Array  # [B, action_size], in (-1, 1)
  reward: jax.Array  # [B]
  next_obs: jax.Array  # [B, obs_size]
  terminated: jax.Array  # [B]


@struct.dataclass
class SACState:
  """The learner's whole state; checkpointing it (with the replay buffer)
  resumes training."""
  policy: Params
  q: Params
  target_q: Params
  log_alpha: jax.Array  # scalar
  policy_opt: optax.OptState
  q_opt: optax.OptState
  alpha_opt: optax.OptState
  key: PRNGKey
  updates: jax.Array  # scalar int32


class DoubleQ(nn.Module):
  """Two independent Q networks: `(obs [..., O], action [..., A]) -> [..., 2]`."""
  hidden_sizes: tuple[int, ...]
  activation: str

  @nn.compact
  def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
    x = jnp.concatenate([obs, action], axis=-1)
    heads = [
        ppo_networks.value_module(self.hidden_sizes, self.activation)(x)
        for _ in range(2)
    ]
    return jnp.concatenate(heads, axis=-1)


class SAC(NamedTuple):
  """SAC's pure functions for one observation and action size.

  init: `key -> SACState`.
  update: `(SACState, ReplayBatch [B]) -> (SACState, metrics)`, one gradient
    step of the critics, the actor and the temperature.
  update_many: `(SACState, ReplayBatch [K, B]) -> (SACState, metrics [K])`,
    `K` updates in one `lax.scan`: one dispatch for many steps.
  act: `(policy params, obs [..., O], key) -> action [..., A]`, a sample.
  mode: `(policy params, obs [..., O]) -> action [..., A]`, deterministic.
  """
  config: SACConfig
  policy_spec: ppo_networks.PolicySpec
  init: Callable[[PRNGKey], SACState]
  update: Callable[[SACState, ReplayBatch], tuple[SACState, Metrics]]
  update_many: Callable[[SACState, ReplayBatch], tuple[SACState, Metrics]]
  act: Callable[[Params, Observation, PRNGKey], Action]
  mode: Callable[[Params, Observation], Action]


def tanh_gaussian_log_prob(logits: jax.Array, u: jax.Array) -> jax.Array:
  """Log-density of the action `tanh(u)`, summed over actions: `[...]`.

  PPO drops the tanh Jacobian because it cancels in a ratio; SAC's entropy
  term needs the density of the action itself.
  """
  return (ppo_networks.pre_tanh_log_prob(logits, u) -
          jnp.sum(ppo_networks.log_det_tanh_jacobian(u), axis=-1))


def make_sac(config: SACConfig, observation_size: int,
             action_size: int) -> SAC:
  """Builds SAC's pure functions for the given observation and action sizes."""
  check_positive('observation_size', observation_size, integer=True)
  check_positive('action_size', action_size, integer=True)
  spec = ppo_networks.PolicySpec(
      observation_size=observation_size,
      action_size=action_size,
      hidden_sizes=config.policy_hidden_sizes,
      activation=config.activation)
  policy_net = ppo_networks.policy_module(spec)
  q_net = DoubleQ(config.q_hidden_sizes, config.activation)
  target_entropy = (-float(action_size) if config.target_entropy is None else
                    float(config.target_entropy))
  policy_optimizer = optax.adam(config.policy_learning_rate)
  q_optimizer = optax.adam(config.q_learning_rate)
  alpha_optimizer = optax.adam(config.alpha_learning_rate)

  def init(key: PRNGKey) -> SACState:
    policy_key, q_key, run_key = jax.random.split(key, 3)
    obs = jnp.zeros((1, observation_size))
    action = jnp.zeros((1, action_size))
    policy = policy_net.init(policy_key, obs)
    q = q_net.init(q_key, obs, action)
    log_alpha = jnp.log(jnp.asarray(config.initial_alpha, jnp.float32))
    return SACState(
        policy=policy,
        q=q,
        target_q=q,
        log_alpha=log_alpha,
        policy_opt=policy_optimizer.init(policy),
        q_opt=q_optimizer.init(q),
        alpha_opt=alpha_optimizer.init(log_alpha),
        key=run_key,
        updates=jnp.zeros((), jnp.int32))

  def sample(policy: Params, obs: jax.Array, key: PRNGKey):
    """An action `[..., A]` and its log-density `[...]`."""
    logits = policy_net.apply(policy, obs)
    u = ppo_networks.sample_pre_tanh(logits, key)
    return jnp.tanh(u), tanh_gaussian_log_prob(logits, u)

  def q_loss(q: Params, state: SACState, batch: ReplayBatch, key: PRNGKey):
    alpha = jnp.exp(state.log_alpha)
    next_action, next_log_prob = sample(state.policy, batch.next_obs, key)
    next_q = jnp.min(q_net.apply(state.target_q, batch.next_obs, next_action),
                     axis=-1)
    target = (config.reward_scaling * batch.reward + config.discount *
              (1.0 - batch.terminated) * (next_q - alpha * next_log_prob))
    target = jax.lax.stop_gradient(target)
    q_values = q_net.apply(q, batch.obs, batch.action)
    loss = 0.5 * jnp.mean(jnp.sum(jnp.square(q_values - target[:, None]),
                                  axis=-1))
    return loss, jnp.mean(q_values)

  def policy_loss(policy: Params, q: Params, log_alpha: jax.Array,
                  obs: jax.Array, key: PRNGKey):
    action, log_prob = sample(policy, obs, key)
    q_values = jnp.min(q_net.apply(q, obs, action), axis=-1)
    alpha = jax.lax.stop_gradient(jnp.exp(log_alpha))
    return jnp.mean(alpha * log_prob - q_values), log_prob

  def alpha_loss(log_alpha: jax.Array, log_prob: jax.Array):
    return -log_alpha * jnp.mean(jax.lax.stop_gradient(log_prob) +
                                 target_entropy)

  def update(state: SACState, batch: ReplayBatch
             ) -> tuple[SACState, Metrics]:
    key, q_key, policy_key = jax.random.split(state.key, 3)
    (q_value_loss, mean_q), q_grads = jax.value_and_grad(
        q_loss, has_aux=True)(state.q, state, batch, q_key)
    q_updates, q_opt = q_optimizer.update(q_grads, state.q_opt, state.q)
    q = optax.apply_updates(state.q, q_updates)
    (pi_loss, log_prob), policy_grads = jax.value_and_grad(
        policy_loss, has_aux=True)(state.policy, q, state.log_alpha,
                                   batch.obs, policy_key)
    policy_updates, policy_opt = policy_optimizer.update(
        policy_grads, state.policy_opt, state.policy)
    policy = optax.apply_updates(state.policy, policy_updates)
    alpha_grad = jax.grad(alpha_loss)(state.log_alpha, log_prob)
    alpha_updates, alpha_opt = alpha_optimizer.update(alpha_grad,
                                                      state.alpha_opt)
    log_alpha = optax.apply_updates(state.log_alpha, alpha_updates)
    target_q = optax.incremental_update(q, state.target_q, config.tau)
    new_state = SACState(
        policy=policy,
        q=q,
        target_q=target_q,
        log_alpha=log_alpha,
        policy_opt=policy_opt,
        q_opt=q_opt,
        alpha_opt=alpha_opt,
        key=key,
        updates=state.updates + 1)
    metrics = {
        'q_loss': q_value_loss,
        'policy_loss': pi_loss,
        'alpha': jnp.exp(log_alpha),
        'entropy': -jnp.mean(log_prob),
        'mean_q': mean_q,
    }
    return new_state, metrics

  def update_many(state: SACState, batches: ReplayBatch
                  ) -> tuple[SACState, Metrics]:
    return jax.lax.scan(update, state, batches)

  def act(policy: Params, obs: Observation, key: PRNGKey) -> Action:
    return sample(policy, obs, key)[0]

  def mode(policy: Params, obs: Observation) -> Action:
    return ppo_networks.mode(policy_net.apply(policy, obs))

  return SAC(config, spec, init, update, update_many, act, mode)


def export(state: SACState, observation_size: int
           ) -> ppo_networks.ExpertParams:
  """The trained actor with an identity normaliser, for `make_policy_fn`."""
  return ppo_networks.ExpertParams(
      policy=state.policy,
      obs_stats=ppo_networks.init_running_stats(observation_size))
