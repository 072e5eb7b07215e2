"""Deterministic causal transformer policy over a window, trained by MSE.

`obs [..., k, observation_size] -> action [..., action_size]`, `k =
history_length`, oldest first: each observation is a token (a Dense
embedding plus a learned position embedding), `n_layers` pre-LayerNorm blocks
of causal self-attention and an MLP, a final LayerNorm, and a Dense from the
newest token to the action. Under the causal mask the token at position `i`
sees positions `0..i` only. With `history_length=1` the policy is Markov and
takes `obs [..., observation_size]`. `sample` is `mode` and ignores its key.
"""

import dataclasses
import math

import flax.linen as nn
import jax

from il_jax.envs.validation import check_positive_int
from il_jax.policies import base
from il_jax.types import Params
from il_jax.types import PRNGKey


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
  """Window length and network shape.

  Attributes:
    history_length: observations per window, k >= 1.
    size: model width (embeddings, attention, residual stream); a multiple of
      `num_heads`.
    num_heads: attention heads per block.
    n_layers: transformer blocks, at least 1.
    activation: the activation of the MLP inside each block, a name in
      `il_jax.policies.base.ACTIVATIONS`.
  """
  history_length: int = 4
  size: int = 64
  num_heads: int = 4
  n_layers: int = 2
  activation: str = 'gelu'

  def __post_init__(self):
    check_positive_int('history_length', self.history_length)
    check_positive_int('n_layers', self.n_layers)
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    check_positive_int('num_heads', self.num_heads)
    if self.size % self.num_heads:
      raise ValueError(
          f'size must be a multiple of num_heads, got size={self.size!r} and '
          f'num_heads={self.num_heads!r}.')


class Block(nn.Module):
  """One pre-LayerNorm block: `x [B, k, size] -> [B, k, size]`."""
  num_heads: int
  activation: str

  @nn.compact
  def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
    size = x.shape[-1]
    y = nn.LayerNorm(name='attention_norm')(x)
    x = x + nn.MultiHeadDotProductAttention(
        num_heads=self.num_heads, name='attention')(y, mask=mask)
    y = nn.LayerNorm(name='mlp_norm')(x)
    y = base.MLP(hidden_sizes=(4 * size,), output_size=size,
                 activation=self.activation, name='mlp')(y)
    return x + y


class TransformerNetwork(nn.Module):
  """`window [..., k, obs_size] -> [..., k, action_size]`: at each position
  the action from the window's observations up to and including it; the
  policy acts with the last (newest) position's."""
  history_length: int
  size: int
  num_heads: int
  n_layers: int
  activation: str
  action_size: int

  @nn.compact
  def __call__(self, window: jax.Array) -> jax.Array:
    # Attention takes one batch axis here: flatten every leading dimension
    # into it and restore them on the output.
    leading, (k, obs_size) = window.shape[:-2], window.shape[-2:]
    x = window.reshape((math.prod(leading), k, obs_size))
    position = self.param('position', nn.initializers.normal(0.02),
                          (self.history_length, self.size))
    x = nn.Dense(self.size, name='embed')(x) + position
    mask = nn.make_causal_mask(x[..., 0])
    for i in range(self.n_layers):
      x = Block(self.num_heads, self.activation, name=f'block_{i}')(x, mask)
    x = nn.LayerNorm(name='final_norm')(x)
    action = nn.Dense(self.action_size, name='output')(x)
    return action.reshape(leading + (k, self.action_size))


def make_network(config: TransformerConfig,
                 action_size: int) -> TransformerNetwork:
  """The Flax module: `[..., k, obs_size] -> [..., k, action_size]`."""
  return TransformerNetwork(
      history_length=config.history_length, size=config.size,
      num_heads=config.num_heads, n_layers=config.n_layers,
      activation=config.activation, action_size=action_size)


def make_policy(config: TransformerConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the deterministic causal transformer policy.

  Args:
    config: window length and network shape.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Returns:
    A `Policy` with `history_length=config.history_length` whose loss, on
    `Batch(obs [..., k, obs_size], action [..., action_size])`, is the MSE
    over batch and action dimensions, with aux `{'mse'}`.

  Raises:
    ValueError: non-positive sizes or a config that is not a
      `TransformerConfig`; at trace time, observations that are not
      `[..., k, obs_size]` windows.
  """
  base.check_config(config, TransformerConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  k = config.history_length
  network = make_network(config, action_size)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    return network.init(key, base.checked_window(obs_example, k,
                                                 observation_size))

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    window = base.checked_window(obs, k, observation_size)
    return network.apply(params, window)[..., -1, :]

  return base.regression_policy('transformer', config, observation_size,
                                action_size, init, mode, history_length=k)
