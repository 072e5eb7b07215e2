"""Flat settings to a `RunConfig`: the one place where names such as
`learning_rate=3e-3, num_components=5` become a run.

A setting is one of:
  * a run setting (`RUN_SETTINGS`: algo, env, env_options, policy,
    policy_options, expert, demonstrations, seed, num_seeds);
  * a field of the algorithm's config (`algorithms.get(algo).config_class`);
  * a field of the policy family's config (`policies.config_class(policy)`),
    or several at once as `policy_options`.

Launch flags and sweep specs use these names. Every default comes from the
dataclasses (`RunConfig`, the algorithm's config, the family's config),
except the episode length, whose default is the environment's own.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from il_jax import algorithms, envs, policies
from il_jax.experiment import RunConfig

RUN_SETTINGS = ('algo', 'env', 'env_options', 'policy', 'policy_options',
                'expert', 'demonstrations', 'seed', 'num_seeds')


def _field_names(cls) -> tuple[str, ...]:
  return tuple(field.name for field in dataclasses.fields(cls))


def algorithm_settings() -> dict[str, tuple[str, ...]]:
  """Each algorithm config field's name -> the algorithms that have it."""
  found: dict[str, tuple[str, ...]] = {}
  for name, spec in algorithms.ALGORITHMS.items():
    for field in _field_names(spec.config_class):
      found[field] = found.get(field, ()) + (name,)
  return found


def policy_settings() -> dict[str, tuple[str, ...]]:
  """Each policy family config field's name -> the families that have it."""
  found: dict[str, tuple[str, ...]] = {}
  for family in policies.registered_names():
    for field in _field_names(policies.config_class(family)):
      found[field] = found.get(field, ()) + (family,)
  return found


def names() -> tuple[str, ...]:
  """Every setting name, run settings first."""
  return tuple(dict.fromkeys(
      RUN_SETTINGS + tuple(algorithm_settings()) + tuple(policy_settings())))


def _pairs(value, name: str) -> tuple[tuple[str, Any], ...]:
  """A mapping or (name, value) pairs as sorted pairs."""
  if isinstance(value, Mapping):
    value = value.items()
  try:
    return tuple(sorted((str(k), v) for k, v in value))
  except (TypeError, ValueError):
    raise ValueError(f'{name}={value!r} is not valid; expected a mapping of '
                     'option names to values.') from None


def run_config(settings: Mapping[str, Any]) -> RunConfig:
  """The `RunConfig` of `settings`; unset names take their defaults.

  The policy options are the family's whole config (its defaults included),
  so two settings that build the same policy give equal configs.

  Raises:
    ValueError: for an unknown name, a name that the chosen algorithm or
      policy family does not have (naming those that do), or any invalid
      value.
  """
  known = names()
  unknown = sorted(set(settings) - set(known))
  if unknown:
    raise ValueError(f'Unknown setting(s) {unknown}; known settings: '
                     f'{", ".join(known)}.')
  defaults = RunConfig.__dataclass_fields__
  run = {name: settings.get(name, defaults[name].default)
         for name in RUN_SETTINGS}
  spec = algorithms.get(run['algo'])
  env_class = envs.env_class(run['env'])  # unknown env: names the known ones
  family_fields = _field_names(policies.config_class(run['policy']))
  algorithm_fields = _field_names(spec.config_class)

  by_algorithm, by_family = algorithm_settings(), policy_settings()
  imitation, policy_options = {}, dict(_pairs(run['policy_options'],
                                              'policy_options'))
  for name, value in settings.items():
    if name in RUN_SETTINGS:
      continue
    if name in algorithm_fields:
      imitation[name] = value
    elif name in family_fields:
      policy_options[name] = value
    elif name in by_algorithm:
      raise ValueError(
          f'Setting {name} belongs to algo {"/".join(by_algorithm[name])}, '
          f'not algo={run["algo"]!r}.')
    else:
      raise ValueError(
          f'Setting {name} is an option of policy family '
          f'{"/".join(by_family[name])}, not policy={run["policy"]!r} '
          f'(whose options are {", ".join(family_fields)}).')
  if not spec.takes_policy:
    given = sorted(name for name in settings
                   if name in ('policy', 'policy_options') or
                   (name in by_family and name not in algorithm_fields))
    if given:
      raise ValueError(
          f'algo={run["algo"]!r} trains its own learner and takes no policy '
          f'family settings, got {given}.')
  imitation.setdefault('episode_length', int(
      getattr(env_class, 'default_episode_length', 1000)))
  family_config = policies.make_config(run['policy'], **policy_options)
  return RunConfig(
      algo=run['algo'], env=run['env'],
      env_options=_pairs(run['env_options'], 'env_options'),
      policy=run['policy'],
      policy_options=tuple(
          (field.name, getattr(family_config, field.name))
          for field in dataclasses.fields(family_config)),
      seed=run['seed'], num_seeds=run['num_seeds'],
      imitation=spec.config_class(**imitation), expert=run['expert'],
      demonstrations=run['demonstrations'])
