"""Goal-conditioned BC with hindsight relabelling: the `reach` environment,
`data.relabel`, `algorithms.gcbc` and the errors of goal-reaching runs."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import envs, evaluation, policies, rollout, settings, sweep
from il_jax.algorithms import dagger, gcbc
from il_jax.data import relabel
from il_jax.envs import reach
from il_jax.experts import registry as experts

# Tiny GCBC protocol: 4 play episodes of 50 steps (200 rows) to start with,
# 200 more per iteration.
BASE = dict(n_iter=2, num_envs=4, expert_steps_per_env=50, steps_per_iter=200,
            train_steps_per_iter=400, train_batch_size=128,
            learning_rate=1e-3, eval_episodes=64, episode_length=50,
            demo_noise=0.3)


def _reach(region='held_out'):
  return envs.make('reach', goal_region=region)


def _fns(config, env=None, policy=None):
  env = env or _reach()
  policy = policy or policies.make('mlp', env.observation_size,
                                   env.action_size)
  return gcbc.make_train_fns(config, env, policy, experts.load('reach'))


# The environment.


def test_reset_writes_a_goal_of_its_region_into_the_observation():
  keys = jax.random.split(jax.random.PRNGKey(0), 512)
  for region in reach.GOAL_REGIONS:
    state = jax.vmap(_reach(region).reset)(keys)
    goal = np.asarray(state.obs[:, reach.Reach.goal_slice])
    radius = np.linalg.norm(goal, axis=-1)
    if region == 'held_out':
      assert radius.max() < reach.HELD_OUT_RADIUS
    else:
      assert radius.min() >= reach.HELD_OUT_RADIUS
      assert np.abs(goal).max() <= reach.GOAL_EXTENT
    # At rest, where the goal is not already reached (so a random start is
    # a task): fewer than 5 % of episodes start inside the success radius.
    np.testing.assert_array_equal(state.obs[:, 2:4], 0.0)
    start_gap = np.linalg.norm(np.asarray(state.obs[:, 0:2]) - goal, axis=-1)
    assert np.mean(start_gap < reach.SUCCESS_RADIUS) < 0.05


def test_play_goals_avoid_the_held_out_disc():
  env = _reach()
  goals = jax.vmap(env.sample_play_goal)(
      jax.random.split(jax.random.PRNGKey(1), 2048))
  assert np.linalg.norm(goals, axis=-1).min() >= reach.HELD_OUT_RADIUS


def test_success_is_reaching_the_goal_and_ends_the_episode():
  env = _reach('train')
  state = env.reset(jax.random.PRNGKey(0))
  goal = state.obs[4:6]
  # Placed next to the goal, at rest: one step with no action succeeds.
  physics = state.pipeline_state.at[0:2].set(goal + 0.05)
  state = env.step(state.replace(pipeline_state=physics, obs=physics),
                   jnp.zeros(2))
  assert state.done == 1.0 and state.reward == 1.0
  assert state.metrics['success'] == 1.0
  # Far from it: nothing.
  physics = state.pipeline_state.at[0:2].set(goal + 0.5)
  state = env.step(state.replace(pipeline_state=physics, obs=physics),
                   jnp.zeros(2))
  assert state.done == 0.0 and state.metrics['success'] == 0.0
  # The goal stays in the observation while the point moves.
  np.testing.assert_array_equal(state.obs[4:6], goal)


def test_the_expert_reaches_every_goal():
  for region in reach.GOAL_REGIONS:
    env = _reach(region)
    result = evaluation.evaluate_in(env.expert_action, env, 128)
    assert result['metric_success'] == 1.0, region
    assert result['length_mean'] < 30


# Relabelling.


def _reference_goal_steps(done):
  """For each (t, b), the steps [t, last] of its episode, by a loop."""
  steps, streams = done.shape
  allowed = {}
  for b in range(streams):
    for t in range(steps):
      last = t
      while last < steps - 1 and not done[last, b]:
        last += 1
      allowed[t, b] = range(t, last + 1)
  return allowed


@pytest.mark.parametrize('strategy', relabel.STRATEGIES)
def test_relabelled_goals_are_reached_later_in_the_same_episode(strategy):
  steps, streams, size = 40, 3, 6
  key_done, key_reached, key_obs, key_draws = jax.random.split(
      jax.random.PRNGKey(3), 4)
  # Two rollouts at once: the transform is vmapped (e.g. over seeds).
  done = jax.random.bernoulli(key_done, 0.15, (2, steps, streams))
  reached = jax.random.normal(key_reached, (2, steps, streams, size))
  obs = jax.random.normal(key_obs, (2, steps, streams, size))
  draws = jax.random.uniform(key_draws, (2, steps, streams))
  env = _reach()
  out = np.asarray(jax.jit(jax.vmap(
      lambda *args: relabel.relabel_goals(*args, strategy, env.goal_slice,
                                          env.achieved_goal)))(
                                              obs, reached, done, draws))[1]
  obs, reached, done = obs[1], reached[1], done[1]
  np.testing.assert_array_equal(out[..., :4], obs[..., :4])
  reached, done = np.asarray(reached), np.asarray(done)
  allowed = _reference_goal_steps(done)
  for (t, b), episode_rest in allowed.items():
    matches = [u for u in episode_rest
               if np.array_equal(out[t, b, 4:6], reached[u, b, 0:2])]
    assert matches, (t, b)
    if strategy == 'final':
      assert matches == [episode_rest[-1]]


def test_future_goals_cover_the_rest_of_the_episode():
  done = jnp.zeros((10, 1), bool).at[6, 0].set(True)
  draws = jax.random.uniform(jax.random.PRNGKey(0), (2000, 10, 1))
  chosen = np.asarray(jax.vmap(
      lambda d: relabel.goal_steps(done, d, 'future'))(draws))
  # Step 2's episode is steps 0..6: every step from 2 to 6 is drawn, about
  # equally often; step 8's is 7..9.
  counts = np.bincount(chosen[:, 2, 0], minlength=10)
  assert counts[:2].sum() == 0 and counts[7:].sum() == 0
  assert counts[2:7].min() > 2000 / 5 * 0.8
  assert set(np.unique(chosen[:, 8, 0])) == {8, 9}


# GCBC.


@pytest.fixture(scope='module')
def trained():
  """Final success of GCBC on play data with and without relabelling, 3
  seeds each, and the shared `future` run's functions."""
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  results = {}
  for strategy in ('future', 'none'):
    fns = _fns(gcbc.GCBCConfig(**BASE, relabel=strategy))
    # The training step (`iteration`) of each run is traced once (the
    # counter counts the runs' iterations, same code, as one function).
    chex.clear_trace_counter()
    iteration = jax.jit(jax.vmap(chex.assert_max_traces(fns.iteration, n=1),
                                 in_axes=(0, None)))
    state = jax.jit(jax.vmap(fns.init))(keys)
    for i in range(BASE['n_iter']):
      state, metrics = iteration(state, jnp.int32(i))
    results[strategy] = (jax.device_get(metrics), state, iteration)
  return results


