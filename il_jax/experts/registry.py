"""Experts as pure, jittable functions of the observation.

`load(name)` gives the deterministic `expert_fn(obs) -> action`;
`load_stochastic(name)` gives `expert_fn(obs, key) -> action` for noisy
demonstrations. Both come from one of two sources, tried in this order:

1. A learned expert exported by `launch/train_expert.py`: a directory holding
   `params/` (orbax: policy parameters and observation normaliser) and
   `card.json` (its `PolicySpec`, evaluation and settings). Shipped experts
   live in `il_jax/experts/assets/<name>/`; `directory=` loads any other.
2. The analytic expert of a toy environment (`env.expert_action`).
"""

import json
import os
from collections.abc import Callable

from il_jax import envs
from il_jax import rollout
from il_jax.experts import ppo_networks
from il_jax.types import Action, Observation, PRNGKey

# Environments whose class carries an analytic `expert_action(obs)`.
_ANALYTIC = ('fork', 'tightrope')
# Where shipped experts live: `<_ASSETS>/<name>/{card.json, params/}`.
_ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'assets')
# Noise of the analytic experts' stochastic variant when none is given.
DEFAULT_NOISE_STD = 0.1

ExpertFn = Callable[[Observation], Action]
StochasticExpertFn = Callable[[Observation, PRNGKey], Action]


def shipped_directory(name: str) -> str:
  """Where a shipped expert for `name` lives (it may not exist)."""
  return os.path.join(_ASSETS, name)


def _is_export(directory: str) -> bool:
  return os.path.isfile(os.path.join(directory, 'card.json'))


def registered_names() -> tuple[str, ...]:
  """Names `load` accepts without `directory=`, sorted."""
  shipped = ()
  if os.path.isdir(_ASSETS):
    shipped = tuple(n for n in os.listdir(_ASSETS)
                    if _is_export(shipped_directory(n)))
  return tuple(sorted(set(_ANALYTIC) | set(shipped)))


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
  with open(card_path) as f:
    card = json.load(f)
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


def load(name: str, directory: str | None = None, **env_options) -> ExpertFn:
  """The expert for environment `name`, as `expert_fn(obs [..., obs_size])
  -> action [..., action_size]`: pure, jittable and deterministic.

  A learned expert acts with `tanh(loc)` of its policy, its observation
  normaliser folded in.

  Args:
    name: an environment name (see `registered_names()`).
    directory: a `launch/train_expert.py` export (`<workdir>/expert`) to load
      instead of the shipped expert.
    **env_options: the options the environment was made with. An analytic
      expert is built for exactly that environment; a learned expert is the
      same function whatever the options (its card records what it was
      trained on), so they are ignored.

  Raises:
    ValueError: if no expert exists for `name`.
    FileNotFoundError: if `directory` is not an expert export.
  """
  source = _source(name, directory)
  if source is not None:
    spec, params, _ = load_export(source)
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
    name: an environment name, as for `load`.
    noise_std: std of the added Gaussian noise (>= 0), or None (see above).
    directory: as for `load`.
    **env_options: as for `load`.

  Raises:
    ValueError: if no expert exists for `name` or `noise_std` is negative.
  """
  if noise_std is not None and not noise_std >= 0:
    raise ValueError(f'noise_std={noise_std!r} is not valid; expected a '
                     'non-negative number or None.')
  source = _source(name, directory)
  if source is not None and noise_std is None:
    spec, params, _ = load_export(source)
    return ppo_networks.make_stochastic_policy_fn(spec, params)
  std = DEFAULT_NOISE_STD if noise_std is None else float(noise_std)
  return rollout.with_action_noise(load(name, directory, **env_options), std)
