"""The imitation loop evaluates beside collecting: same metrics, half the
sequential steps.

The reference below is the loop as it ran before the merge, built from the
same pieces called one after the other: iteration i collects its own data
(from the second on) with the first of its four keys, aggregates them,
trains, then evaluates. XLA's CPU code rounds one computation differently in
different fusions (`test_rollout`'s side-by-side test shows it), so both
programs are compiled without fusion, where the two must agree bit for bit.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from brax.envs.base import Wrapper

from il_jax import data, envs, evaluation, policies, rollout
from il_jax.algorithms import bc, core, dagger, hg_dagger
from il_jax.algorithms.dagger import DAggerConfig
from il_jax.algorithms.hg_dagger import HGDAggerConfig
from il_jax.config import ImitationConfig
from il_jax.experts import registry as experts

UNFUSED = {'xla_disable_hlo_passes': 'fusion'}
SMALL = dict(n_iter=3, num_envs=3, expert_steps_per_env=40,
             train_steps_per_iter=30, train_batch_size=32, eval_episodes=4,
             episode_length=30)
CONFIGS = {
    'bc': (bc, ImitationConfig(**SMALL, steps_per_iter=3 * 30), 'mlp'),
    # Collecting longer than an episode, and sampling a stochastic learner
    # mixed with the expert.
    'dagger': (dagger, DAggerConfig(
        **SMALL, steps_per_iter=3 * 50, beta_schedule='exponential',
        beta=0.8, normalize_observations=True), 'gaussian'),
    # Collecting shorter than an episode, with the adaptive threshold, whose
    # first value comes from the demonstrations.
    'hg_dagger': (hg_dagger, HGDAggerConfig(
        **SMALL, steps_per_iter=3 * 20, threshold_quantile=0.7,
        min_control_steps=3), 'gaussian'),
}


def _run_unfused(fn, *args):
  """`jax.jit(fn)(*args)`, compiled without fusion."""
  return jax.jit(fn).lower(*args).compile(UNFUSED)(*args)


def _reference(algo, config, env, policy, expert, key):
  """`(metrics [n_iter], dataset)` of the loop as it was: collect (after the
  first iteration), aggregate, train, evaluate, as two rollouts."""
  fns = algo.make_train_fns(config, env, policy, expert)
  wrapped = envs.wrap(env, episode_length=config.episode_length)
  optimizer = core.make_optimizer(config)
  beta = dagger.beta_schedule(config)
  quantile = getattr(config, 'threshold_quantile', None)

  def normalizer(dataset):
    if config.normalize_observations:
      return data.compute_stats(dataset)
    return data.identity_stats(env.observation_size)

  def outside(dataset):
    # Tightrope's actions are bounded by [-1, 1].
    return jnp.sum(jnp.any(jnp.abs(dataset.action) > 1.0, axis=-1)).astype(
        jnp.int32)

  def collect(params, dataset, threshold, i, key):
    learner = core.sampling_learner(policy, params, normalizer(dataset))
    if algo is dagger:
      t = rollout.collect(wrapped, learner, expert, beta(i), key,
                          config.num_envs, config.steps_per_env)
      dataset = data.add(dataset, t.obs, t.expert_action,
                         {'expert_controlled': t.expert_controlled})
      return dataset, threshold, t.episode, {
          'Beta': beta(i), 'Labels_OutOfBounds': outside(dataset)}
    gate = lambda obs, learner_action, expert_action: jnp.linalg.norm(
        learner_action - expert_action, axis=-1)
    demo_obs = dataset.obs[:config.expert_steps]
    first = jnp.quantile(gate(demo_obs,
                              learner(demo_obs, jax.random.fold_in(key, 1)),
                              dataset.action[:config.expert_steps]), quantile)
    threshold = jnp.where(jnp.isnan(threshold), first, threshold)
    t, record = rollout.collect_gated(
        wrapped, learner, expert, gate, threshold, config.min_control_steps,
        None, key, config.num_envs, config.steps_per_env)
    controlled = t.expert_controlled
    dataset = data.add_masked(dataset, t.obs, t.expert_action, controlled,
                              {'expert_controlled': controlled})
    episodes = jnp.sum(t.done) + config.num_envs
    return dataset, jnp.quantile(record.value, quantile), t.episode, {
        'Intervention_Rate': jnp.mean(controlled.astype(jnp.float32)),
        'Interventions_Per_Episode': jnp.sum(record.takeover) / episodes,
        'Gate_Threshold': threshold, 'Labels_OutOfBounds': outside(dataset)}

  def train(params, opt_state, dataset, key):
    stats = normalizer(dataset)

    def step(carry, key):
      params, opt_state = carry
      batch_key, loss_key = jax.random.split(key)
      batch = data.sample(dataset, batch_key, config.train_batch_size)
      batch = batch._replace(obs=data.normalize(batch.obs, stats))
      (loss, _), grads = jax.value_and_grad(policy.loss, has_aux=True)(
          params, batch, loss_key)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), losses = jax.lax.scan(
        step, (params, opt_state),
        jax.random.split(key, config.train_steps_per_iter))
    return params, opt_state, losses[-1]

  def run(key):
    state = fns.init(key)
    demo_metrics = {name: value for name, value in state.data_metrics.items()
                    if not name.startswith('Train_')}
    demo_episodes = {'return_mean': state.expert_return,
                     'return_std': state.data_metrics['Train_StdReturn'],
                     'num_episodes': state.data_metrics['Train_NumEpisodes']}

    def iteration(carry, i):
      params, opt_state, dataset, threshold, key, env_steps = carry
      collect_key, train_key, eval_key, key = jax.random.split(key, 4)
      if algo is bc:
        summary, metrics, collected = demo_episodes, demo_metrics, 0
      else:

        def collected_data():
          new, next_threshold, episodes, metrics = collect(
              params, dataset, threshold, i, collect_key)
          summary = envs.summarize_episodes(episodes)
          return new, next_threshold, {k: summary[k] for k in demo_episodes}, (
              metrics)

        dataset, threshold, summary, metrics = jax.lax.cond(
            i > 0, collected_data,
            lambda: (dataset, threshold, demo_episodes, demo_metrics))
        collected = jnp.where(i > 0, config.steps_per_iter, 0)
      params, opt_state, loss = train(params, opt_state, dataset, train_key)
      stats = normalizer(dataset)
      evaluated = evaluation.evaluate(
          lambda obs: policy.mode(params, data.normalize(obs, stats)),
          wrapped, eval_key, config.eval_episodes, config.episode_length)
      env_steps += collected + config.eval_episodes * config.episode_length
      row = {'Iteration': i, **evaluation.eval_metrics(evaluated),
             'Train_AverageReturn': summary['return_mean'],
             'Train_StdReturn': summary['return_std'],
             'Train_NumEpisodes': summary['num_episodes'],
             'Training_Loss': loss, 'Dataset_Size': dataset.size,
             'Dataset_Dropped': dataset.dropped,
             'Expert_Labels': dataset.size,
             'Expert_AverageReturn': state.expert_return,
             'Total_EnvSteps': env_steps, **metrics,
             **{f'Eval_{name[len("metric_"):]}': value
                for name, value in evaluated.items()
                if name.startswith('metric_')}}
      return (params, opt_state, dataset, threshold, key, env_steps), row

    threshold = state.algo_state.get('threshold', jnp.float32(jnp.nan))
    carry = (state.params, state.opt_state, state.dataset, threshold,
             state.key, state.env_steps)
    (_, _, dataset, _, _, _), rows = jax.lax.scan(
        iteration, carry, jnp.arange(config.n_iter, dtype=jnp.int32))
    return rows, dataset

  return _run_unfused(run, key)


@pytest.mark.parametrize('name', list(CONFIGS))
def test_metrics_equal_collecting_then_evaluating_one_after_the_other(name):
  algo, config, family = CONFIGS[name]
  env = envs.make('tightrope')
  policy = policies.make(family, env.observation_size, env.action_size)
  expert = experts.load('tightrope')
  key = jax.random.PRNGKey(5)
  train = algo.make_train(config, env, policy, expert)
  state, metrics = _run_unfused(train, key)
  want, dataset = _reference(algo, config, env, policy, expert, key)
  assert metrics.keys() == want.keys()
  for metric, value in want.items():
    np.testing.assert_array_equal(metrics[metric], value, err_msg=metric)
  # The last iteration's collection is not aggregated: no iteration trains
  # on it, and the dataset holds exactly what the reference's does.
  np.testing.assert_array_equal(state.dataset.size, dataset.size)
  np.testing.assert_array_equal(state.dataset.dropped, 0)
  np.testing.assert_array_equal(state.dataset.obs, dataset.obs)
  if algo is not bc:
    # Something was collected, from iteration 1 on.
    sizes = np.asarray(metrics['Dataset_Size'])
    assert sizes[0] == config.expert_steps and np.all(np.diff(sizes) > 0)


class _CountedSteps(Wrapper):
  """Marks every `step` as a call named `env_step` in the jaxpr."""

  def step(self, state, action):
    return jax.jit(_env_step, static_argnums=0)(self.env, state, action)


def _env_step(env, state, action):
  return env.step(state, action)


def _sequential_env_steps(jaxpr) -> int:
  """Steps of `_CountedSteps` that `jaxpr` takes one after another: a scan
  multiplies its body's by its length, a cond takes its longest branch."""
  count = 0
  for eqn in jaxpr.eqns:
    if eqn.params.get('name') == '_env_step':
      count += 1
    elif eqn.primitive.name == 'scan':
      count += eqn.params['length'] * _sequential_env_steps(
          eqn.params['jaxpr'].jaxpr)
    elif eqn.primitive.name == 'cond':
      count += max(_sequential_env_steps(branch.jaxpr)
                   for branch in eqn.params['branches'])
    elif eqn.primitive.name == 'while':
      assert _sequential_env_steps(eqn.params['body_jaxpr'].jaxpr) == 0
    else:
      for param in eqn.params.values():
        inner = getattr(param, 'jaxpr', param)
        if hasattr(inner, 'eqns'):
          count += _sequential_env_steps(inner)
  return count


