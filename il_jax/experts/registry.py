"""Experts as pure, jittable functions of the observation.

`load(name)` gives the deterministic `expert_fn(obs) -> action`;
`load_stochastic(name)` gives `expert_fn(obs, key) -> action` for noisy
demonstrations. Both come from one of two sources, tried in this order:

1. A learned expert exported by `launch/train_expert.py` (or
   `launch/train_expert_gymnasium.py`): a directory holding `params/` (orbax:
   policy parameters and observation normaliser) and `card.json` (its
   `PolicySpec`, environment, evaluation and settings). Shipped experts live
   in `il_jax/experts/assets/<name>/`, where `<name>` is the environment's
   name for its default expert; `directory=` loads any other export.
2. The analytic expert of a toy environment (`env.expert_action`).

A run names its expert with one string (`resolve`): a shipped expert's
name, an export directory, an exported NumPy policy file
(`<prefix>.npz` beside `<prefix>.json`, see `il_jax.numpy_policy`), or
`module:function` for any pure, jittable `obs -> action` function that
Python can import.
"""

import importlib
import json
import os
import re
from collections.abc import Callable

from il_jax import envs
from il_jax import export
from il_jax import numpy_policy
from il_jax import rollout
from il_jax.experts import ppo_networks
from il_jax.types import Action, Observation, PRNGKey

# Environments whose class carries an analytic `expert_action(obs)`.
_ANALYTIC = ('fork', 'reach', 'tightrope')
# Where shipped experts live: `<_ASSETS>/<name>/{card.json, params/}`.
_ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'assets')
# Noise of the analytic experts' stochastic variant when none is given.
DEFAULT_NOISE_STD = 0.1

ExpertFn = Callable[[Observation], Action]
StochasticExpertFn = Callable[[Observation, PRNGKey], Action]
# `package.module:function`.
_FUNCTION = re.compile(r'^[A-Za-z_][\w.]*:[A-Za-z_]\w*$')


def shipped_directory(name: str) -> str:
  """Where a shipped expert for `name` lives (it may not exist)."""
  return os.path.join(_ASSETS, name)


def _is_export(directory: str) -> bool:
  return os.path.isfile(os.path.join(directory, 'card.json'))


def registered_names() -> tuple[str, ...]:
  """Names `load` accepts without `directory=`, sorted."""
  return tuple(sorted(set(_ANALYTIC) | set(shipped_names())))


def export_directory(expert: str) -> str:
  """The export directory that `expert` names: an existing directory is taken
  as a path, anything else as the name of a shipped expert.

  Raises:
    ValueError: if `expert` is neither an export directory nor a shipped
      expert's name.
  """
  if os.path.isdir(expert):
    if not _is_export(expert):
      raise ValueError(
          f'expert={expert!r} is a directory without card.json; expected an '
          'expert export (`<workdir>/expert` of `python -m '
          'launch.train_expert`) or the name of a shipped expert: '
          f'{", ".join(shipped_names())}.')
    return expert
  if _is_export(shipped_directory(expert)):
    return shipped_directory(expert)
  raise ValueError(
      f'expert={expert!r} is neither a directory nor a shipped expert; '
      f'shipped experts: {", ".join(shipped_names())}.')


def shipped_names(env: str | None = None) -> tuple[str, ...]:
  """The names of the learned experts in `il_jax/experts/assets/`, sorted;
  with `env`, only those whose card says they were trained on it."""
  if not os.path.isdir(_ASSETS):
    return ()
  names = [n for n in os.listdir(_ASSETS) if _is_export(shipped_directory(n))]
  if env is not None:
    names = [n for n in names if _card(shipped_directory(n)).get('env') == env]
  return tuple(sorted(names))


def _card(directory: str) -> dict:
  with open(os.path.join(directory, 'card.json')) as f:
    return json.load(f)


