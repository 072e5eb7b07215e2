"""Autoregressive discretised policy: each action dimension is a categorical
over `num_bins` bins, predicted from the observation and the bins already
chosen for the previous dimensions.

  pi(a | o) = prod_d Cat(bin_d; softmax(f(o, centre(bin_1..bin_{d-1}), d)))

Each dimension's interval `[action_low, action_high]` is cut into
`num_bins` equal bins; an action maps to its bin index (values outside the
bounds go to the edge bins) and back to the bin's centre, so a round trip
moves an in-bounds action by at most half a bin width.

One network `f` serves every dimension: its input is the observation, the
bin centres of the dimensions before `d` (later dimensions are zeroed) and a
one-hot of `d`. Training uses teacher forcing, so all dimensions of a batch
are scored in one parallel call; sampling and argmax decoding run a
`lax.scan` over the dimensions. Feeding bin centres (not one-hots) keeps the
input `2 * action_size` wide whatever `num_bins`, and because both the labels
and the sampled actions are bin centres, the network sees at sampling time
exactly the kind of input it was trained on.

`sample` returns bin centres (no jitter within a bin); `mode` is greedy
decoding: the most probable bin of each dimension given the greedy choices
before it (not the joint argmax, which would need a search).
"""

import dataclasses

import jax
import jax.numpy as jnp

from il_jax.policies import base
from il_jax.types import Batch
from il_jax.types import Params
from il_jax.types import PRNGKey


def check_action_bounds(action_low, action_high) -> tuple[float, float]:
  """Returns the bounds as floats, or raises a ValueError naming them."""
  low = base.check_finite_float('action_low', action_low)
  high = base.check_finite_float('action_high', action_high)
  if not low < high:
    raise ValueError(f'Need action_low < action_high, got action_low={low!r} '
                     f'and action_high={high!r}.')
  return low, high


