"""Deterministic GRU policy over a window of observations, trained by MSE.

`obs [..., k, observation_size] -> action [..., action_size]`, `k =
history_length`, oldest first: a Dense embedding, a GRU run over the window
from its oldest to its newest observation starting from a zero state, then an
MLP head on the final hidden state. Every window is run from scratch, when
acting as in training, so the action depends on the last `k` observations
only. With `history_length=1` the policy is Markov and takes
`obs [..., observation_size]`. `sample` is `mode` and ignores its key.
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
class GRUConfig:
  """Window length and network shape.

  Attributes:
    history_length: observations per window, k >= 1.
    size: width of the embedding, the GRU state and the head's hidden layers.
    n_layers: hidden layers of the MLP head after the GRU; 0 gives a linear
      head.
    activation: the head's activation, a name in
      `il_jax.policies.base.ACTIVATIONS`.
  """
  history_length: int = 4
  size: int = 64
  n_layers: int = 2
  activation: str = 'tanh'

  def __post_init__(self):
    check_positive_int('history_length', self.history_length)
    base.check_hidden_layers(self.n_layers, self.size, self.activation)


class GRUNetwork(nn.Module):
  """`window [..., k, obs_size] -> [..., action_size]`."""
  size: int
  n_layers: int
  activation: str
  action_size: int

  @nn.compact
  def __call__(self, window: jax.Array) -> jax.Array:
    # nn.RNN scans axis 1 of a [batch, time, features] input: flatten every
    # leading dimension into one batch and restore them on the output.
    leading, (k, obs_size) = window.shape[:-2], window.shape[-2:]
    x = window.reshape((math.prod(leading), k, obs_size))
    x = nn.Dense(self.size, name='embed')(x)
    hidden = nn.RNN(nn.GRUCell(features=self.size), name='gru')(x)[:, -1]
    action = base.MLP(
        hidden_sizes=(self.size,) * self.n_layers,
        output_size=self.action_size,
        activation=self.activation,
        name='head')(hidden)
    return action.reshape(leading + (self.action_size,))


def make_network(config: GRUConfig, action_size: int) -> GRUNetwork:
  """The Flax module: `[..., k, obs_size] -> [..., action_size]`."""
  return GRUNetwork(size=config.size, n_layers=config.n_layers,
                    activation=config.activation, action_size=action_size)


def make_policy(config: GRUConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the deterministic GRU policy.

  Args:
    config: window length and network shape.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Returns:
    A `Policy` with `history_length=config.history_length` whose loss, on
    `Batch(obs [..., k, obs_size], action [..., action_size])`, is the MSE
    over batch and action dimensions, with aux `{'mse'}`.

  Raises:
    ValueError: non-positive sizes or a config that is not a `GRUConfig`;
      at trace time, observations that are not `[..., k, obs_size]` windows.
  """
  base.check_config(config, GRUConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  k = config.history_length
  network = make_network(config, action_size)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    return network.init(key, base.checked_window(obs_example, k,
                                                 observation_size))

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    return network.apply(params, base.checked_window(obs, k,
                                                     observation_size))

  return base.regression_policy('gru', config, observation_size,
                                action_size, init, mode, history_length=k)
