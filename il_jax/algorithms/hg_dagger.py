"""HG-DAgger (Kelly et al., 2019): the expert takes over only when the
learner goes wrong, and only its corrections are learned from.

    dataset <- expert demonstrations; train
    repeat: roll out the learner; where the gate fires, the expert drives
            until it releases control; aggregate the expert-driven steps
            (with the expert's labels); retrain on all of it

Without a human watching, the gate decides when to intervene:
'discrepancy' compares the learner's action with the expert's (a simulated
human who sees both), 'ensemble' uses an ensemble policy's disagreement
(EnsembleDAgger/ThriftyDAgger's novelty signal: no expert query is needed to
decide) and 'safety' the environment's distance to termination.
"""

import dataclasses
import math
from typing import ClassVar

import jax
import jax.numpy as jnp

from il_jax import data, rollout
from il_jax.algorithms import core
from il_jax.config import ImitationConfig
from il_jax.envs.validation import (check_choice, check_fraction,
                                    check_positive)
from il_jax.policies.base import Policy

GATES = ('discrepancy', 'ensemble', 'safety')
RELEASE_RULES = ('window', 'agreement')


@dataclasses.dataclass(frozen=True)
class HGDAggerConfig(ImitationConfig):
  """HG-DAgger: the shared config plus when the expert takes over and when
  it hands back.

  Attributes (besides `ImitationConfig`'s):
    gate: when the expert intervenes: 'discrepancy' (the learner's action is
      far from the expert's: a simulated human watching), 'ensemble' (an
      ensemble policy's members disagree: automatic, no expert query needed
      to decide) or 'safety' (the state is close to termination).
    threshold: intervene when the gate value exceeds it; None sets it every
      iteration to the `threshold_quantile` of the gate values seen in the
      previous iteration (the demonstrations, for the first collection).
    threshold_quantile: see `threshold`.
    release: when the expert hands control back: 'window' (after
      `min_control_steps` steps) or 'agreement' (after at least
      `min_control_steps` steps, once the learner's proposal is within
      `release_tolerance` of the expert's action).
    min_control_steps: minimum steps of each intervention.
    release_tolerance: distance (L2) for the 'agreement' rule.
  """
  gate: str = 'discrepancy'
  threshold: float | None = None
  threshold_quantile: float = 0.9
  release: str = 'window'
  min_control_steps: int = 10
  release_tolerance: float = 0.1

  TRACED: ClassVar[tuple[str, ...]] = ImitationConfig.TRACED + (
      'threshold', 'threshold_quantile')

  def __post_init__(self):
    super().__post_init__()
    check_choice('gate', self.gate, GATES)
    check_choice('release', self.release, RELEASE_RULES)
    check_positive('min_control_steps', self.min_control_steps, integer=True)
    check_positive('release_tolerance', self.release_tolerance)
    # A threshold of inf never intervenes and -inf always does; NaN would
    # silently never intervene.
    if self.threshold is not None and (
        isinstance(self.threshold, bool) or
        not isinstance(self.threshold, (int, float)) or
        math.isnan(self.threshold)):
      raise ValueError(f'threshold={self.threshold!r} is not valid; expected '
                       'a number (inf: never intervene, -inf: always) or '
                       'None.')
    check_fraction('threshold_quantile', self.threshold_quantile)


def check_gate(config: HGDAggerConfig, env, policy: Policy) -> None:
  """Raises ValueError if `config.gate` cannot work with `env`/`policy`."""
  if config.gate == 'ensemble' and policy.name != 'ensemble':
    raise ValueError(
        f"gate='ensemble' needs an ensemble policy (policy='ensemble'), got "
        f'policy {policy.name!r}: its members\' disagreement is the gate.')
  if config.gate == 'safety' and not hasattr(env, 'safety_margin'):
    raise ValueError(
        f"gate='safety' needs an environment with a safety_margin(obs); "
        f'{type(env.unwrapped).__name__} has none.')


