"""Ensemble of K members of any one policy family, `vmap`-ped over their
parameters, reporting how much the members disagree.

The params are the member's params with a leading axis `[K, ...]` on every
leaf (`init` vmaps the member's `init` over K keys), so one call runs all
members. Members differ by their initialisation and their loss keys, and,
with `bootstrap=True`, by the data: each member then trains on its own
resample (with replacement) of every batch. Bootstrap is off by default:
deep ensembles get their diversity from random initialisation, and
resampling throws away about a third of each batch per member for little
extra diversity (Lakshminarayanan et al. 2017); turn it on for
bagging-style uncertainty on small datasets.

  mode(params, obs)       -> mean of the members' modes             [..., act]
  sample(params, obs, key) -> the sample of one member drawn uniformly at
                              random per batch element, i.e. a draw from the
                              equal-weight mixture of the members   [..., act]
  member_modes(policy, params, obs) -> every member's mode       [K, ..., act]
  disagreement(policy, params, obs) -> mean over action dims of the variance
                              across members of their modes          [...]

`disagreement` is what HG-DAgger's automatic gate thresholds: it is zero when
the members agree (e.g. identical params) and grows where the data did not
pin them down. The loss is the mean of the members' losses (so the
gradient of each member is its own loss's gradient, divided by K);
`aux` holds the mean over members of each member metric and `disagreement`,
its mean over the batch.

The member family, its options and K are in the config; the member's
`n_layers`, `size` and `activation` are the ensemble's own fields (every
family has them), so the settings `policy='ensemble', n_layers=3` shape
the members.
"""

import dataclasses
import importlib
from typing import Any

import jax
import jax.numpy as jnp

from il_jax import policies
from il_jax.policies import base
from il_jax.types import Batch
from il_jax.types import Params
from il_jax.types import PRNGKey

# Fields of the ensemble's config that are passed on to the member's config.
_SHARED_FIELDS = ('n_layers', 'size', 'activation')


def _as_option_pairs(options: Any) -> tuple[tuple[str, Any], ...]:
  """A mapping or a sequence of (name, value) pairs -> sorted tuple of pairs."""
  if options is None:
    return ()
  items = options.items() if hasattr(options, 'items') else options
  try:
    pairs = tuple((name, value) for name, value in items)
  except (TypeError, ValueError):
    raise ValueError(
        'member_options must be a mapping or a sequence of (name, value) '
        f'pairs, got {options!r}.') from None
  names = [name for name, _ in pairs]
  if not all(isinstance(name, str) for name in names):
    raise ValueError(f'member_options names must be strings, got {names!r}.')
  if len(set(names)) != len(names):
    raise ValueError(f'member_options repeats a name: {names!r}.')
  return tuple(sorted(pairs))


@dataclasses.dataclass(frozen=True)
class EnsembleConfig:
  """The member family, its options and the ensemble's size.

  Attributes:
    n_layers: hidden layers of each member (passed to the member's config).
    size: hidden width of each member (passed to the member's config).
    activation: activation of each member (passed to the member's config).
    member: registry name of the member family (any but 'ensemble').
    member_options: the member config's other fields, as a mapping or a
      sequence of (name, value) pairs; stored as sorted pairs with the values
      the member's config normalised (so the config stays hashable), e.g.
      `(('num_components', 3),)` for member='mog'.
    num_members: K, the number of members (at least 2 for a disagreement).
    bootstrap: train each member on its own resample (with replacement) of
      the rows of every batch `[B, ...]`.
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'
  member: str = 'mlp'
  member_options: tuple[tuple[str, Any], ...] = ()
  num_members: int = 5
  bootstrap: bool = False

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    if self.member == 'ensemble':
      raise ValueError('member must be a family other than ensemble.')
    if self.member not in policies.registered_names():
      known = [n for n in policies.registered_names() if n != 'ensemble']
      raise ValueError(f'Unknown member family {self.member!r}; known '
                       f'families: {", ".join(known)}.')
    options = _as_option_pairs(self.member_options)
    shared = sorted(set(dict(options)) & set(_SHARED_FIELDS))
    if shared:
      raise ValueError(
          f'member_options must not set {shared}: they are the ensemble '
          'config\'s own fields, passed on to the member.')
    if base.check_positive_int('num_members', self.num_members) < 2:
      raise ValueError(
          f'num_members must be at least 2, got {self.num_members!r}.')
    if not isinstance(self.bootstrap, bool):
      raise ValueError(
          f'bootstrap must be True or False, got {self.bootstrap!r}.')
    try:
      member_config = member_config_of(self, options)
    except ValueError as error:
      raise ValueError(f'Invalid member_options for member family '
                       f'{self.member!r}: {error}') from error
    # The member's config has validated and normalised (e.g. list -> tuple)
    # every value; store those so the ensemble config hashes.
    object.__setattr__(
        self, 'member_options',
        tuple((name, getattr(member_config, name)) for name, _ in options))


def member_config_of(config: EnsembleConfig, options=None) -> Any:
  """The member family's config that `config` describes."""
  options = config.member_options if options is None else options
  shared = {name: getattr(config, name) for name in _SHARED_FIELDS}
  return policies.make_config(config.member, **shared, **dict(options))


