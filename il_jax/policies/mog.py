"""Mixture-of-Gaussians policy: K diagonal Gaussians with state-dependent
weights, means and standard deviations, trained by the mixture's NLL.

  pi(a | o) = sum_k w_k(o) N(a; mu_k(o), diag(sigma_k(o)^2))

One MLP trunk feeds three linear heads: mixture logits `[..., K]`, means
`[..., K, act]` and raw log-stds `[..., K, act]`. The log-likelihood is
computed in log space (`logsumexp` over components), so no density
underflows. `mode` is the mean of the most probable component (a real action
of one mode, never an average of modes), `sample` draws a component and then
a Gaussian sample from it.

Two choices that keep training healthy:
- The log-std is squashed into `log_std_bounds` by the same smooth tanh map
  as the Gaussian family (see `gaussian.py`): a component collapsing onto one
  deterministic label would otherwise drive the NLL to minus infinity.
- The means head's bias starts spread uniformly over `[-1, 1]` (the usual
  action range) instead of at zero. With zero biases every component would
  start identical wherever the trunk's features are uninformative (e.g. a
  constant observation), get identical gradients and never separate.
"""

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from il_jax.policies import base
from il_jax.types import Batch
from il_jax.types import Params
from il_jax.types import PRNGKey

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True)
class MoGConfig:
  """Network shape and mixture settings.

  Attributes:
    n_layers: hidden layers of the trunk; 0 gives linear heads.
    size: width of every hidden layer.
    activation: a name in `il_jax.policies.base.ACTIVATIONS`.
    num_components: K, the number of mixture components.
    init_log_std: every component's log-std at initialisation, up to the
      trunk's contribution (0: unit std, wide enough for every component to
      see every label at first, so that none starts out dead).
    log_std_bounds: `(lo, hi)` bounds of every component's log-std, enforced
      by a smooth tanh squash. The default `(-5, 2)` allows std in about
      `[0.0067, 7.4]`.
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'
  num_components: int = 5
  init_log_std: float = 0.0
  log_std_bounds: tuple[float, float] = (-5.0, 2.0)

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    base.check_positive_int('num_components', self.num_components)
    try:
      bounds = tuple(self.log_std_bounds)
    except TypeError:
      bounds = ()
    if len(bounds) != 2:
      raise ValueError(
          f'log_std_bounds must be (lo, hi), got {self.log_std_bounds!r}.')
    lo = base.check_finite_float('log_std_bounds[0]', bounds[0])
    hi = base.check_finite_float('log_std_bounds[1]', bounds[1])
    init_log_std = base.check_finite_float('init_log_std', self.init_log_std)
    if not lo < init_log_std < hi:
      raise ValueError(
          f'Need log_std_bounds[0] < init_log_std < log_std_bounds[1], got '
          f'bounds {self.log_std_bounds!r} and init_log_std {init_log_std!r}.')
    object.__setattr__(self, 'init_log_std', init_log_std)
    # A list from a flag or a config file would make the config unhashable.
    object.__setattr__(self, 'log_std_bounds', (lo, hi))


def _uniform_symmetric(key, shape, dtype=jnp.float32):
  """U[-1, 1): spreads the components' initial means over the action range."""
  return jax.random.uniform(key, shape, dtype, -1.0, 1.0)


class MoGNetwork(nn.Module):
  """`obs [..., obs] -> (logits [..., K], means [..., K, act],
  log_stds [..., K, act])`; the logits are unnormalised.

  Parameters: the trunk's layers `hidden_0`, `hidden_1`, ... and the linear
  heads `logits`, `means` and `raw_log_stds` on the last hidden layer.
  """
  hidden_sizes: tuple[int, ...]
  action_size: int
  num_components: int
  activation: str
  init_log_std: float
  log_std_bounds: tuple[float, float]

  @nn.compact
  def __call__(self, obs: jax.Array):
    activation = base.ACTIVATIONS[self.activation]
    x = obs
    for i, width in enumerate(self.hidden_sizes):
      x = activation(nn.Dense(width, name=f'hidden_{i}')(x))
    k, act = self.num_components, self.action_size
    logits = nn.Dense(k, name='logits')(x)
    means = nn.Dense(k * act, name='means', bias_init=_uniform_symmetric)(x)
    lo, hi = self.log_std_bounds
    # The raw value that the squash below maps to init_log_std.
    raw_init = math.atanh(2.0 * (self.init_log_std - lo) / (hi - lo) - 1.0)
    raw_log_stds = nn.Dense(
        k * act, name='raw_log_stds',
        bias_init=nn.initializers.constant(raw_init))(x)
    log_stds = lo + 0.5 * (hi - lo) * (jnp.tanh(raw_log_stds) + 1.0)
    shape = x.shape[:-1] + (k, act)
    return logits, means.reshape(shape), log_stds.reshape(shape)


