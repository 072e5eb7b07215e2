"""The interface every policy family implements, and the pieces they share.

A policy family is a Flax linen module plus four pure functions, bundled by
the family's `make_policy(config, observation_size, action_size)` factory into
a frozen `Policy`:

  init(key, obs_example) -> params
  sample(params, obs, key) -> action       # a draw from the policy
  mode(params, obs) -> action              # deterministic: the most likely action
  loss(params, batch, key) -> (loss, aux)  # scalar to minimise, metrics

Shapes: `obs: [..., observation_size] -> action: [..., action_size]`; every
leading dimension is a batch dimension handled by the network itself (Dense
layers act on the last axis), so one call covers `[obs_size]`, `[B, obs_size]`
or `[T, B, obs_size]`, and `jax.vmap` works on top. Actions are not squashed:
environments clip them.
"""

import dataclasses
import math
from types import MappingProxyType
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from il_jax.envs.validation import check_positive_int
from il_jax.envs.validation import is_int
from il_jax.types import Action
from il_jax.types import Batch
from il_jax.types import Metrics
from il_jax.types import Observation
from il_jax.types import Params
from il_jax.types import PRNGKey

InitFn = Callable[[PRNGKey, Observation], Params]
SampleFn = Callable[[Params, Observation, PRNGKey], Action]
ModeFn = Callable[[Params, Observation], Action]
LossFn = Callable[[Params, Batch, PRNGKey], tuple[jax.Array, Metrics]]


@dataclasses.dataclass(frozen=True)
class Policy:
  """A policy family instantiated for one observation and action size.

  Attributes:
    name: the registry name of the family, e.g. 'gaussian'.
    config: the family's frozen config it was built from.
    observation_size: size of the last axis of `obs`.
    action_size: size of the last axis of actions.
    init: `(key, obs_example [..., obs_size]) -> params`; the example fixes
      only the input size, its leading dimensions do not matter.
    sample: `(params, obs [..., obs_size], key) -> action [..., action_size]`.
    mode: `(params, obs [..., obs_size]) -> action [..., action_size]`.
    loss: `(params, Batch(obs [B, obs_size], action [B, action_size]), key)
      -> (scalar, aux)` where `aux` maps metric names to scalars.
    history_length: how many of the last learner observations the policy
      acts on. 1 (every family so far) means Markov: `obs [..., obs_size]`
      as above. k > 1 means the policy acts on a window
      `obs [..., k, obs_size]`, oldest first, that the rollout keeps in the
      actor state and refills with the first observation at each reset.
  """
  name: str
  config: Any
  observation_size: int
  action_size: int
  init: InitFn
  sample: SampleFn
  mode: ModeFn
  loss: LossFn
  history_length: int = 1


# Activations accepted by name in configs (names as in flax.linen / CS285).
ACTIVATIONS = MappingProxyType({
    'tanh': nn.tanh,
    'relu': nn.relu,
    'gelu': nn.gelu,
    'swish': nn.swish,
    'silu': nn.silu,
    'elu': nn.elu,
    'selu': nn.selu,
    'leaky_relu': nn.leaky_relu,
    'sigmoid': nn.sigmoid,
    'softplus': nn.softplus,
    'identity': lambda x: x,
})


def check_hidden_layers(n_layers: Any, size: Any, activation: Any) -> None:
  """Validates the fields every MLP-based family config shares.

  Raises:
    ValueError: `n_layers` is not a non-negative int (0 gives a linear
      policy), `size` is not a positive int, or `activation` is not a key of
      `ACTIVATIONS`.
  """
  if not is_int(n_layers) or n_layers < 0:
    raise ValueError(
        f'n_layers must be a non-negative integer, got {n_layers!r}.')
  check_positive_int('size', size)
  if activation not in ACTIVATIONS:
    raise ValueError(
        f'Unknown activation {activation!r}; known activations: '
        f'{", ".join(sorted(ACTIVATIONS))}.')


def check_finite_float(name: str, value: Any) -> float:
  """Returns `value` as a float, or raises a ValueError naming it."""
  if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
      value, (bool, np.bool_)) or not math.isfinite(value):
    raise ValueError(f'{name} must be a finite number, got {value!r}.')
  return float(value)


def check_sizes(observation_size: Any, action_size: Any) -> tuple[int, int]:
  """Validates the sizes a factory is given; returns them as ints."""
  return (check_positive_int('observation_size', observation_size),
          check_positive_int('action_size', action_size))


def check_observation(obs: jax.Array, observation_size: int) -> None:
  """Raises at trace time unless `obs` has shape `[..., observation_size]`."""
  if obs.ndim < 1 or obs.shape[-1] != observation_size:
    raise ValueError(
        f'obs must have shape [..., {observation_size}], got {obs.shape}.')


def checked_observation(obs: jax.Array, observation_size: int) -> jax.Array:
  """`obs` as float32, after `check_observation`."""
  obs = as_float(obs)
  check_observation(obs, observation_size)
  return obs