def make_member(config: EnsembleConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """The member policy; its params are one slice `[k]` of the ensemble's."""
  module = importlib.import_module(
      policies.config_class(config.member).__module__)
  return module.make_policy(member_config_of(config), observation_size,
                            action_size)


def _member(policy: base.Policy) -> base.Policy:
  if policy.name != 'ensemble' or not isinstance(policy.config,
                                                 EnsembleConfig):
    raise ValueError(
        f'Expected an ensemble policy, got the {policy.name!r} family.')
  return make_member(policy.config, policy.observation_size,
                     policy.action_size)


def _member_modes_fn(member: base.Policy):
  return jax.vmap(member.mode, in_axes=(0, None))


def _variance_across_members(modes: jax.Array) -> jax.Array:
  """`modes [K, ..., act] -> [...]`: variance over K, mean over act."""
  # Shifting by member 0 leaves the variance unchanged, makes it exactly 0
  # for identical members (a mean of K equal floats can round) and avoids
  # cancellation when the modes are large and close.
  return jnp.mean(jnp.var(modes - modes[:1], axis=0), axis=-1)


def member_modes(policy: base.Policy, params: Params,
                 obs: jax.Array) -> jax.Array:
  """`obs [..., obs] -> [K, ..., act]`: each member's mode."""
  return _member_modes_fn(_member(policy))(params, obs)


def disagreement(policy: base.Policy, params: Params,
                 obs: jax.Array) -> jax.Array:
  """`obs [..., obs] -> [...]`: the members' disagreement at each observation,
  the variance across members of their modes, averaged over action
  dimensions (>= 0; exactly 0 for identical members)."""
  return _variance_across_members(member_modes(policy, params, obs))


def make_policy(config: EnsembleConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the ensemble policy (see the module docstring).

  Args:
    config: member family, member options, K and bootstrap.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Raises:
    ValueError: non-positive sizes, a config that is not an
      `EnsembleConfig`, or a member family with a history.
  """
  base.check_config(config, EnsembleConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  member = make_member(config, observation_size, action_size)
  if member.history_length > 1:
    # Its disagreement is HG-DAgger's gate, and HG-DAgger is Markov.
    raise ValueError(
        f'An ensemble of history policies ({config.member}, history_length='
        f'{member.history_length}) is not supported; ensemble a Markov '
        'family.')
  num_members = config.num_members
  modes_of_members = _member_modes_fn(member)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    keys = jax.random.split(key, num_members)
    return jax.vmap(member.init, in_axes=(0, None))(keys, obs_example)

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    return jnp.mean(modes_of_members(params, obs), axis=0)

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    member_key, sample_key = jax.random.split(key)
    samples = jax.vmap(member.sample, in_axes=(0, None, 0))(
        params, obs, jax.random.split(sample_key, num_members))
    batch_shape = samples.shape[1:-1]
    chosen = jax.random.randint(member_key, batch_shape, 0, num_members)
    return jnp.take_along_axis(samples, chosen[None, ..., None], axis=0)[0]

  def member_loss(member_params, batch, key):
    if config.bootstrap:
      resample_key, key = jax.random.split(key)
      n = batch.obs.shape[0]
      rows = jax.random.randint(resample_key, (n,), 0, n)
      batch = Batch(obs=batch.obs[rows], action=batch.action[rows])
    return member.loss(member_params, batch, key)

  def loss(params: Params, batch: Batch, key: PRNGKey):
    base.check_batch(batch, observation_size, action_size)
    losses, member_aux = jax.vmap(member_loss, in_axes=(0, None, 0))(
        params, batch, jax.random.split(key, num_members))
    aux = {name: jnp.mean(value) for name, value in member_aux.items()}
    aux['loss'] = jnp.mean(losses)
    # A diagnostic, not a training signal.
    aux['disagreement'] = jnp.mean(_variance_across_members(
        modes_of_members(jax.lax.stop_gradient(params), batch.obs)))
    return jnp.mean(losses), aux

  return base.Policy(
      name='ensemble',
      config=config,
      observation_size=observation_size,
      action_size=action_size,
      init=init,
      sample=sample,
      mode=mode,
      loss=loss)