def make_network(config: MoGConfig, action_size: int) -> MoGNetwork:
  """The Flax module of the policy."""
  return MoGNetwork(
      hidden_sizes=(config.size,) * config.n_layers,
      action_size=action_size,
      num_components=config.num_components,
      activation=config.activation,
      init_log_std=config.init_log_std,
      log_std_bounds=config.log_std_bounds)


def _check_config(config, observation_size, action_size):
  base.check_config(config, MoGConfig)
  return base.check_sizes(observation_size, action_size)


def _make_forward(config: MoGConfig, observation_size: int, action_size: int):
  """`(params, obs [..., obs]) -> (log_weights [..., K], means [..., K, act],
  log_stds [..., K, act])` with normalised `log_weights`."""
  network = make_network(config, action_size)

  def forward(params: Params, obs: jax.Array):
    obs = base.checked_observation(obs, observation_size)
    logits, means, log_stds = network.apply(params, obs)
    return jax.nn.log_softmax(logits, axis=-1), means, log_stds

  return forward


def _mixture_log_prob(log_weights, means, log_stds, action):
  """`log pi(action) [...]` from the mixture's parameters and an action."""
  # Divide by sigma before squaring so a small sigma does not overflow first.
  z = (base.as_float(action)[..., None, :] - means) * jnp.exp(-log_stds)
  component_log_prob = jnp.sum(
      -0.5 * jnp.square(z) - log_stds - _HALF_LOG_2PI, axis=-1)
  return jax.nn.logsumexp(log_weights + component_log_prob, axis=-1)


def make_mixture(config: MoGConfig, observation_size: int, action_size: int):
  """`(params, obs [..., obs]) -> (log_weights [..., K], means [..., K, act],
  stds [..., K, act])` with `log_weights` normalised (`logsumexp` is 0).

  For diagnostics and tests; the params are those of
  `make_policy(config, ...).init`.
  """
  forward = _make_forward(
      config, *_check_config(config, observation_size, action_size))

  def mixture(params: Params, obs: jax.Array):
    log_weights, means, log_stds = forward(params, obs)
    return log_weights, means, jnp.exp(log_stds)

  return mixture


def make_log_prob(config: MoGConfig, observation_size: int, action_size: int):
  """`(params, obs [..., obs], action [..., act]) -> log pi(a | o) [...]`, the
  log-density of the whole action vector under the mixture."""
  forward = _make_forward(
      config, *_check_config(config, observation_size, action_size))

  def log_prob(params: Params, obs: jax.Array, action: jax.Array):
    return _mixture_log_prob(*forward(params, obs), action)

  return log_prob


def make_policy(config: MoGConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the mixture-of-Gaussians policy.

  The loss is the mixture's negative log-likelihood of the expert's action
  (constants included), averaged over the batch. Aux: `nll` (the loss),
  `mse` of `mode` against the label (comparable with the MLP family's loss,
  over batch and action dimensions), `std` (mean component std, weighted by
  the mixture weights) and `max_weight` (mean largest mixture weight; near 1
  means one component took over).

  Args:
    config: network shape and mixture settings.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Raises:
    ValueError: non-positive sizes or a config that is not a `MoGConfig`.
  """
  observation_size, action_size = _check_config(config, observation_size,
                                                action_size)
  network = make_network(config, action_size)
  forward = _make_forward(config, observation_size, action_size)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    obs_example = base.checked_observation(obs_example, observation_size)
    return network.init(key, obs_example)

  def _component_mean(means, index):
    # means [..., K, act], index [...] -> [..., act]
    return jnp.take_along_axis(means, index[..., None, None], axis=-2)[..., 0,
                                                                       :]

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    log_weights, means, _ = forward(params, obs)
    return _component_mean(means, jnp.argmax(log_weights, axis=-1))

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    log_weights, means, log_stds = forward(params, obs)
    component_key, noise_key = jax.random.split(key)
    index = jax.random.categorical(component_key, log_weights, axis=-1)
    mean = _component_mean(means, index)
    std = jnp.exp(_component_mean(log_stds, index))
    return mean + std * jax.random.normal(noise_key, mean.shape, mean.dtype)

  def loss(params: Params, batch: Batch, key: PRNGKey):
    del key  # The NLL is exact: no sampling.
    base.check_batch(batch, observation_size, action_size)
    log_weights, means, log_stds = forward(params, batch.obs)
    nll = -jnp.mean(
        _mixture_log_prob(log_weights, means, log_stds, batch.action))
    weights, stds = jnp.exp(log_weights), jnp.exp(log_stds)
    best = _component_mean(means, jnp.argmax(log_weights, axis=-1))
    aux = {
        'nll': nll,
        'mse': jnp.mean(jnp.square(best - base.as_float(batch.action))),
        'std': jnp.mean(jnp.sum(weights * jnp.mean(stds, axis=-1), axis=-1)),
        'max_weight': jnp.mean(jnp.max(weights, axis=-1)),
    }
    return nll, aux

  return base.Policy(
      name='mog',
      config=config,
      observation_size=observation_size,
      action_size=action_size,
      init=init,
      sample=sample,
      mode=mode,
      loss=loss)