@dataclasses.dataclass(frozen=True)
class AutoregressiveConfig:
  """Network shape and discretisation.

  Attributes:
    n_layers: hidden layers of the per-dimension network.
    size: width of every hidden layer.
    activation: a name in `il_jax.policies.base.ACTIVATIONS`.
    num_bins: bins per action dimension (at least 2). The default 51 gives
      bins 0.039 wide on `[-1, 1]`, and is odd so that 0 is a bin centre.
    action_low: lower bound of every action dimension.
    action_high: upper bound of every action dimension.
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'
  num_bins: int = 51
  action_low: float = -1.0
  action_high: float = 1.0

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    if base.check_positive_int('num_bins', self.num_bins) < 2:
      raise ValueError(f'num_bins must be at least 2, got {self.num_bins!r}.')
    low, high = check_action_bounds(self.action_low, self.action_high)
    object.__setattr__(self, 'action_low', low)
    object.__setattr__(self, 'action_high', high)


def discretize(action: jax.Array, low: float, high: float,
               num_bins: int) -> jax.Array:
  """`action [...] -> bins [...]` int32 in `[0, num_bins)`; out-of-bounds
  values go to the edge bins."""
  width = (high - low) / num_bins
  bins = jnp.floor((base.as_float(action) - low) / width)
  return jnp.clip(bins, 0, num_bins - 1).astype(jnp.int32)


def bin_centers(bins: jax.Array, low: float, high: float,
                num_bins: int) -> jax.Array:
  """`bins [...] (ints) -> the bins' centre values [...]` (float32)."""
  width = (high - low) / num_bins
  return low + (bins.astype(jnp.float32) + 0.5) * width


def bin_width(config: AutoregressiveConfig) -> float:
  """Width of one bin; a round trip moves an in-bounds action by at most
  half of it."""
  return (config.action_high - config.action_low) / config.num_bins


def make_network(config: AutoregressiveConfig) -> base.MLP:
  """The Flax module: `[..., obs + 2 * act] -> logits [..., num_bins]`."""
  return base.MLP(
      hidden_sizes=(config.size,) * config.n_layers,
      output_size=config.num_bins,
      activation=config.activation)


def make_policy(config: AutoregressiveConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the autoregressive discretised policy.

  The loss is the cross-entropy of the expert's action bins, summed over
  action dimensions (the NLL of the bin vector) and averaged over the batch.
  Aux: `nll` (the loss) and `bin_accuracy` (fraction of dimensions whose
  teacher-forced argmax bin is the label's).

  Args:
    config: network shape and discretisation.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Raises:
    ValueError: non-positive sizes or a config that is not an
      `AutoregressiveConfig`.
  """
  base.check_config(config, AutoregressiveConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  network = make_network(config)
  low, high, num_bins = config.action_low, config.action_high, config.num_bins
  dim_one_hot = jnp.eye(action_size, dtype=jnp.float32)  # [act, act]
  # causal_mask[d, j] = 1 where dimension d may see dimension j (j < d).
  causal_mask = jnp.tril(jnp.ones((action_size, action_size), jnp.float32),
                         k=-1)

  def logits_fn(params, obs, previous, dim):
    """obs [..., obs], previous [..., act] (already masked), dim [act]."""
    dim = jnp.broadcast_to(dim, previous.shape)
    return network.apply(params, jnp.concatenate([obs, previous, dim], -1))

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    obs_example = base.checked_observation(obs_example, observation_size)
    zeros = jnp.zeros(obs_example.shape[:-1] + (action_size,))
    return network.init(
        key, jnp.concatenate([obs_example, zeros, zeros], axis=-1))

  def decode(params, obs, key):
    """Bin centres [..., act], dimension by dimension; greedy if key is None."""
    obs = base.checked_observation(obs, observation_size)
    dims = jnp.arange(action_size)
    xs = dims if key is None else (dims, jax.random.split(key, action_size))

    def step(centers, x):
      d = x if key is None else x[0]
      logits = logits_fn(params, obs, centers * causal_mask[d], dim_one_hot[d])
      if key is None:
        bins = jnp.argmax(logits, axis=-1)
      else:
        bins = jax.random.categorical(x[1], logits, axis=-1)
      value = bin_centers(bins, low, high, num_bins)
      return centers.at[..., d].set(value), None

    centers = jnp.zeros(obs.shape[:-1] + (action_size,), jnp.float32)
    return jax.lax.scan(step, centers, xs)[0]

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    return decode(params, obs, None)

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    return decode(params, obs, key)

  def loss(params: Params, batch: Batch, key: PRNGKey):
    del key  # Teacher forcing: the loss is exact.
    base.check_batch(batch, observation_size, action_size)
    obs = base.as_float(batch.obs)
    bins = discretize(batch.action, low, high, num_bins)  # [..., act]
    centers = bin_centers(bins, low, high, num_bins)
    # All dimensions at once: a new axis [..., act(d), ...] indexes d.
    previous = centers[..., None, :] * causal_mask  # [..., act, act]
    obs_per_dim = jnp.broadcast_to(
        obs[..., None, :], obs.shape[:-1] + (action_size, observation_size))
    logits = logits_fn(params, obs_per_dim, previous, dim_one_hot)
    log_probs = jax.nn.log_softmax(logits, axis=-1)  # [..., act, bins]
    label_log_probs = jnp.take_along_axis(log_probs, bins[..., None],
                                          axis=-1)[..., 0]
    nll = -jnp.mean(jnp.sum(label_log_probs, axis=-1))
    aux = {
        'nll': nll,
        'bin_accuracy': jnp.mean(
            (jnp.argmax(logits, axis=-1) == bins).astype(jnp.float32)),
    }
    return nll, aux

  return base.Policy(
      name='autoregressive',
      config=config,
      observation_size=observation_size,
      action_size=action_size,
      init=init,
      sample=sample,
      mode=mode,
      loss=loss)


__all__ = [
    'AutoregressiveConfig',
    'bin_centers',
    'bin_width',
    'check_action_bounds',
    'discretize',
    'make_network',
    'make_policy',
]
