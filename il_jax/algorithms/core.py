"""The on-device imitation loop that BC, DAgger and HG-DAgger share.

Iteration i trains on the dataset, then rolls out the trained policy once:
its evaluation episodes beside (DAgger, HG-DAgger) the algorithm's
`Collector` gathering iteration i + 1's data, in one batch, so that the two
cost one scan's sequential steps instead of two. The collected data are
labelled and aggregated into the dataset at the end of iteration i and
reported by iteration i + 1, which trains on them, as if it had collected
them itself. Iteration 0 trains on the expert's demonstrations alone, and so
does every iteration of BC, which has no collector. The state of a run is
one explicit pytree, `TrainState`, so an iteration is a pure function
`(state, i) -> (state, metrics)` that can be scanned (`train(key)`), jitted
and checkpointed between calls, or vmapped over seeds.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from il_jax import data, envs, evaluation, rollout
from il_jax.config import ImitationConfig
from il_jax.data import windows
from il_jax.data.normalization import NormalizerStats
from il_jax.envs import goals
from il_jax.policies.base import Policy
from il_jax.types import (Action, HyperParams, Metrics, Observation, Params,
                          PRNGKey, TrainState, Transition)

ExpertFn = Callable[[Observation], Action]
# The dataset records, per row, whether the expert's action was executed there.
DATASET_EXTRAS = {'expert_controlled': jax.ShapeDtypeStruct((), jnp.bool_)}
# A history policy's dataset also links each row to its episode's previous
# row (`data.windows`), to rebuild its training windows.
HISTORY_EXTRAS = {**DATASET_EXTRAS,
                  'prev': jax.ShapeDtypeStruct((), jnp.int32)}


class CollectContext(NamedTuple):
  """What a collector may use: the batched env, the policy, the expert, how
  many rows of the dataset are the demonstrations (its first rows),
  (inside an iteration) the run's traced `HyperParams`, and how the learner
  sees the environment (`rollout.LearnerInput`: its actor wraps the
  collector's, whose learner and expert then pick their inputs with
  `learner_obs` and `full_obs`)."""
  env: Any
  policy: Policy
  expert: ExpertFn
  config: ImitationConfig
  demonstration_rows: int
  hparams: HyperParams | None = None
  learner_input: rollout.LearnerInput = rollout.LearnerInput()


class Collector(NamedTuple):
  """How an algorithm gathers new data for the iterations after the first.

  Attributes:
    init: `(ctx) -> algo_state`, a pytree the collector threads through the
      run (e.g. an adaptive gate threshold); `{}` if it needs none.
    actor: `(ctx, params, stats, dataset, algo_state, i, key) -> (actor,
      algo_state)`: the `rollout.Actor` that collects and labels iteration
      i's data with the policy `params` (observations normalised by `stats`)
      that was trained on `dataset`, and `algo_state` with what the actor
      fixed (e.g. a threshold it set); `key` is the collection's key, whose
      per-step keys the actor receives.
    aggregate: `(ctx, dataset, algo_state, steps, i) -> (dataset, algo_state,
      metrics)`: add what the actor's `steps` (`rollout.Step [steps_per_env,
      num_envs]`) should teach to the dataset; `metrics` are the algorithm's
      own scalars about iteration i's data.
    demo_metrics: `(ctx, algo_state) -> metrics` with the same names, for the
      first iteration, whose data are the expert's demonstrations.
    demonstrate: None for the expert's demonstrations; else `(ctx, key) ->
      (obs [T, B, obs_size], label [T, B, A], expert_controlled [T, B],
      episode EpisodeStats [T, B])`, the first iteration's data made by the
      collector's own demonstrator (e.g. GCBC's play), with
      `T * B = config.expert_steps` rows.
  """
  init: Callable[..., Any]
  actor: Callable[..., tuple[rollout.Actor, Any]]
  aggregate: Callable[..., tuple[Any, Any, Metrics]]
  demo_metrics: Callable[..., Metrics]
  demonstrate: Callable[..., Any] | None = None


class TrainFns(NamedTuple):
  """`init(key, hparams=None) -> TrainState` and `iteration(state, i) ->
  (state, metrics)`; `hparams` defaults to `config.hyperparams()`.

  `iteration` takes the iteration index `i` (int32 scalar, equal to
  `state.iteration`) separately so that it stays unbatched when the state is
  vmapped over seeds, keeping the branch on `i` a real branch.
  """
  init: Callable[..., TrainState]
  iteration: Callable[[TrainState, jax.Array], tuple[TrainState, Metrics]]


def sampling_learner(policy: Policy, params: Params, stats: NormalizerStats,
                     learner_input: rollout.LearnerInput = rollout.LearnerInput()
                     ) -> rollout.ActingFn:
  """The learner as it acts while collecting: a sample of its policy, on
  what `learner_input` shows it."""
  return lambda obs, key: policy.sample(
      params, data.normalize(learner_input.learner_obs(obs), stats), key)


def learner_input(env, policy: Policy) -> rollout.LearnerInput:
  """How `policy` sees `env`: the env's learner view and the policy's
  history length."""
  view = envs.learner_view(env)
  return rollout.LearnerInput(
      history_length=policy.history_length, view_size=view.size,
      observe=None if envs.views.is_identity(view) else view.observe)


def add_steps(ctx: CollectContext, dataset: data.Dataset, obs: jax.Array,
              label: jax.Array, expert_controlled: jax.Array,
              done: jax.Array) -> data.Dataset:
  """Adds `[T, B]` steps (streams of episodes, `done` marking their ends) to
  the dataset as the learner sees them: their `obs [T, B, obs_size]` in the
  learner's view and, for a history policy, each row's predecessor link.
  The full observations are not kept: every label is already the
  expert's."""
  extras = {'expert_controlled': expert_controlled}
  if ctx.learner_input.history_length > 1:
    extras['prev'] = windows.links(done, dataset.size)
  return data.add(dataset, ctx.learner_input.view(obs), label, extras)


def train_return(summary: Metrics) -> Metrics:
  """The return of the data an iteration trains on, from
  `envs.summarize_episodes` of the episodes that produced them, and how many
  episodes ended in them (the return is NaN where none did)."""
  return {'Train_AverageReturn': summary['return_mean'],
          'Train_StdReturn': summary['return_std'],
          'Train_NumEpisodes': summary['num_episodes']}


def make_optimizer(config: ImitationConfig) -> optax.GradientTransformation:
  """Adam (after a global-norm clip, if any) whose learning rate is a traced
  value of its state, `opt_state.hyperparams['learning_rate']`."""

  def clipped_adam(learning_rate):
    adam = optax.adam(learning_rate)
    if config.max_grad_norm == float('inf'):
      return adam
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), adam)

  return optax.inject_hyperparams(clipped_adam)(
      learning_rate=config.learning_rate)


def demonstrate(config: ImitationConfig, env, expert: ExpertFn,
                key: PRNGKey, num_envs: int | None = None
                ) -> Transition:
  """The expert's demonstrations in the `wrap`-ped `env`, `Transition
  [expert_steps_per_env, num_envs]` (default: `config.num_envs`), noisy
  under `config.demo_noise`."""
  if config.demo_noise > 0:
    # The noisy expert drives (so rows say `expert_controlled=False`) and
    # the noiseless one labels every step.
    demonstrator = rollout.with_action_noise(expert, config.demo_noise)
    beta = 0.0
  else:
    demonstrator, beta = (lambda obs, _: expert(obs)), 1.0
  return rollout.collect(
      env, learner=demonstrator, expert=expert, beta=beta, key=key,
      batch_size=num_envs or config.num_envs,
      num_steps=config.expert_steps_per_env)


def empty_dataset(ctx: CollectContext, capacity: int) -> data.Dataset:
  """A dataset of `capacity` rows of the learner's view, with
  `DATASET_EXTRAS` (`HISTORY_EXTRAS` for a history policy)."""
  li = ctx.learner_input
  return data.create(
      capacity, li.view_size or ctx.env.observation_size,
      ctx.env.action_size,
      extras=HISTORY_EXTRAS if li.history_length > 1 else DATASET_EXTRAS)


def demonstration_data(config: ImitationConfig, env, expert: ExpertFn | None,
                       demonstrations: data.Demonstrations | None,
                       capacity: int, key: PRNGKey, num_envs: int | None = None,
                       ctx: CollectContext | None = None
                       ) -> tuple[data.Dataset, Metrics]:
  """The dataset the first iteration trains on: `demonstrations` (labelled
  by their `expert_action`) or, if None, the expert's own (`demonstrate`,
  drawn with `key`), in an `empty_dataset(ctx, capacity)` (`ctx` None: the
  plain learner's); and `envs.summarize_episodes` of the episodes they come
  from."""
  if ctx is None:
    ctx = CollectContext(env=env, policy=None, expert=expert, config=config,
                         demonstration_rows=0)
  dataset = empty_dataset(ctx, capacity)
  if demonstrations is None:
    demos = demonstrate(config, env, expert, key, num_envs)
    dataset = add_steps(ctx, dataset, demos.obs, demos.expert_action,
                        demos.expert_controlled, demos.done)
    return dataset, envs.summarize_episodes(demos.episode)
  executed = jnp.all(demonstrations.action == demonstrations.expert_action,
                     axis=-1)
  dataset = add_steps(ctx, dataset, demonstrations.obs,
                      demonstrations.expert_action, executed,
                      demonstrations.done)
  return dataset, envs.summarize_episodes(
      data.demonstrations.episode_stats(demonstrations))


def bound_labels(config: ImitationConfig, dataset: data.Dataset,
                 bounds: tuple[Any, Any]) -> tuple[data.Dataset, jax.Array]:
  """The dataset with its labels clipped to the action `bounds` (unless
  `out_of_bounds_labels='error'`), and how many rows (int32) had a label
  outside them: the rows added since the last call, as earlier ones were
  clipped."""
  outside = envs.outside_bounds(dataset.action, bounds)
  if config.out_of_bounds_labels == 'clip':
    dataset = dataset.replace(action=jnp.clip(dataset.action, *bounds))
  return dataset, jnp.sum(outside).astype(jnp.int32)


def make_train_fns(config: ImitationConfig, env, policy: Policy,
                   expert: ExpertFn | None, collector: Collector | None,
                   dataset_capacity: int | None = None,
                   demonstrations: data.Demonstrations | None = None
                   ) -> TrainFns:
  """Builds the iteration of BC (`collector=None`), DAgger or HG-DAgger.

  Args:
    config: the run's configuration.
    env: an unbatched brax-interface environment (e.g. `envs.make(...)`).
    policy: a policy family instance for the env's sizes.
    expert: `obs [B, obs_size] -> action [B, A]`, pure and jittable; None
      when `demonstrations` are given and there is no collector.
    collector: how iterations after the first gather data; None for BC.
    dataset_capacity: rows to allocate; by default every collected step fits.
    demonstrations: the initial dataset, `[T, B]` (their `expert_action` is
      the label); None to have the expert demonstrate
      (`config.expert_steps_per_env` steps in `config.num_envs`
      environments).

  Raises:
    ValueError: sizes that do not match the environment, or demonstrations
      given to a collector that makes its own. (Whether an expert is needed
      is `Algorithm.make_train_fns`'s check.)
  """
  goals.check_sees_goal(env, policy.observation_size)
  seen = learner_input(env, policy)
  if (policy.observation_size, policy.action_size) != (seen.view_size,
                                                       env.action_size):
    view = ('' if seen.observe is None else
            f'; the learner sees {seen.view_size} of its '
            f'{env.observation_size}')
    raise ValueError(
        f'policy sizes (obs {policy.observation_size}, action '
        f'{policy.action_size}) do not match the environment (obs '
        f'{env.observation_size}, action {env.action_size}{view}).')
  own_demonstrator = (collector is not None and
                      collector.demonstrate is not None)
  if demonstrations is not None and own_demonstrator:
    raise ValueError('demonstrations= cannot be given to an algorithm whose '
                     'collector makes its own first data (e.g. gcbc).')
  if demonstrations is not None:
    data.demonstrations.check(demonstrations, env.observation_size,
                              env.action_size)
    # On the device once: the programs take them as arguments, not as
    # constants folded into the compiled code.
    demonstrations = jax.tree.map(jnp.asarray, demonstrations)
  demonstration_rows = (config.expert_steps if demonstrations is None else
                        demonstrations.num_rows)
  wrapped = envs.wrap(env, episode_length=config.episode_length)
  low, high = envs.action_bounds(env)
  optimizer = make_optimizer(config)
  capacity = dataset_capacity or config.dataset_capacity(
      aggregate=collector is not None, demonstration_rows=demonstration_rows)
  ctx = CollectContext(env=wrapped, policy=policy, expert=expert,
                       config=config, demonstration_rows=demonstration_rows,
                       learner_input=seen)
  k = policy.history_length

  def normalizer(dataset: data.Dataset) -> NormalizerStats:
    if config.normalize_observations:
      return data.compute_stats(dataset)
    return data.identity_stats(seen.view_size)

  def training_batch(dataset: data.Dataset, key: PRNGKey):
    """A uniform minibatch; a history policy's observations are its
    windows `[batch, k, view_size]`, rebuilt from the rows' links."""
    if k == 1:
      return data.sample(dataset, key, config.train_batch_size)
    index = data.sample_indices(dataset, key, config.train_batch_size)
    return data.gather(dataset, index)._replace(obs=windows.rebuild(
        dataset.obs, dataset.extras['prev'], index, k))

  def init(key: PRNGKey, hparams: HyperParams | None = None) -> TrainState:
    if hparams is None:
      hparams = config.hyperparams()
    demo_key, params_key, key = jax.random.split(key, 3)
    if own_demonstrator:
      obs, label, controlled, episode = collector.demonstrate(
          ctx._replace(hparams=hparams), demo_key)
      dataset = empty_dataset(ctx, capacity)
      dataset = data.add(dataset, obs, label,
                         {'expert_controlled': controlled})
      expert_summary = envs.summarize_episodes(episode)
    else:
      dataset, expert_summary = demonstration_data(
          config, wrapped, expert, demonstrations, capacity, demo_key,
          ctx=ctx)
    dataset, outside = bound_labels(config, dataset, (low, high))
    params = policy.init(params_key, jnp.zeros(
        (seen.view_size,) if k == 1 else (k, seen.view_size)))
    opt_state = optimizer.init(params)
    opt_state = opt_state._replace(hyperparams={
        **opt_state.hyperparams, 'learning_rate': hparams['learning_rate']})
    run_ctx = ctx._replace(hparams=hparams)
    algo_state = collector.init(run_ctx) if collector else {}
    # The first iteration trains on the demonstrations alone; its "training
    # return" is the expert's, as in the CS285 homework.
    data_metrics = {
        **train_return(expert_summary),
        'Labels_OutOfBounds': outside,
        **(collector.demo_metrics(run_ctx, algo_state) if collector else {})}
    return TrainState(
        params=params, opt_state=opt_state, dataset=dataset,
        key=key, iteration=jnp.zeros((), jnp.int32),
        env_steps=jnp.asarray(demonstration_rows, jnp.int32),
        expert_return=expert_summary['return_mean'],
        data_metrics=data_metrics, algo_state=algo_state, hparams=hparams,
        averaged_params=params if config.ema_decay > 0 else None)

  def train_policy(params, opt_state, averaged, dataset, stats, key):
    """`train_steps_per_iter` Adam steps on minibatches of the dataset,
    updating the parameters' moving average `averaged` (None for none) after
    each."""

    def gradient_step(carry, key):
      params, opt_state, averaged = carry
      batch_key, loss_key = jax.random.split(key)
      batch = training_batch(dataset, batch_key)
      batch = batch._replace(obs=data.normalize(batch.obs, stats))
      (loss, _), grads = jax.value_and_grad(policy.loss, has_aux=True)(
          params, batch, loss_key)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      params = optax.apply_updates(params, updates)
      if averaged is not None:
        averaged = optax.incremental_update(params, averaged,
                                            1.0 - config.ema_decay)
      return (params, opt_state, averaged), loss

    (params, opt_state, averaged), losses = jax.lax.scan(
        gradient_step, (params, opt_state, averaged),
        jax.random.split(key, config.train_steps_per_iter))
    return params, opt_state, averaged, losses[-1]

  def iteration(state: TrainState, i: jax.Array) -> tuple[TrainState, Metrics]:
    run_ctx = ctx._replace(hparams=state.hparams)
    # Iteration i's collection key went to the end of iteration i - 1,
    # which collected its data: see `collect_key` below.
    _, train_key, eval_key, next_key = jax.random.split(state.key, 4)
    stats = normalizer(state.dataset)
    params, opt_state, averaged, loss = train_policy(
        state.params, state.opt_state, state.averaged_params, state.dataset,
        stats, train_key)
    collected = (jnp.where(i > 0, config.steps_per_iter, 0) if collector
                 else 0)
    env_steps = (state.env_steps + collected +
                 config.eval_episodes * config.episode_length)
    new_state = state.replace(
        params=params, opt_state=opt_state, key=next_key,
        iteration=state.iteration + 1, env_steps=env_steps,
        averaged_params=averaged)
    acting_params = new_state.acting_params
    evaluation_part = evaluation.actor_part(
        seen.actor(rollout.deterministic(lambda obs: policy.mode(
            acting_params, data.normalize(seen.learner_obs(obs), stats)))),
        eval_key, config.eval_episodes, config.episode_length)
    if collector is None:
      eval_steps, = rollout.run(wrapped, [evaluation_part])
    else:
      # Iteration i + 1's data, collected with the key it would draw.
      collect_key = jax.random.split(next_key, 4)[0]
      actor, algo_state = collector.actor(
          run_ctx, acting_params, stats, state.dataset, state.algo_state,
          i + 1, collect_key)
      eval_steps, steps = rollout.run(wrapped, [
          evaluation_part,
          rollout.part(actor, collect_key, config.num_envs,
                       config.steps_per_env)])

      def aggregate():
        dataset, next_algo_state, metrics = collector.aggregate(
            run_ctx, state.dataset, algo_state, steps, i + 1)
        dataset, outside = bound_labels(config, dataset, (low, high))
        return dataset, next_algo_state, {
            **train_return(envs.summarize_episodes(steps.episode)),
            'Labels_OutOfBounds': outside,
            **metrics}

      # The last iteration's collection (stepped anyway, in the same batch)
      # has no iteration to train on it.
      dataset, algo_state, data_metrics = jax.lax.cond(
          i + 1 < config.n_iter, aggregate,
          lambda: (state.dataset, state.algo_state, state.data_metrics))
      new_state = new_state.replace(dataset=dataset, algo_state=algo_state,
                                    data_metrics=data_metrics)
    eval_summary = evaluation.summarize(eval_steps, action_bounds=(low, high))
    metrics = {
        'Iteration': i,
        **evaluation.eval_metrics(eval_summary),
        'Training_Loss': loss,
        'Dataset_Size': state.dataset.size,
        'Dataset_Dropped': state.dataset.dropped,
        # Every row of the dataset is one expert label (a collector whose
        # rows are not, such as gcbc's play, reports its own count below).
        'Expert_Labels': state.dataset.size,
        'Expert_AverageReturn': state.expert_return,
        'Total_EnvSteps': env_steps,
        **state.data_metrics,
        **evaluation.env_metrics(eval_summary),
    }
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


@dataclasses.dataclass(frozen=True)
class Algorithm:
  """An imitation algorithm as the layers above it see it: each algorithm
  module exports one (`ALGORITHM`), and the driver, the sweep and the launch
  scripts consult it instead of the algorithm's name.

  Attributes:
    name: the name runs, flags and sweeps use, e.g. 'dagger'.
    config_class: its config, `ImitationConfig` or a subclass; the
      subclass's `TRACED` names its traced hyper-parameters.
    make_collector: `config -> Collector`, how iterations after the first
      gather data; None for an algorithm that never collects (BC).
    check: `(config, env, policy) -> None`, raising ValueError for a
      combination the algorithm cannot run; None when every one works.
    own_loop: `(config, env, expert, demonstrations) -> TrainFns` for an
      algorithm that is not the shared imitation loop (GAIL: PPO's
      rollouts and updates on a learned reward), None for one that is. Its
      learner is its own, so it takes no policy family.
    learner_views: whether it trains history policies and learners that see
      a view of the observation (`envs.learner_view`): its collector wraps
      its actor in `CollectContext.learner_input` and adds its data with
      `add_steps`. BC and DAgger do; the others are refused such a run.
  """
  name: str
  config_class: type[ImitationConfig]
  make_collector: Callable[[Any], Collector] | None = None
  check: Callable[[Any, Any, Policy], None] | None = None
  own_loop: Callable[..., TrainFns] | None = None
  learner_views: bool = False

  @property
  def aggregates(self) -> bool:
    """Whether iterations after the first add data to the dataset."""
    return self.make_collector is not None

  @property
  def collects(self) -> bool:
    """Whether every iteration steps `steps_per_iter` environment steps
    besides its evaluation: the next iteration's data of an aggregating
    algorithm, the on-policy rollouts of one with its own loop."""
    return self.aggregates or self.own_loop is not None

  @property
  def takes_policy(self) -> bool:
    """Whether it trains a policy family (`policies.make`); an algorithm
    with its own loop has its own learner."""
    return self.own_loop is None

  @property
  def hyperparameters(self) -> tuple[str, ...]:
    """Its config's traced fields (`HyperParams` keys)."""
    return self.config_class.TRACED

  def config(self, config: ImitationConfig | None = None) -> ImitationConfig:
    """`config` as this algorithm's config: as it is if it is one; the
    shared `ImitationConfig`'s values with this algorithm's own fields at
    their defaults (None: all defaults).

    Raises:
      ValueError: for another algorithm's config.
    """
    if config is None:
      return self.config_class()
    if type(config) is self.config_class:  # pylint: disable=unidiomatic-typecheck
      return config
    if type(config) is ImitationConfig:  # pylint: disable=unidiomatic-typecheck
      return self.config_class(**dataclasses.asdict(config))
    name = self.config_class.__name__
    article = 'an' if name[0] in 'AEFHILMNORSX' else 'a'  # letter names
    raise ValueError(f'{self.name} needs {article} {name} (or the shared '
                     f'ImitationConfig), got {type(config).__name__}.')

  def make_train_fns(self, config: ImitationConfig, env,
                     policy: Policy | None = None,
                     expert: ExpertFn | None = None,
                     demonstrations: data.Demonstrations | None = None
                     ) -> TrainFns:
    """`init(key)` and `iteration(state, i)`, for a driver that
    checkpoints; `config` as `Algorithm.config` takes it.

    `demonstrations` (`[T, B]`, labelled by their `expert_action`) are the
    initial dataset; without them the expert demonstrates. An algorithm
    that aggregates needs the expert to label what it visits; one that does
    not (BC, GAIL) learns from the demonstrations alone and never calls it.
    `policy` is None for an algorithm with its own learner (`takes_policy`).

    Raises:
      ValueError: a config, environment, policy or demonstrations that do
        not fit together, or a missing expert, each in one line.
    """
    config = self.config(config)
    if expert is None and (self.aggregates or demonstrations is None):
      needs = ('labels the states it visits' if self.aggregates else
               'has no demonstrations to train on')
      raise ValueError(f'{self.name} needs an expert: it {needs}. Pass '
                       'expert=' + ('.' if self.aggregates else
                                    ' or demonstrations=.'))
    self.check_learner_input(env, policy)
    if self.check is not None:
      self.check(config, env, policy)
    if self.takes_policy and policy is None:
      raise ValueError(f'{self.name} trains a policy family: pass policy='
                       '(e.g. il_jax.policies.make(...)).')
    if not self.takes_policy:
      if policy is not None:
        raise ValueError(f'{self.name} trains its own learner; pass '
                         'policy=None.')
      return self.own_loop(config, env, expert, demonstrations)
    collector = self.make_collector(config) if self.aggregates else None
    return make_train_fns(config, env, policy, expert, collector,
                          demonstrations=demonstrations)

  def check_learner_input(self, env, policy: Policy | None) -> None:
    """Raises a ValueError for a history policy, or an environment that
    shows the learner a view of its observation, unless `learner_views`."""
    if self.learner_views:
      return
    history = policy is not None and policy.history_length > 1
    view = envs.learner_view(env)
    if history:
      raise ValueError(
          f'{self.name} cannot train a history policy ({policy.name}, '
          f'history_length={policy.history_length}): its data and actors are '
          'Markov. bc and dagger train history policies.')
    if not envs.views.is_identity(view):
      env_name = type(getattr(env, 'unwrapped', env)).__name__
      raise ValueError(
          f'{self.name} cannot train on {env_name}\'s learner view '
          f'({view.size} of {env.observation_size} observation entries, e.g. walker2d observe=positions): its learner sees the '
          'full observation. bc and dagger train on learner views.')

  def make_train(self, config: ImitationConfig, env,
                 policy: Policy | None = None, expert: ExpertFn | None = None,
                 demonstrations: data.Demonstrations | None = None):
    """`train(key) -> (TrainState, metrics [n_iter])`, one compiled
    program; the arguments are `make_train_fns`'."""
    return scan_train(
        self.make_train_fns(config, env, policy, expert, demonstrations),
        config.n_iter)