def make_gate(config: HGDAggerConfig, ctx: core.CollectContext, params,
              stats: data.NormalizerStats):
  """`(obs [B, o], learner_action [B, a], expert_action [B, a]) -> [B]`."""
  if config.gate == 'discrepancy':
    return lambda obs, learner_action, expert_action: jnp.linalg.norm(
        learner_action - expert_action, axis=-1)
  if config.gate == 'ensemble':
    from il_jax.policies import ensemble  # pylint: disable=g-import-not-at-top
    return lambda obs, learner_action, expert_action: ensemble.disagreement(
        ctx.policy, params, data.normalize(obs, stats))
  # 'safety': the closer to termination, the larger.
  return lambda obs, learner_action, expert_action: -ctx.env.safety_margin(obs)


def make_collector(config: HGDAggerConfig) -> core.Collector:
  """Gated learner rollouts; only expert-controlled steps are aggregated."""
  release_tolerance = (config.release_tolerance
                       if config.release == 'agreement' else None)

  def init(ctx):
    # A fixed threshold is the traced `ctx.hparams['threshold']` (so a sweep
    # can vmap over it); NaN marks the adaptive rule's first collection.
    threshold = (jnp.nan if config.threshold is None else
                 ctx.hparams['threshold'])
    return {'threshold': jnp.asarray(threshold, jnp.float32)}

  def actor(ctx, params, stats, dataset, algo_state, i, key):
    # The rollout draws from `key` as DAgger's does (a gate that always
    # fires then reproduces DAgger's data with beta = 1); the demonstration
    # pass draws from a key folded off it.
    demo_key = jax.random.fold_in(key, 1)
    learner = core.sampling_learner(ctx.policy, params, stats)
    gate = make_gate(config, ctx, params, stats)
    threshold = algo_state['threshold']
    if config.threshold is None:
      # First collection: the quantile over the demonstration states (the
      # dataset's first rows).
      demo_obs = dataset.obs[:ctx.demonstration_rows]
      demo_values = gate(demo_obs, learner(demo_obs, demo_key),
                         dataset.action[:ctx.demonstration_rows])
      threshold = jnp.where(
          jnp.isnan(threshold),
          jnp.quantile(demo_values, ctx.hparams['threshold_quantile']),
          threshold)
    return (rollout.gated(learner, ctx.expert, gate, threshold,
                          config.min_control_steps, release_tolerance),
            {'threshold': threshold})

  def aggregate(ctx, dataset, algo_state, steps, i):
    labels, record = steps.record
    controlled = labels.expert_controlled
    dataset = data.add_masked(dataset, steps.obs, labels.expert_action,
                              controlled, {'expert_controlled': controlled})
    threshold = algo_state['threshold']
    if config.threshold is not None:
      next_threshold = threshold
    else:
      next_threshold = jnp.quantile(record.value,
                                    ctx.hparams['threshold_quantile'])
    # Episodes touched by the rollout: those that ended, plus one running in
    # each environment at the end.
    episodes = jnp.sum(steps.done) + config.num_envs
    metrics = {
        'Intervention_Rate': jnp.mean(controlled.astype(jnp.float32)),
        'Interventions_Per_Episode': jnp.sum(record.takeover) / episodes,
        'Gate_Threshold': threshold,
    }
    return (dataset, {'threshold': next_threshold.astype(jnp.float32)},
            metrics)

  def demo_metrics(ctx, algo_state):
    return {
        'Intervention_Rate': jnp.ones((), jnp.float32),
        'Interventions_Per_Episode': jnp.zeros((), jnp.float32),
        'Gate_Threshold': algo_state['threshold'],
    }

  return core.Collector(init=init, actor=actor, aggregate=aggregate,
                        demo_metrics=demo_metrics)


ALGORITHM = core.Algorithm(name='hg_dagger', config_class=HGDAggerConfig,
                           make_collector=make_collector, check=check_gate)
make_train_fns = ALGORITHM.make_train_fns
make_train = ALGORITHM.make_train
