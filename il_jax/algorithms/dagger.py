"""DAgger (Ross, Gordon & Bagnell, 2011): aggregate expert labels on the
learner's own states.

    dataset <- expert demonstrations; train
    repeat: roll out the (beta-mixed) learner; relabel its states with the
            expert; aggregate them into the dataset; retrain on all of it

The first iteration trains on the demonstrations alone (beta = 1 for that
data); later iterations collect `steps_per_iter` relabelled steps each.
"""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp

from il_jax import rollout
from il_jax.algorithms import core
from il_jax.config import ImitationConfig
from il_jax.envs.validation import check_choice, check_fraction
from il_jax.types import HyperParams

BETA_SCHEDULES = ('dagger', 'constant', 'linear', 'exponential')


@dataclasses.dataclass(frozen=True)
class DAggerConfig(ImitationConfig):
  """DAgger: the shared config plus how the learner and expert mix.

  Attributes (besides `ImitationConfig`'s):
    beta_schedule: how the probability of executing the expert's action
      decays over iterations: 'dagger' (1 for the expert data, then 0, as in
      the CS285 homework), 'constant' (`beta`), 'linear' (`beta` to 0 over the
      run) or 'exponential' (`beta * beta_decay**(i - 1)` at iteration i >= 1).
    beta: the schedule's initial (or constant) mixing probability.
    beta_decay: the exponential schedule's factor per iteration.
  """
  beta_schedule: str = 'dagger'
  beta: float = 1.0
  beta_decay: float = 0.5

  TRACED: ClassVar[tuple[str, ...]] = ImitationConfig.TRACED + (
      'beta', 'beta_decay')

  def __post_init__(self):
    super().__post_init__()
    check_choice('beta_schedule', self.beta_schedule, BETA_SCHEDULES)
    for name in ('beta', 'beta_decay'):
      check_fraction(name, getattr(self, name))


def beta_schedule(config: DAggerConfig):
  """`(i, hparams=None) -> beta`: iteration i (>= 1) -> probability of
  executing the expert's action; `beta`/`beta_decay` come from `hparams`
  (traced, see `HyperParams`) or, if None, from the config."""

  def beta(i: jax.Array, hparams: HyperParams | None = None
           ) -> jax.Array:
    if hparams is None:
      hparams = config.hyperparams()
    i = jnp.asarray(i, jnp.float32)
    if config.beta_schedule == 'dagger':
      value = jnp.zeros_like(i)
    elif config.beta_schedule == 'constant':
      value = jnp.full_like(i, hparams['beta'])
    elif config.beta_schedule == 'linear':
      # From `beta` at iteration 1 down to 0 at the last iteration.
      span = max(config.n_iter - 2, 1)
      value = hparams['beta'] * jnp.clip(1.0 - (i - 1.0) / span, 0.0, 1.0)
    else:  # 'exponential'
      value = hparams['beta'] * hparams['beta_decay']**(i - 1.0)
    return value.astype(jnp.float32)

  return beta


def make_collector(config: DAggerConfig) -> core.Collector:
  """Roll out the beta-mixture, relabel every visited state, aggregate."""
  beta_fn = beta_schedule(config)

  def actor(ctx, params, stats, dataset, algo_state, i, key):
    seen = ctx.learner_input
    learner = core.sampling_learner(ctx.policy, params, stats, seen)
    expert = lambda obs: ctx.expert(seen.full_obs(obs))
    return (seen.actor(rollout.mixture(learner, expert,
                                       beta_fn(i, ctx.hparams))),
            algo_state)

  def aggregate(ctx, dataset, algo_state, steps, i):
    labels = steps.record
    dataset = core.add_steps(ctx, dataset, steps.obs, labels.expert_action,
                             labels.expert_controlled, steps.done)
    return dataset, algo_state, {'Beta': beta_fn(i, ctx.hparams)}

  return core.Collector(
      init=lambda ctx: {}, actor=actor, aggregate=aggregate,
      demo_metrics=lambda ctx, algo_state: {'Beta': jnp.ones((), jnp.float32)})


ALGORITHM = core.Algorithm(name='dagger', config_class=DAggerConfig,
                           make_collector=make_collector, learner_views=True)
make_train_fns = ALGORITHM.make_train_fns
make_train = ALGORITHM.make_train
