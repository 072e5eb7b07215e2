"""Environment registry: `make(name, **options)` by name."""

import importlib
import inspect
from types import MappingProxyType

import numpy as np
from brax.envs.base import Env

from il_jax.envs.validation import check_known_options

# Name -> 'module:Class'. Imported on demand so that the toy environments do
# not pay for importing MuJoCo.
_ENVIRONMENTS = MappingProxyType({
    'walker2d': 'il_jax.envs.walker2d:Walker2d',
    'tightrope': 'il_jax.envs.tightrope:Tightrope',
    'fork': 'il_jax.envs.fork:Fork',
    'reach': 'il_jax.envs.reach:Reach',
})


def registered_names() -> tuple[str, ...]:
  """The names `make` accepts, sorted."""
  return tuple(sorted(_ENVIRONMENTS))


def env_class(name: str) -> type[Env]:
  """The environment class registered under `name`."""
  if name not in _ENVIRONMENTS:
    raise ValueError(
        f'Unknown environment {name!r}; known environments: '
        f'{", ".join(registered_names())}.')
  module_name, class_name = _ENVIRONMENTS[name].split(':')
  return getattr(importlib.import_module(module_name), class_name)


def make(name: str, **options) -> Env:
  """Builds the unbatched, brax-interface environment registered as `name`.

  Args:
    name: one of `registered_names()`.
    **options: keyword options of that environment's constructor, e.g.
      `make('walker2d', solver='faithful', version='v5')`.

  Raises:
    ValueError: for an unknown name, an unknown option or an invalid value.
  """
  cls = env_class(name)
  check_known_options(
      f'environment {name!r}', options,
      [p for p in inspect.signature(cls.__init__).parameters if p != 'self'])
  return cls(**options)


def outside_bounds(actions, bounds) -> np.ndarray:
  """`[...]` bool: which of `actions [..., A]` (NumPy or JAX) have a
  component outside `bounds = (low [A], high [A])`."""
  low, high = bounds
  return ((actions < low) | (actions > high)).any(axis=-1)


def action_bounds(env: Env) -> tuple[np.ndarray, np.ndarray]:
  """`(low [A], high [A])`: the actions `env` acts on unchanged (it clamps
  anything beyond them). An environment declares them as `action_bounds`;
  one that does not gets [-1, 1], the range of every brax environment."""
  bounds = getattr(env, 'action_bounds', None)
  if bounds is None:
    bounds = (-1.0, 1.0)
  low, high = (np.broadcast_to(np.asarray(b, np.float32), (env.action_size,))
               for b in bounds)
  if not np.all(low < high):
    raise ValueError(f'action_bounds of {type(env).__name__} must have low < '
                     f'high in every dimension, got {low} and {high}.')
  return low, high
