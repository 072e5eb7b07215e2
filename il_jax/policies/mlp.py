"""Deterministic MLP policy trained by mean squared error (plain BC regression).

`obs [..., observation_size] -> action [..., action_size]`. The policy has no
noise: `sample` is `mode` and ignores its key.
"""

import dataclasses

import jax

from il_jax.policies import base
from il_jax.types import Params
from il_jax.types import PRNGKey


@dataclasses.dataclass(frozen=True)
class MLPConfig:
  """Network shape; defaults are the CS285 homework's (2 x 64, tanh).

  Attributes:
    n_layers: hidden layers; 0 gives a linear policy.
    size: width of every hidden layer.
    activation: a name in `il_jax.policies.base.ACTIVATIONS`.
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)


def make_network(config: MLPConfig, action_size: int) -> base.MLP:
  """The Flax module: `[..., obs_size] -> [..., action_size]`."""
  return base.MLP(
      hidden_sizes=(config.size,) * config.n_layers,
      output_size=action_size,
      activation=config.activation)


def make_policy(config: MLPConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the deterministic MLP policy.

  Args:
    config: network shape.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Returns:
    A `Policy` whose loss is the MSE over batch and action dimensions, with
    aux `{'mse'}`.

  Raises:
    ValueError: non-positive sizes or a config that is not an `MLPConfig`.
  """
  base.check_config(config, MLPConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  network = make_network(config, action_size)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    obs_example = base.checked_observation(obs_example, observation_size)
    return network.init(key, obs_example)

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    obs = base.checked_observation(obs, observation_size)
    return network.apply(params, obs)

  return base.regression_policy('mlp', config, observation_size,
                                action_size, init, mode)
