"""PPO actor-critic networks, tanh-Gaussian actions and a running normaliser.

Everything here is a pure function of explicit pytrees, so that the trained
expert is `expert_fn(obs) -> action` with its observation normaliser folded in
(`make_policy_fn`), jittable and vmappable like any other policy.

The policy is a tanh-squashed Gaussian with a state-dependent scale (the
family brax's PPO uses on its locomotion tasks): actions lie in `(-1, 1)`,
the deterministic action is `tanh(loc)`, and the learner keeps the pre-tanh
sample `u` so that log-probability ratios need no `atanh` (the tanh Jacobian
is the same for both policies and cancels in the ratio).
"""

import dataclasses
import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct

from il_jax.policies.base import ACTIVATIONS
from il_jax.types import Action, Observation, Params, PRNGKey

# Keeps the policy's scale away from zero so log-probabilities stay finite.
_MIN_SCALE = 1e-3
# Variance scale of the policy's last layer at initialisation: small, so that
# every state starts near loc 0 and scale softplus(0) and early actions do not
# saturate tanh.
_POLICY_INIT_SCALE = 0.01
# Guards the normaliser's division for features that never vary.
_VAR_EPS = 1e-8


# ----------------------------------------------------------------------------
# Running observation normaliser.


@struct.dataclass
class RunningStats:
  """Mean and variance of every observation seen so far.

  Not `il_jax.data.normalization`'s statistics (a whole dataset's mean and
  floored std): PPO merges each rollout in as it trains (Chan et al.), and
  every expert, the shipped ones included, normalises with `var + 1e-8`
  (`il_jax.export` folds in the same); changing either would change what PPO
  trains and what the experts output.

  Attributes:
    count: scalar, number of observations merged in.
    mean: `[obs_size]`.
    var: `[obs_size]`, the population variance (divides by `count`).
  """
  count: jax.Array
  mean: jax.Array
  var: jax.Array


def init_running_stats(obs_size: int) -> RunningStats:
  """Statistics of no data: normalising with them is the identity."""
  return RunningStats(
      count=jnp.zeros((), jnp.float32),
      mean=jnp.zeros((obs_size,), jnp.float32),
      var=jnp.ones((obs_size,), jnp.float32))


def update_running_stats(stats: RunningStats, obs: jax.Array) -> RunningStats:
  """Merges a batch of observations into the statistics.

  Uses the pairwise merge of Chan et al. (combining two groups' means and
  sums of squared deviations), which is exact for any batch sizes and stable
  when the batch mean is far from the running mean.

  Args:
    stats: statistics so far.
    obs: `[..., obs_size]`, every leading axis is a batch axis.
  """
  batch = jnp.reshape(obs, (-1, obs.shape[-1])).astype(jnp.float32)
  batch_count = jnp.asarray(batch.shape[0], jnp.float32)
  batch_mean = jnp.mean(batch, axis=0)
  batch_var = jnp.var(batch, axis=0)
  total = stats.count + batch_count
  delta = batch_mean - stats.mean
  mean = stats.mean + delta * (batch_count / total)
  # With count == 0 the first term vanishes, so the initial var of 1 is
  # forgotten exactly.
  sum_sq = (stats.var * stats.count + batch_var * batch_count +
            jnp.square(delta) * (stats.count * batch_count / total))
  return RunningStats(count=total, mean=mean, var=sum_sq / total)


def normalize(stats: RunningStats, obs: jax.Array) -> jax.Array:
  """`(obs - mean) / std`, broadcast over leading axes of `obs [..., obs_size]`."""
  return (obs - stats.mean) / jnp.sqrt(stats.var + _VAR_EPS)


# ----------------------------------------------------------------------------
# Networks.


class MLP(nn.Module):
  """Fully connected network; the last layer is linear.

  Not `il_jax.policies.base.MLP`: its layers are named `Dense_0`, `Dense_1`,
  ..., the names the shipped experts' `params/` and every export
  (`il_jax.export.export_ppo_expert`) hold, where `base.MLP`'s are
  `hidden_i`/`output`.
  """
  layer_sizes: Sequence[int]
  activation: Callable[[jax.Array], jax.Array] = nn.swish
  final_scale: float = 1.0

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    for size in self.layer_sizes[:-1]:
      x = self.activation(nn.Dense(size)(x))
    final_init = nn.initializers.variance_scaling(
        self.final_scale, 'fan_in', 'truncated_normal')
    return nn.Dense(self.layer_sizes[-1], kernel_init=final_init)(x)


@dataclasses.dataclass(frozen=True)
class PolicySpec:
  """What it takes to rebuild the policy network from its parameters.

  Frozen and hashable; saved next to exported parameters (as a dict) so that a
  loader can rebuild `make_policy_fn` without the training config.
  """
  observation_size: int
  action_size: int
  hidden_sizes: tuple[int, ...] = (256, 256)
  activation: str = 'swish'

  def __post_init__(self):
    if self.activation not in ACTIVATIONS:
      raise ValueError(
          f'activation={self.activation!r} is not valid; expected one of '
          f'{sorted(ACTIVATIONS)}.')
    object.__setattr__(self, 'hidden_sizes', tuple(self.hidden_sizes))

  def to_dict(self) -> dict[str, object]:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict[str, object]) -> 'PolicySpec':
    d = dict(d)
    # Some exports record `state_dependent_scale`; True is this network.
    if not d.pop('state_dependent_scale', True):
      raise ValueError(
          'state_dependent_scale=False (one learned scale per action '
          'dimension) is a policy this version cannot rebuild.')
    return cls(**{**d, 'hidden_sizes': tuple(d['hidden_sizes'])})