def load_export(directory: str):
  """Reads a `launch/train_expert.py` export.

  Returns:
    `(policy_spec, ExpertParams, card)`.

  Raises:
    FileNotFoundError: if `directory` lacks `card.json` or `params/`.
  """
  card_path = os.path.join(directory, 'card.json')
  params_path = os.path.join(os.path.abspath(directory), 'params')
  for path in (card_path, params_path):
    if not os.path.exists(path):
      raise FileNotFoundError(
          f'{path} does not exist; an expert directory holds card.json and '
          'params/ as written by `python -m launch.train_expert`.')
  card = _card(directory)
  if 'policy_spec' not in card:
    raise ValueError(f'{card_path} has no "policy_spec"; expected the card '
                     'written by `python -m launch.train_expert`.')
  # Orbax is heavy to import; only learned experts need it.
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  spec = ppo_networks.PolicySpec.from_dict(card['policy_spec'])
  like = ppo_networks.expert_params_template(spec)
  params = ocp.StandardCheckpointer().restore(params_path, like)
  return spec, params, card


def _source(name: str, directory: str | None) -> str | None:
  """The export directory to load for `name`, or None for the analytic one.

  Raises:
    ValueError: if no expert exists for `name`.
  """
  if directory is not None:
    return directory
  if _is_export(shipped_directory(name)):
    return shipped_directory(name)
  if name in _ANALYTIC:
    return None
  if name in envs.registered_names():
    raise ValueError(
        f'No expert is shipped for environment {name!r} yet; experts exist '
        f'for: {", ".join(registered_names())}. Train one with '
        '`python -m launch.train_expert` and pass its `<workdir>/expert` as '
        '`directory=`.')
  raise ValueError(f'Unknown expert {name!r}; experts exist for: '
                   f'{", ".join(registered_names())}.')


def _load_learned(name: str, directory: str):
  """`(policy_spec, ExpertParams)` of the export in `directory`, loaded as
  the expert of `name`.

  Raises:
    ValueError: if `name` is an environment and the card says the expert was
      trained on another.
  """
  spec, params, card = load_export(directory)
  trained_on = card.get('env')
  if (name in envs.registered_names() and trained_on is not None and
      trained_on != name):
    raise ValueError(f'The expert in {directory} was trained on '
                     f'{trained_on!r}, not {name!r}.')
  return spec, params


def load(name: str, directory: str | None = None, **env_options) -> ExpertFn:
  """The expert for environment `name`, as `expert_fn(obs [..., obs_size])
  -> action [..., action_size]`: pure, jittable and deterministic.

  A learned expert acts with `tanh(loc)` of its policy, its observation
  normaliser folded in.

  Args:
    name: an environment name, or a shipped expert's name (see
      `registered_names()`).
    directory: a `launch/train_expert.py` export (`<workdir>/expert`) to load
      instead of the shipped expert; it must have been trained on `name` when
      `name` is an environment.
    **env_options: the options the environment was made with. An analytic
      expert is built for exactly that environment; a learned expert is the
      same function whatever the options (its card records what it was
      trained on), so they are ignored.

  Raises:
    ValueError: if no expert exists for `name`, or `directory` holds one
      trained on another environment.
    FileNotFoundError: if `directory` is not an expert export.
  """
  source = _source(name, directory)
  if source is not None:
    spec, params = _load_learned(name, source)
    return ppo_networks.make_policy_fn(spec, params)
  env = envs.make(name, **env_options)

  def expert_fn(obs: Observation) -> Action:
    return env.expert_action(obs)

  return expert_fn


