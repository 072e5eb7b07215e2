"""Conditional VAE policy: a latent `z` picks the mode, a decoder maps
`(obs, z)` to an action.

  encoder  q(z | o, a) = N(z; mu(o, a), diag(exp(log_var(o, a))))
  decoder  a_hat = g(o, z),   prior p(z) = N(0, I)

Trained by the negative ELBO with a weighted KL term (a beta-VAE):

  loss = mean_b [ sum_d (a - g(o, z))^2 + kl_weight * KL(q(z | o, a) || p(z)) ]

with one reparameterised `z ~ q` per example. The reconstruction term is the
Gaussian decoder's negative log-likelihood with variance `kl_weight / 2`
rescaled (multiply the NLL by `kl_weight`, drop constants), so `kl_weight`
sets how sharp the decoder is: small values fit each mode tightly but leave
the aggregate posterior farther from the prior, large values pull the
posterior onto the prior until `z` is ignored (posterior collapse) and the
policy regresses to the mean like an MSE regressor.

`sample` decodes `z ~ N(0, I)`. `mode` approximates the most likely action
of the policy's marginal

  p(a | o) = E_{z ~ p(z)} N(a; g(o, z), (kl_weight / 2) I)

(the decoder variance the loss implies): it decodes `mode_candidates` fixed
latents (the prior's centre `z = 0`, then fixed draws from the prior; the same
for every observation, so `mode` is deterministic), scores each decoded
action by the Monte Carlo estimate of that density over all the candidates,
and returns the highest-scoring one. Decoding `z = 0` alone (ACT's
test-time choice; `mode_candidates=1`) suits a unimodal expert, but for a
multimodal one the prior's centre can decode to a point between the modes,
where their latent regions meet: the density picks a point in one of them.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from il_jax.policies import base
from il_jax.types import Batch
from il_jax.types import Params
from il_jax.types import PRNGKey


@dataclasses.dataclass(frozen=True)
class CVAEConfig:
  """Network shapes and the ELBO's KL weight.

  Attributes:
    n_layers: hidden layers of the encoder and of the decoder.
    size: width of every hidden layer.
    activation: a name in `il_jax.policies.base.ACTIVATIONS`.
    latent_size: dimension of `z`.
    kl_weight: weight of the KL term in the loss (beta); positive.
    mode_candidates: latents `mode` decodes and scores (1: `z = 0` alone).
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'
  latent_size: int = 8
  kl_weight: float = 0.05
  mode_candidates: int = 32

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    base.check_positive_int('latent_size', self.latent_size)
    base.check_positive_int('mode_candidates', self.mode_candidates)
    kl_weight = base.check_finite_float('kl_weight', self.kl_weight)
    if kl_weight <= 0:
      raise ValueError(f'kl_weight must be positive, got {self.kl_weight!r}.')
    object.__setattr__(self, 'kl_weight', kl_weight)


class CVAENetwork(nn.Module):
  """The encoder and decoder MLPs, under `encoder` and `decoder`.

  `__call__` (used by `init`) runs both on one input; `encode` and `decode`
  are applied separately with `method=`.
  """
  hidden_sizes: tuple[int, ...]
  action_size: int
  latent_size: int
  activation: str

  def setup(self):
    self.encoder = base.MLP(self.hidden_sizes, 2 * self.latent_size,
                            self.activation)
    self.decoder = base.MLP(self.hidden_sizes, self.action_size,
                            self.activation)

  def encode(self, obs: jax.Array, action: jax.Array):
    """`obs [..., obs], action [..., act] -> (mean, log_var) [..., latent]`."""
    out = self.encoder(jnp.concatenate([obs, action], axis=-1))
    return out[..., :self.latent_size], out[..., self.latent_size:]

  def decode(self, obs: jax.Array, z: jax.Array) -> jax.Array:
    """`obs [..., obs], z [..., latent] -> action [..., act]`."""
    return self.decoder(jnp.concatenate([obs, z], axis=-1))

  def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
    mean, _ = self.encode(obs, action)
    return self.decode(obs, mean)


def make_network(config: CVAEConfig, action_size: int) -> CVAENetwork:
  """The Flax module of the policy."""
  return CVAENetwork(
      hidden_sizes=(config.size,) * config.n_layers,
      action_size=action_size,
      latent_size=config.latent_size,
      activation=config.activation)


def make_policy(config: CVAEConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the conditional-VAE policy.

  Aux of the loss: `loss` (the weighted negative ELBO above), `recon` (the
  squared error summed over action dimensions, averaged over the batch),
  `mse` (the same per action dimension, comparable with the MLP family's
  loss) and `kl` (KL(q || p) per example, in nats).

  Args:
    config: network shapes and KL weight.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Raises:
    ValueError: non-positive sizes or a config that is not a `CVAEConfig`.
  """
  base.check_config(config, CVAEConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  network = make_network(config, action_size)
  latent_size = config.latent_size
  # [N, latent]: the prior's centre first, so that with N = 1 (and on ties)
  # `mode` decodes z = 0.
  mode_latents = np.concatenate([
      np.zeros((1, latent_size)),
      np.random.default_rng(0).standard_normal(
          (config.mode_candidates - 1, latent_size))]).astype(np.float32)
  decoder_variance = config.kl_weight / 2

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    obs_example = base.checked_observation(obs_example, observation_size)
    action = jnp.zeros(obs_example.shape[:-1] + (action_size,), jnp.float32)
    return network.init(key, obs_example, action)

  def decode(params, obs, z):
    return network.apply(params, obs, z, method=CVAENetwork.decode)

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    obs = base.checked_observation(obs, observation_size)
    batch_shape = obs.shape[:-1] + mode_latents.shape[:1]
    candidates = decode(   # [..., N, action_size]
        params, jnp.broadcast_to(obs[..., None, :],
                                 batch_shape + obs.shape[-1:]),
        jnp.broadcast_to(mode_latents, batch_shape + (latent_size,)))
    squared_distance = jnp.sum(   # [..., N, N]
        jnp.square(candidates[..., :, None, :] - candidates[..., None, :, :]),
        axis=-1)
    log_density = jax.nn.logsumexp(   # [..., N], up to a constant
        -squared_distance / (2 * decoder_variance), axis=-1)
    best = jnp.argmax(log_density, axis=-1)
    return jnp.take_along_axis(candidates, best[..., None, None],
                               axis=-2)[..., 0, :]

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    obs = base.checked_observation(obs, observation_size)
    z = jax.random.normal(key, obs.shape[:-1] + (latent_size,))
    return decode(params, obs, z)

  def loss(params: Params, batch: Batch, key: PRNGKey):
    base.check_batch(batch, observation_size, action_size)
    obs, action = base.as_float(batch.obs), base.as_float(batch.action)
    mean, log_var = network.apply(params, obs, action,
                                  method=CVAENetwork.encode)
    eps = jax.random.normal(key, mean.shape, mean.dtype)
    z = mean + jnp.exp(0.5 * log_var) * eps
    squared_error = jnp.square(decode(params, obs, z) - action)
    recon = jnp.mean(jnp.sum(squared_error, axis=-1))
    kl = jnp.mean(0.5 * jnp.sum(
        jnp.square(mean) + jnp.exp(log_var) - 1.0 - log_var, axis=-1))
    total = recon + config.kl_weight * kl
    aux = {'loss': total, 'recon': recon, 'mse': jnp.mean(squared_error),
           'kl': kl}
    return total, aux

  return base.Policy(
      name='cvae',
      config=config,
      observation_size=observation_size,
      action_size=action_size,
      init=init,
      sample=sample,
      mode=mode,
      loss=loss)
