"""Policy families with one interface, built by name: `make(name, ...)`.

Every family lives in `il_jax/policies/<family>.py` and exposes a frozen,
hashable config dataclass and `make_policy(config, observation_size,
action_size) -> Policy`. Adding a family is one line in `_FAMILIES`.
"""

import dataclasses
import importlib
from types import MappingProxyType
from typing import Any

from il_jax.envs.validation import check_known_options
from il_jax.policies.base import ACTIVATIONS
from il_jax.policies.base import Policy

# Name -> 'module:ConfigClass'; the module defines `make_policy`. Imported on
# demand so that families which wrap other families (an ensemble) can import
# this registry without a cycle.
_FAMILIES = MappingProxyType({
    'mlp': 'il_jax.policies.mlp:MLPConfig',
    'gaussian': 'il_jax.policies.gaussian:GaussianConfig',
    'mog': 'il_jax.policies.mog:MoGConfig',
    'cvae': 'il_jax.policies.cvae:CVAEConfig',
    'diffusion': 'il_jax.policies.diffusion:DiffusionConfig',
    'autoregressive': 'il_jax.policies.autoregressive:AutoregressiveConfig',
    'ensemble': 'il_jax.policies.ensemble:EnsembleConfig',
    'gru': 'il_jax.policies.gru:GRUConfig',
    'transformer': 'il_jax.policies.transformer:TransformerConfig',
})


def registered_names() -> tuple[str, ...]:
  """The family names `make` accepts, sorted."""
  return tuple(sorted(_FAMILIES))


def _family(name: str):
  if name not in _FAMILIES:
    raise ValueError(
        f'Unknown policy family {name!r}; known families: '
        f'{", ".join(registered_names())}.')
  module_name, config_name = _FAMILIES[name].split(':')
  module = importlib.import_module(module_name)
  return module, getattr(module, config_name)


def config_class(name: str) -> type[Any]:
  """The frozen config dataclass of the family registered as `name`."""
  return _family(name)[1]


def make_config(name: str, **options) -> Any:
  """The config of family `name` with `options` overriding its defaults.

  Raises:
    ValueError: for an unknown name, an unknown option (the message lists the
      accepted ones) or an invalid value.
  """
  cls = config_class(name)
  check_known_options(f'policy family {name!r}', options,
                      [field.name for field in dataclasses.fields(cls)])
  return cls(**options)


def make(name: str, observation_size: int, action_size: int,
         **options) -> Policy:
  """Builds the policy family registered as `name`.

  Args:
    name: one of `registered_names()`, e.g. 'mlp' or 'gaussian'.
    observation_size: size of the last axis of observations (positive).
    action_size: size of the last axis of actions (positive).
    **options: fields of the family's config, e.g.
      `make('gaussian', 17, 6, n_layers=2, size=64, activation='tanh')`.

  Returns:
    A `Policy`: `init`, `sample`, `mode` and `loss` for these sizes.

  Raises:
    ValueError: for an unknown name, an unknown option, a non-positive size or
      an invalid option value (e.g. an unknown activation).
  """
  module, _ = _family(name)
  return module.make_policy(make_config(name, **options), observation_size,
                            action_size)


__all__ = [
    'ACTIVATIONS',
    'Policy',
    'config_class',
    'make',
    'make_config',
    'registered_names',
]
