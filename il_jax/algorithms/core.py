"""The on-device imitation loop that BC and DAgger share.

One iteration is: (DAgger, from the second iteration on) roll out the
learner mixed with the expert, relabel every visited state with the expert and
aggregate it into the dataset; then train on the dataset and evaluate. The
state of a run is one explicit pytree, `TrainState`, so an iteration is a pure
function `(state, i) -> (state, metrics)` that can be scanned (`train(key)`),
jitted and checkpointed between calls, or vmapped over seeds.
"""

from collections.abc import Callable
from typing import NamedTuple

import flax.struct
import jax
import jax.numpy as jnp
import optax

from il_jax import data, envs, evaluation, rollout
from il_jax.config import ImitationConfig
from il_jax.data.normalization import NormalizerStats
from il_jax.policies.base import Policy
from il_jax.types import Action, Metrics, Observation, Params, PRNGKey

ExpertFn = Callable[[Observation], Action]
# Iteration index (int32 scalar) -> probability of executing the expert's
# action while collecting; None means the algorithm collects nothing (BC).
BetaFn = Callable[[jax.Array], jax.Array]


@flax.struct.dataclass
class TrainState:
  """Everything a run needs to continue: resume is restoring this.

  Attributes:
    params: policy parameters.
    opt_state: optimiser state.
    dataset: the aggregated on-device dataset.
    key: PRNG key for the next iteration.
    iteration: int32, iterations completed.
    env_steps: int32, environment steps taken so far (demonstrations,
      collection and evaluation).
    expert_return: mean return of the expert's demonstrations.
    expert_return_std: std of that return.
  """
  params: Params
  opt_state: optax.OptState
  dataset: data.Dataset
  key: PRNGKey
  iteration: jax.Array
  env_steps: jax.Array
  expert_return: jax.Array
  expert_return_std: jax.Array


class TrainFns(NamedTuple):
  """`init(key) -> TrainState` and `iteration(state, i) -> (state, metrics)`.

  `iteration` takes the iteration index `i` (int32 scalar, equal to
  `state.iteration`) separately so that it stays unbatched when the state is
  vmapped over seeds, keeping the branch on `i` a real branch.
  """
  init: Callable[[PRNGKey], TrainState]
  iteration: Callable[[TrainState, jax.Array], tuple[TrainState, Metrics]]


def make_optimizer(config: ImitationConfig) -> optax.GradientTransformation:
  adam = optax.adam(config.learning_rate)
  if config.max_grad_norm == float('inf'):
    return adam
  return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), adam)