def test_relabelling_play_teaches_to_reach_held_out_goals(trained):
  future = trained['future'][0]['Eval_success']
  none = trained['none'][0]['Eval_success']
  # Measured: 0.66-0.77 against 0.28-0.47 (seeds 0-2).
  assert future.min() > none.max() + 0.1, (future, none)
  assert future.mean() > 0.6


def test_play_is_labelled_by_no_expert_and_the_data_grow(trained):
  metrics, state, _ = trained['future']
  np.testing.assert_array_equal(metrics['Expert_Labels'], 0)
  # The last iteration trained on the demonstrator's first 200 rows and the
  # 200 the first iteration collected.
  np.testing.assert_array_equal(metrics['Dataset_Size'], 400)
  np.testing.assert_array_equal(state.dataset.size, 400)


def test_the_training_step_compiles_once(trained):
  # Each run's iterations were traced once; another call retraces nothing
  # (chex raises on a second trace).
  _, state, iteration = trained['future']
  _, metrics = iteration(state, jnp.int32(BASE['n_iter'] - 1))
  assert np.all(np.isfinite(metrics['Training_Loss']))


def test_play_data_are_relabelled_with_positions_the_trajectory_reached():
  config = gcbc.GCBCConfig(**BASE, relabel='final')
  env = _reach()
  expert = experts.load('reach')
  state = jax.jit(_fns(config, env).init)(jax.random.PRNGKey(4))
  # The same play rollout as the initial data: `init` draws it from the
  # first of its key's three parts.
  wrapped = envs.wrap(env, episode_length=config.episode_length)
  actor = gcbc.with_relabel_draws(gcbc.play_actor(wrapped, expert, 0.3))
  demo_key = jax.random.split(jax.random.PRNGKey(4), 3)[0]
  steps, = rollout.run(wrapped, [rollout.part(
      actor, demo_key, config.num_envs, config.expert_steps_per_env)])
  rows = config.expert_steps
  obs = np.asarray(state.dataset.obs[:rows]).reshape(steps.obs.shape)
  labels = np.asarray(state.dataset.action[:rows]).reshape(
      steps.action.shape)
  # Play is labelled by what it executed; only the goal was rewritten.
  np.testing.assert_allclose(labels, steps.action, atol=1e-6)
  np.testing.assert_allclose(obs[..., :4], steps.obs[..., :4], atol=1e-6)
  reached = np.asarray(steps.final_obs[..., 0:2])
  allowed = _reference_goal_steps(np.asarray(steps.done))
  for (t, b), episode_rest in allowed.items():
    np.testing.assert_allclose(obs[t, b, 4:6], reached[episode_rest[-1], b],
                               atol=1e-6)
  # Most play episodes do not end at the env's goal, so the goals changed.
  assert np.mean(np.any(obs[..., 4:6] != np.asarray(steps.obs[..., 4:6]),
                        axis=-1)) > 0.5