def check_config(config: Any, config_type: type) -> None:
  """Raises unless a family's factory got its own config type."""
  if not isinstance(config, config_type):
    raise ValueError(f'config must be a {config_type.__name__} instance, '
                     f'got {config!r}.')


def check_batch(batch: Batch, observation_size: int, action_size: int) -> None:
  """Raises at trace time unless `batch` is `obs [..., obs], action [..., act]`
  with the same leading dimensions."""
  check_observation(batch.obs, observation_size)
  action = batch.action
  if action.ndim < 1 or action.shape[-1] != action_size:
    raise ValueError(
        f'batch.action must have shape [..., {action_size}], got '
        f'{action.shape}.')
  if action.shape[:-1] != batch.obs.shape[:-1]:
    raise ValueError(
        'batch.obs and batch.action must share leading dimensions, got '
        f'{batch.obs.shape} and {action.shape}.')


class MLP(nn.Module):
  """`x [..., in] -> [..., output_size]`: `len(hidden_sizes)` Dense layers
  with `activation`, then a linear Dense output layer.

  Layers are named `hidden_0`, `hidden_1`, ..., `output`.
  """
  hidden_sizes: tuple[int, ...]
  output_size: int
  activation: str = 'tanh'

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    activation = ACTIVATIONS[self.activation]
    for i, width in enumerate(self.hidden_sizes):
      x = activation(nn.Dense(width, name=f'hidden_{i}')(x))
    return nn.Dense(self.output_size, name='output')(x)


def as_float(x: jax.Array) -> jax.Array:
  """Observations may arrive as float64 (numpy) or ints; networks use f32."""
  return jnp.asarray(x, jnp.float32)


def window_axes(history_length: int) -> int:
  """Trailing axes of an observation a policy of `history_length` acts on:
  2 (`[k, obs_size]`) for a window, 1 (`[obs_size]`) for a Markov policy."""
  return 2 if history_length > 1 else 1


def check_window(obs: jax.Array, history_length: int,
                 observation_size: int) -> None:
  """Raises at trace time unless `obs` is what a policy of `history_length`
  acts on: `[..., k, observation_size]` for k > 1, and the Markov
  `[..., observation_size]` for k = 1 (as `check_observation`)."""
  if history_length == 1:
    check_observation(obs, observation_size)
  elif obs.ndim < 2 or obs.shape[-2:] != (history_length, observation_size):
    raise ValueError(
        f'obs must be a window of shape [..., {history_length}, '
        f'{observation_size}] (history_length={history_length}, oldest '
        f'first), got {obs.shape}.')


def checked_window(obs: jax.Array, history_length: int,
                   observation_size: int) -> jax.Array:
  """`obs` as a float32 window `[..., k, observation_size]`, after
  `check_window`; a Markov (k = 1) `[..., observation_size]` gets its window
  axis of length 1."""
  obs = as_float(obs)
  check_window(obs, history_length, observation_size)
  return obs[..., None, :] if history_length == 1 else obs


def check_window_batch(batch: Batch, history_length: int,
                       observation_size: int, action_size: int) -> None:
  """Raises at trace time unless `batch` is `obs [..., k, obs]` (`[..., obs]`
  for k = 1) and `action [..., act]` with the same leading dimensions."""
  if history_length == 1:
    check_batch(batch, observation_size, action_size)
    return
  check_window(batch.obs, history_length, observation_size)
  action = batch.action
  if action.ndim < 1 or action.shape[-1] != action_size:
    raise ValueError(
        f'batch.action must have shape [..., {action_size}], got '
        f'{action.shape}.')
  leading = batch.obs.shape[:batch.obs.ndim - window_axes(history_length)]
  if action.shape[:-1] != leading:
    raise ValueError(
        'batch.obs and batch.action must share leading dimensions, got '
        f'{batch.obs.shape} (history_length={history_length}) and '
        f'{action.shape}.')


def regression_policy(name: str, config: Any, observation_size: int,
                      action_size: int, init: InitFn, mode: ModeFn,
                      history_length: int = 1) -> Policy:
  """A deterministic policy trained by mean squared error on the labels:
  `sample` is `mode` (its key unused) and the loss, with aux `{'mse'}`, is
  the MSE over batch and action dimensions of `mode(params, batch.obs)`."""

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    del key  # Deterministic policy.
    return mode(params, obs)

  def loss(params: Params, batch: Batch, key: PRNGKey):
    del key  # The loss has no randomness.
    check_window_batch(batch, history_length, observation_size, action_size)
    error = mode(params, batch.obs) - as_float(batch.action)
    mse = jnp.mean(jnp.square(error))
    return mse, {'mse': mse}

  return Policy(name=name, config=config, observation_size=observation_size,
                action_size=action_size, init=init, sample=sample, mode=mode,
                loss=loss, history_length=history_length)
