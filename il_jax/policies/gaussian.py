"""Gaussian MLP policy: MLP mean, learnable state-independent log-std, NLL loss.

As in the CS285 homework: `pi(a | o) = N(a; mu(o), diag(sigma^2))` with
`mu` an MLP and `log sigma` one learnable vector `[action_size]` shared by all
observations. `mode` is `mu(o)`, `sample` is `mu(o) + sigma * eps`.

Why the log-std is bounded by default: imitation labels often come from a
deterministic expert (DAgger relabels with the expert's mean action). Once
the mean fits such labels, the NLL keeps falling as `sigma -> 0` without a
floor, the mean's gradient scales like `1 / sigma^2`, and training ends in
overflow or NaN. A large `sigma` is equally useless (sampled actions are pure
noise). So `log sigma = lo + (hi - lo) * (tanh(raw) + 1) / 2` with the
stored parameter `raw` unconstrained: the map is smooth with a nonzero
gradient everywhere, unlike a hard clip that would freeze `raw` once outside
the range. `log_std_bounds=None` gives the unconstrained CS285 parameter.
"""

import dataclasses
import math
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from il_jax.policies import base
from il_jax.types import Batch
from il_jax.types import Params
from il_jax.types import PRNGKey

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True)
class GaussianConfig:
  """Network shape and log-std parameterisation.

  Attributes:
    n_layers: hidden layers of the mean MLP; 0 gives a linear mean.
    size: width of every hidden layer.
    activation: a name in `il_jax.policies.base.ACTIVATIONS`.
    init_log_std: log-std at initialisation (0: unit std, as in CS285).
    log_std_bounds: `(lo, hi)` bounds of the log-std, enforced by a smooth
      tanh squash (see the module docstring), or None for an unconstrained
      log-std. The default `(-5, 2)` allows std in about `[0.0067, 7.4]`.
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'
  init_log_std: float = 0.0
  log_std_bounds: Optional[tuple[float, float]] = (-5.0, 2.0)

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    init_log_std = base.check_finite_float('init_log_std', self.init_log_std)
    if self.log_std_bounds is None:
      return
    bounds = tuple(self.log_std_bounds)
    if len(bounds) != 2:
      raise ValueError(
          f'log_std_bounds must be (lo, hi) or None, got {self.log_std_bounds!r}.')
    lo = base.check_finite_float('log_std_bounds[0]', bounds[0])
    hi = base.check_finite_float('log_std_bounds[1]', bounds[1])
    if not lo < init_log_std < hi:
      raise ValueError(
          f'Need log_std_bounds[0] < init_log_std < log_std_bounds[1], got '
          f'bounds {self.log_std_bounds!r} and init_log_std {init_log_std!r}.')
    # A list from a flag or a config file would make the config unhashable.
    object.__setattr__(self, 'log_std_bounds', (lo, hi))


def _squash_log_std(raw: jax.Array,
                    bounds: Optional[tuple[float, float]]) -> jax.Array:
  if bounds is None:
    return raw
  lo, hi = bounds
  return lo + 0.5 * (hi - lo) * (jnp.tanh(raw) + 1.0)


def _unsquash_log_std(log_std: float,
                      bounds: Optional[tuple[float, float]]) -> float:
  """The raw parameter for which `_squash_log_std` gives `log_std`."""
  if bounds is None:
    return log_std
  lo, hi = bounds
  return math.atanh(2.0 * (log_std - lo) / (hi - lo) - 1.0)


class GaussianNetwork(nn.Module):
  """`obs [..., obs_size] -> (mean [..., action_size], log_std [action_size])`.

  Parameters: the mean MLP under `mean` and the raw (pre-squash) log-std
  vector `raw_log_std [action_size]`.
  """
  hidden_sizes: tuple[int, ...]
  action_size: int
  activation: str
  init_log_std: float
  log_std_bounds: Optional[tuple[float, float]]

  @nn.compact
  def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
    mean = base.MLP(self.hidden_sizes, self.action_size, self.activation,
                    name='mean')(obs)
    raw_init = _unsquash_log_std(self.init_log_std, self.log_std_bounds)
    raw_log_std = self.param('raw_log_std', nn.initializers.constant(raw_init),
                             (self.action_size,), jnp.float32)
    return mean, _squash_log_std(raw_log_std, self.log_std_bounds)


def make_network(config: GaussianConfig, action_size: int) -> GaussianNetwork:
  """The Flax module of the policy."""
  return GaussianNetwork(
      hidden_sizes=(config.size,) * config.n_layers,
      action_size=action_size,
      activation=config.activation,
      init_log_std=config.init_log_std,
      log_std_bounds=config.log_std_bounds)


def _make_log_std_distribution(network: GaussianNetwork,
                               observation_size: int):
  """`(params, obs [..., obs_size]) -> (mean [..., act], log_std [act])`."""

  def distribution(params: Params, obs: jax.Array):
    obs = base.checked_observation(obs, observation_size)
    return network.apply(params, obs)

  return distribution


def make_policy(config: GaussianConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the Gaussian MLP policy.

  The loss is the negative log-likelihood of the expert's action under the
  full diagonal Gaussian density (constants included), summed over action
  dimensions (the log-density of the action vector) and averaged over the
  batch:
    `mean_b sum_d [ (a - mu)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2 ]`.
  Its aux holds `nll` (the loss), `mse` of the mean (over batch and action
  dimensions, comparable with the MLP family's loss) and `std` (mean over
  action dimensions).

  Args:
    config: network shape and log-std parameterisation.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Raises:
    ValueError: non-positive sizes or a config that is not a `GaussianConfig`.
  """
  base.check_config(config, GaussianConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  network = make_network(config, action_size)
  distribution = _make_log_std_distribution(network, observation_size)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    obs_example = base.checked_observation(obs_example, observation_size)
    return network.init(key, obs_example)

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    mean, _ = distribution(params, obs)
    return mean

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    mean, log_std = distribution(params, obs)
    # One key covers a whole batch: every element draws its own noise.
    return mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape,
                                                       mean.dtype)

  def loss(params: Params, batch: Batch, key: PRNGKey):
    del key  # The NLL is exact: no sampling.
    base.check_batch(batch, observation_size, action_size)
    mean, log_std = distribution(params, batch.obs)
    error = base.as_float(batch.action) - mean
    # Divide by sigma before squaring so a small sigma does not overflow first.
    z = error * jnp.exp(-log_std)
    log_prob = jnp.sum(-0.5 * jnp.square(z) - log_std - _HALF_LOG_2PI, axis=-1)
    nll = -jnp.mean(log_prob)
    aux = {
        'nll': nll,
        'mse': jnp.mean(jnp.square(error)),
        'std': jnp.mean(jnp.exp(log_std)),
    }
    return nll, aux

  return base.Policy(
      name='gaussian',
      config=config,
      observation_size=observation_size,
      action_size=action_size,
      init=init,
      sample=sample,
      mode=mode,
      loss=loss)


def make_distribution(config: GaussianConfig, observation_size: int,
                      action_size: int):
  """`(params, obs [..., obs_size]) -> (mean [..., act], std [act])`.

  For diagnostics and for families built on this one (ensembles, mixtures);
  the params are those of `make_policy(config, ...).init`.
  """
  base.check_config(config, GaussianConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  log_std_distribution = _make_log_std_distribution(
      make_network(config, action_size), observation_size)

  def distribution(params: Params, obs: jax.Array):
    mean, log_std = log_std_distribution(params, obs)
    return mean, jnp.exp(log_std)

  return distribution