@pytest.mark.parametrize('algo, config_class', [
    (dagger, DAggerConfig), (hg_dagger, HGDAggerConfig)])
def test_a_cs285_iteration_steps_its_environments_1000_times(algo,
                                                             config_class):
  # The CS285 protocol: 1 environment collecting 1000 steps, 5 evaluation
  # episodes of 1000 steps. One after the other they were 2000 sequential
  # steps; side by side, 1000.
  config = config_class(n_iter=10, num_envs=1, steps_per_iter=1000,
                        eval_episodes=5, episode_length=1000,
                        expert_steps_per_env=1000, train_steps_per_iter=7)
  assert _iteration_env_steps(algo, config) == 1000
  # A collection longer than an episode sets the count instead.
  longer = dataclasses.replace(config, steps_per_iter=1500)
  assert _iteration_env_steps(algo, longer) == 1500


def _iteration_env_steps(algo, config) -> int:
  """Sequential environment steps of one iteration (after the first)."""
  env = _CountedSteps(envs.make('tightrope'))
  policy = policies.make('mlp', env.observation_size, env.action_size)
  fns = algo.make_train_fns(config, env, policy, experts.load('tightrope'))
  state = jax.eval_shape(fns.init, jax.random.PRNGKey(0))
  return _sequential_env_steps(
      jax.make_jaxpr(fns.iteration)(state, jnp.int32(1)).jaxpr)