def make_train_fns(config: ImitationConfig, env, policy: Policy,
                   expert: ExpertFn, beta_fn: BetaFn | None) -> TrainFns:
  """Builds the iteration of BC (`beta_fn=None`) or DAgger.

  Args:
    config: the run's configuration.
    env: an unbatched brax-interface environment (e.g. `envs.make(...)`).
    policy: a policy family instance for the env's sizes.
    expert: `obs [B, obs_size] -> action [B, A]`, pure and jittable.
    beta_fn: DAgger's mixing schedule, or None for BC (no collection).
  """
  if (policy.observation_size, policy.action_size) != (env.observation_size,
                                                       env.action_size):
    raise ValueError(
        f'policy sizes (obs {policy.observation_size}, action '
        f'{policy.action_size}) do not match the environment (obs '
        f'{env.observation_size}, action {env.action_size}).')
  wrapped = envs.wrap(env, episode_length=config.episode_length)
  optimizer = make_optimizer(config)
  capacity = config.dataset_capacity(aggregate=beta_fn is not None)

  def normalizer(dataset: data.Dataset) -> NormalizerStats:
    if config.normalize_observations:
      return data.compute_stats(dataset)
    return data.identity_stats(env.observation_size)

  def init(key: PRNGKey) -> TrainState:
    demo_key, params_key, key = jax.random.split(key, 3)
    demos = rollout.collect(
        wrapped, learner=lambda obs, _: expert(obs), expert=expert, beta=1.0,
        key=demo_key, batch_size=config.num_envs,
        num_steps=config.expert_steps_per_env)
    dataset = data.create(capacity, env.observation_size, env.action_size)
    dataset = data.add(dataset, demos.obs, demos.expert_action)
    params = policy.init(params_key, jnp.zeros(env.observation_size))
    expert_summary = envs.summarize_episodes(demos.episode)
    return TrainState(
        params=params, opt_state=optimizer.init(params), dataset=dataset,
        key=key, iteration=jnp.zeros((), jnp.int32),
        env_steps=jnp.asarray(config.expert_steps, jnp.int32),
        expert_return=expert_summary['return_mean'],
        expert_return_std=expert_summary['return_std'])

  def train_policy(params, opt_state, dataset, stats, key):
    """`train_steps_per_iter` Adam steps on minibatches of the dataset."""

    def gradient_step(carry, key):
      params, opt_state = carry
      batch_key, loss_key = jax.random.split(key)
      batch = data.sample(dataset, batch_key, config.train_batch_size)
      batch = batch._replace(obs=data.normalize(batch.obs, stats))
      (loss, _), grads = jax.value_and_grad(policy.loss, has_aux=True)(
          params, batch, loss_key)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), losses = jax.lax.scan(
        gradient_step, (params, opt_state),
        jax.random.split(key, config.train_steps_per_iter))
    return params, opt_state, losses[-1]

  def collect(state: TrainState, i: jax.Array, key: PRNGKey):
    """Learner rollout, relabelled by the expert and aggregated."""
    stats = normalizer(state.dataset)
    learner = lambda obs, key: policy.sample(
        state.params, data.normalize(obs, stats), key)
    beta = beta_fn(i)
    transitions = rollout.collect(
        wrapped, learner, expert, beta, key, config.num_envs,
        config.steps_per_env)
    dataset = data.add(state.dataset, transitions.obs,
                       transitions.expert_action)
    summary = envs.summarize_episodes(transitions.episode)
    return dataset, summary['return_mean'], summary['return_std'], beta

  def iteration(state: TrainState, i: jax.Array) -> tuple[TrainState, Metrics]:
    collect_key, train_key, eval_key, next_key = jax.random.split(state.key, 4)
    # The first iteration trains on the demonstrations alone; its "training
    # return" is the expert's, as in the CS285 homework.
    no_collection = (state.dataset, state.expert_return,
                     state.expert_return_std, jnp.ones((), jnp.float32))
    if beta_fn is None:
      dataset, train_return, train_std, beta = no_collection
      collected = 0
    else:
      dataset, train_return, train_std, beta = jax.lax.cond(
          i > 0, lambda: collect(state, i, collect_key),
          lambda: no_collection)
      collected = jnp.where(i > 0, config.steps_per_iter, 0)

    stats = normalizer(dataset)
    params, opt_state, loss = train_policy(state.params, state.opt_state,
                                           dataset, stats, train_key)
    eval_summary = evaluation.evaluate(
        lambda obs: policy.mode(params, data.normalize(obs, stats)), wrapped,
        eval_key, config.eval_episodes, config.episode_length)
    env_steps = (state.env_steps + collected +
                 config.eval_episodes * config.episode_length)
    metrics = {
        'Iteration': i,
        'Eval_AverageReturn': eval_summary['return_mean'],
        'Eval_StdReturn': eval_summary['return_std'],
        'Eval_MaxReturn': eval_summary['return_max'],
        'Eval_MinReturn': eval_summary['return_min'],
        'Eval_AverageEpLen': eval_summary['length_mean'],
        'Train_AverageReturn': train_return,
        'Train_StdReturn': train_std,
        'Training_Loss': loss,
        'Dataset_Size': dataset.size,
        'Dataset_Dropped': dataset.dropped,
        'Expert_AverageReturn': state.expert_return,
        'Beta': beta,
        'Total_EnvSteps': env_steps,
    }
    new_state = state.replace(
        params=params, opt_state=opt_state, dataset=dataset, key=next_key,
        iteration=state.iteration + 1, env_steps=env_steps)
    return new_state, metrics

  return TrainFns(init=init, iteration=iteration)


def scan_train(fns: TrainFns, n_iter: int):
  """`train(key) -> (state, metrics)`: init and `n_iter` iterations in one
  program; metrics are stacked `[n_iter]`. `jax.vmap(train)(keys)` runs
  several seeds at once."""

  def train(key: PRNGKey):
    state = fns.init(key)
    return jax.lax.scan(fns.iteration, state,
                        jnp.arange(n_iter, dtype=jnp.int32))

  return train