def policy_module(spec: PolicySpec) -> MLP:
  """Maps normalised obs `[..., obs_size]` to `[..., 2 * action_size]`:
  `[loc, raw_scale]`."""
  return MLP(
      layer_sizes=spec.hidden_sizes + (2 * spec.action_size,),
      activation=ACTIVATIONS[spec.activation],
      final_scale=_POLICY_INIT_SCALE)


def value_module(hidden_sizes: Sequence[int], activation: str) -> MLP:
  """Maps normalised obs `[..., obs_size]` to `[..., 1]`."""
  return MLP(
      layer_sizes=tuple(hidden_sizes) + (1,),
      activation=ACTIVATIONS[activation])


# ----------------------------------------------------------------------------
# Tanh-Gaussian distribution over actions, from the policy network's output.


def split_logits(logits: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Policy output `[..., 2A]` -> (loc `[..., A]`, scale `[..., A]`)."""
  loc, raw_scale = jnp.split(logits, 2, axis=-1)
  return loc, jax.nn.softplus(raw_scale) + _MIN_SCALE


def sample_pre_tanh(logits: jax.Array, key: PRNGKey) -> jax.Array:
  """Pre-tanh Gaussian sample `u [..., A]`; the action is `tanh(u)`."""
  loc, scale = split_logits(logits)
  return loc + scale * jax.random.normal(key, loc.shape, loc.dtype)


def pre_tanh_log_prob(logits: jax.Array, u: jax.Array) -> jax.Array:
  """Gaussian log-density of pre-tanh samples, summed over actions: `[...]`.

  The tanh Jacobian is omitted: it depends on `u` only, so it cancels in the
  ratio of two policies' probabilities of the same sample.
  """
  loc, scale = split_logits(logits)
  z = (u - loc) / scale
  return jnp.sum(-0.5 * jnp.square(z) - jnp.log(scale) -
                 0.5 * math.log(2 * math.pi), axis=-1)


def kl_divergence(logits_p: jax.Array, logits_q: jax.Array) -> jax.Array:
  """KL(p || q) of two policies' action distributions, per state: `[...]`.

  Closed form for the pre-tanh Gaussians, summed over actions; since tanh is
  a bijection, it is also the KL of the squashed action distributions.
  """
  loc_p, scale_p = split_logits(logits_p)
  loc_q, scale_q = split_logits(logits_q)
  variance_ratio = jnp.square(scale_p / scale_q)
  return 0.5 * jnp.sum(
      variance_ratio + jnp.square((loc_p - loc_q) / scale_q) - 1.0 -
      jnp.log(variance_ratio), axis=-1)


def log_det_tanh_jacobian(u: jax.Array) -> jax.Array:
  """`log(1 - tanh(u)^2)` elementwise, finite for large `|u|`."""
  return 2.0 * (math.log(2.0) - u - jax.nn.softplus(-2.0 * u))


def entropy(logits: jax.Array, key: PRNGKey) -> jax.Array:
  """One-sample estimate of the tanh-Gaussian's entropy: `[...]`.

  The Gaussian's entropy is exact; the tanh adds `E[log |d tanh(u)/du|]`,
  estimated from one sample, which penalises saturating the squashing.
  """
  loc, scale = split_logits(logits)
  gaussian = 0.5 + 0.5 * math.log(2 * math.pi) + jnp.log(scale)
  u = loc + scale * jax.random.normal(key, loc.shape, loc.dtype)
  return jnp.sum(gaussian + log_det_tanh_jacobian(u), axis=-1)


def mode(logits: jax.Array) -> jax.Array:
  """The deterministic action `tanh(loc)`: `[..., A]`."""
  loc, _ = split_logits(logits)
  return jnp.tanh(loc)


# ----------------------------------------------------------------------------
# The trained policy as an expert.


@struct.dataclass
class ExpertParams:
  """What an exported expert consists of besides its `PolicySpec`."""
  policy: Params
  obs_stats: RunningStats


def make_policy_fn(spec: PolicySpec, params: ExpertParams
                   ) -> Callable[[Observation], Action]:
  """The deterministic expert: `policy_fn(obs [..., obs_size]) -> [..., A]`.

  Pure and jittable; the observation normaliser is folded in and any leading
  batch axes are kept.
  """
  module = policy_module(spec)

  def policy_fn(obs: Observation) -> Action:
    _check_obs(spec, obs)
    return mode(module.apply(params.policy, normalize(params.obs_stats, obs)))

  return policy_fn


def make_stochastic_policy_fn(
    spec: PolicySpec,
    params: ExpertParams) -> Callable[[Observation, PRNGKey], Action]:
  """The sampling expert: `policy_fn(obs [..., obs_size], key) -> [..., A]`."""
  module = policy_module(spec)

  def policy_fn(obs: Observation, key: PRNGKey) -> Action:
    _check_obs(spec, obs)
    logits = module.apply(params.policy, normalize(params.obs_stats, obs))
    return jnp.tanh(sample_pre_tanh(logits, key))

  return policy_fn


def _check_obs(spec: PolicySpec, obs: jax.Array) -> None:
  if obs.ndim < 1 or obs.shape[-1] != spec.observation_size:
    raise ValueError(
        f'obs has shape {tuple(obs.shape)}, expected [..., '
        f'{spec.observation_size}].')


def expert_params_template(spec: PolicySpec) -> ExpertParams:
  """Shapes and dtypes of an expert's `ExpertParams`, for restoring an export.

  Leaves are `jax.ShapeDtypeStruct`s; nothing is computed.
  """
  obs = jax.ShapeDtypeStruct((1, spec.observation_size), jnp.float32)
  return jax.eval_shape(
      lambda o: ExpertParams(
          policy=policy_module(spec).init(jax.random.PRNGKey(0), o),
          obs_stats=init_running_stats(spec.observation_size)), obs)