def test_the_expert_demonstrator_is_labelled_by_its_noiseless_actions():
  # demonstrator='expert' is BC's demonstrations: with noise, the noisy
  # expert drives and the noiseless one labels; every row is an expert
  # label.
  config = gcbc.GCBCConfig(**BASE, demonstrator='expert', relabel='none')
  state = jax.jit(_fns(config).init)(jax.random.PRNGKey(5))
  rows = config.expert_steps
  obs, labels = state.dataset.obs[:rows], state.dataset.action[:rows]
  np.testing.assert_allclose(labels, _reach().expert_action(obs), atol=1e-6)
  assert not np.any(state.dataset.extras['expert_controlled'][:rows])
  assert state.data_metrics['Expert_Labels'] == rows


# Errors, before anything compiles.


def test_play_and_relabelling_need_a_goal_env():
  tightrope = envs.make('tightrope')
  policy = policies.make('mlp', 3, 1)
  expert = experts.load('tightrope')
  with pytest.raises(ValueError, match="demonstrator='play' needs a goal"):
    gcbc.make_train_fns(gcbc.GCBCConfig(), tightrope, policy, expert)
  with pytest.raises(ValueError, match="relabel='final' needs a goal"):
    gcbc.make_train_fns(
        gcbc.GCBCConfig(demonstrator='expert', relabel='final'), tightrope,
        policy, expert)


def test_a_goal_env_needs_a_policy_that_sees_the_goal():
  env = _reach()
  blind = policies.make('mlp', 4, 2)  # the state without the goal
  for algorithm in (gcbc, dagger):
    with pytest.raises(ValueError, match=r'goal in \[4:6\]'):
      algorithm.make_train_fns(algorithm.ALGORITHM.config_class(), env, blind,
                               experts.load('reach'))


def test_gcbc_makes_its_own_demonstrations():
  env = _reach()
  demos = rollout.collect(envs.wrap(env, 50), lambda obs, _: obs[:, :2],
                          env.expert_action, 1.0, jax.random.PRNGKey(0), 2,
                          10)
  from il_jax.data import Demonstrations  # pylint: disable=g-import-not-at-top
  given = Demonstrations(obs=demos.obs, action=demos.action,
                         expert_action=demos.expert_action,
                         reward=demos.reward, done=demos.done)
  with pytest.raises(ValueError, match='makes its own first data'):
    gcbc.make_train_fns(gcbc.GCBCConfig(), env, policies.make('mlp', 6, 2),
                        experts.load('reach'), given)


def test_bad_settings_are_refused():
  with pytest.raises(ValueError, match='relabel'):
    gcbc.GCBCConfig(relabel='past')
  with pytest.raises(ValueError, match='demonstrator'):
    gcbc.GCBCConfig(demonstrator='human')
  with pytest.raises(ValueError, match='belongs to algo gcbc'):
    settings.run_config({'algo': 'dagger', 'env': 'reach',
                         'relabel': 'future'})
  with pytest.raises(ValueError, match='goal_region'):
    envs.make('reach', goal_region='everywhere')
  config = settings.run_config({'algo': 'gcbc', 'env': 'reach',
                                'relabel': 'final',
                                'env_options': {'goal_region': 'held_out'}})
  assert config.imitation.relabel == 'final'
  assert config.imitation.episode_length == reach.Reach.default_episode_length


def test_a_sweep_over_relabelling_strategies():
  spec = {'base': {'algo': 'gcbc', 'env': 'reach',
                   'env_options': {'goal_region': 'held_out'}},
          'grid': {'relabel': ['none', 'final', 'future']}, 'seeds': 2}
  runs = sweep.expand(spec)
  assert [r.config.imitation.relabel for r in runs] == [
      'none', 'none', 'final', 'final', 'future', 'future']
  assert all(dict(r.config.env_options) == {'goal_region': 'held_out'}
             for r in runs)
  # A strategy is static (it changes the program): one program each.
  assert len(sweep.group(runs)) == 3