def load_stochastic(name: str,
                    noise_std: float | None = None,
                    directory: str | None = None,
                    **env_options) -> StochasticExpertFn:
  """A noisy expert for `name`: `expert_fn(obs [..., obs_size], key) ->
  action [..., action_size]`, pure and jittable.

  With `noise_std=None` a learned expert samples from its own tanh-Gaussian
  policy, and an analytic expert (which has no distribution of its own) uses
  `DEFAULT_NOISE_STD`. With a `noise_std`, either kind returns its
  deterministic action plus independent Gaussian noise of that std per
  action dimension, clipped to [-1, 1] (the action range of every
  environment here), the DART-style injected noise.

  Args:
    name: an environment or shipped expert name, as for `load`.
    noise_std: std of the added Gaussian noise (>= 0), or None (see above).
    directory: as for `load`.
    **env_options: as for `load`.

  Raises:
    ValueError: if no expert exists for `name`, `directory` holds one trained
      on another environment, or `noise_std` is negative.
  """
  if noise_std is not None and not noise_std >= 0:
    raise ValueError(f'noise_std={noise_std!r} is not valid; expected a '
                     'non-negative number or None.')
  source = _source(name, directory)
  if source is not None and noise_std is None:
    spec, params = _load_learned(name, source)
    return ppo_networks.make_stochastic_policy_fn(spec, params)
  std = DEFAULT_NOISE_STD if noise_std is None else float(noise_std)
  return rollout.with_action_noise(load(name, directory, **env_options), std)


def _is_policy_file(expert: str) -> bool:
  return expert.endswith('.npz') and not os.path.isdir(expert)


def _is_function(expert: str) -> bool:
  return bool(_FUNCTION.match(expert)) and not os.path.exists(expert)


def _check_policy_file(expert: str) -> None:
  for path in numpy_policy.paths(expert[:-len('.npz')]):
    if not os.path.isfile(path):
      raise ValueError(f'expert={expert!r}: {path} does not exist; an '
                       'exported policy file is <prefix>.npz beside '
                       '<prefix>.json (il_jax.export).')


def check_source(expert: str) -> None:
  """Raises ValueError, in one line, unless `expert` names an expert (see
  `resolve`); a module is imported, a file or export is not read."""
  if _is_policy_file(expert):
    _check_policy_file(expert)
  elif _is_function(expert):
    load_function(expert)
  else:
    export_directory(expert)


def load_function(spec: str) -> ExpertFn:
  """The function `module:function` names, imported from the Python path
  (`python -m` puts the working directory on it).

  Raises:
    ValueError: the module cannot be imported or has no such callable.
  """
  module_name, function_name = spec.split(':')
  try:
    module = importlib.import_module(module_name)
  except ImportError as error:
    raise ValueError(f'expert={spec!r}: cannot import {module_name!r} '
                     f'({error}); it must be on the Python path.') from None
  function = getattr(module, function_name, None)
  if not callable(function):
    raise ValueError(f'expert={spec!r}: {module_name} has no function '
                     f'{function_name!r}.')
  return function


def load_policy_file(path: str) -> ExpertFn:
  """An exported NumPy policy (`<prefix>.npz` and `<prefix>.json`, see
  `il_jax.export`) as a pure, jittable float32 `expert_fn(obs [...,
  obs_size]) -> action [..., action_size]`.

  Raises:
    ValueError: either file is missing, naming it.
  """
  _check_policy_file(path)
  policy_fn, _ = export.make_jax_policy_fn(path[:-len('.npz')])
  return policy_fn


def resolve(expert: str | None, env: str, **env_options) -> ExpertFn:
  """The expert a run names, as a pure, jittable `expert_fn(obs [...,
  obs_size]) -> action [..., action_size]`.

  Args:
    expert: None for the environment's own (`load(env)`); a shipped
      expert's name or an export directory (`<workdir>/expert` of
      `launch.train_expert`); an exported NumPy policy file `<prefix>.npz`;
      or `module:function`.
    env: the environment's name.
    **env_options: the options it is made with (see `load`).

  Raises:
    ValueError: `expert` names nothing loadable, in one line.
  """
  if expert is None:
    return load(env, **env_options)
  if _is_policy_file(expert):
    return load_policy_file(expert)
  if _is_function(expert):
    return load_function(expert)
  return load(env, directory=export_directory(expert), **env_options)
