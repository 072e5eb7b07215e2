"""DAgger (Ross, Gordon & Bagnell, 2011): aggregate expert labels on the
learner's own states.

    dataset <- expert demonstrations; train
    repeat: roll out the (beta-mixed) learner; relabel its states with the
            expert; aggregate them into the dataset; retrain on all of it

The first iteration trains on the demonstrations alone (beta = 1 for that
data); later iterations collect `steps_per_iter` relabelled steps each.
"""

import jax
import jax.numpy as jnp

from il_jax import data, rollout
from il_jax.algorithms import core
from il_jax.config import ImitationConfig
from il_jax.policies.base import Policy
from il_jax.types import HyperParams


def beta_schedule(config: ImitationConfig):
  """`(i, hparams=None) -> beta`: iteration i (>= 1) -> probability of
  executing the expert's action; `beta`/`beta_decay` come from `hparams`
  (traced, see `HyperParams`) or, if None, from the config."""

  def beta(i: jax.Array, hparams: HyperParams | None = None
           ) -> jax.Array:
    if hparams is None:
      hparams = HyperParams.from_config(config)
    i = jnp.asarray(i, jnp.float32)
    if config.beta_schedule == 'dagger':
      value = jnp.zeros_like(i)
    elif config.beta_schedule == 'constant':
      value = jnp.full_like(i, hparams.beta)
    elif config.beta_schedule == 'linear':
      # From `beta` at iteration 1 down to 0 at the last iteration.
      span = max(config.n_iter - 2, 1)
      value = hparams.beta * jnp.clip(1.0 - (i - 1.0) / span, 0.0, 1.0)
    else:  # 'exponential'
      value = hparams.beta * hparams.beta_decay**(i - 1.0)
    return value.astype(jnp.float32)

  return beta


def make_collector(config: ImitationConfig) -> core.Collector:
  """Roll out the beta-mixture, relabel every visited state, aggregate."""
  beta_fn = beta_schedule(config)

  def actor(ctx, params, stats, dataset, algo_state, i, key):
    learner = core.sampling_learner(ctx.policy, params, stats)
    return (rollout.mixture(learner, ctx.expert, beta_fn(i, ctx.hparams)),
            algo_state)

  def aggregate(ctx, dataset, algo_state, steps, i):
    labels = steps.record
    dataset = data.add(dataset, steps.obs, labels.expert_action,
                       {'expert_controlled': labels.expert_controlled})
    return dataset, algo_state, {'Beta': beta_fn(i, ctx.hparams)}

  return core.Collector(
      init=lambda ctx: {}, actor=actor, aggregate=aggregate,
      demo_metrics=lambda ctx, algo_state: {'Beta': jnp.ones((), jnp.float32)})


def make_train_fns(config: ImitationConfig, env, policy: Policy,
                   expert: core.ExpertFn) -> core.TrainFns:
  """`init(key)` and `iteration(state, i)`, for a driver that checkpoints."""
  return core.make_train_fns(config, env, policy, expert,
                             make_collector(config))


def make_train(config: ImitationConfig, env, policy: Policy,
               expert: core.ExpertFn):
  """`train(key) -> (TrainState, metrics [n_iter])`, one compiled program."""
  return core.scan_train(make_train_fns(config, env, policy, expert),
                         config.n_iter)
