"""Tests of the toy environments `tightrope` and `fork` and their experts."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import envs
from il_jax.envs.fork import Fork
from il_jax.envs.tightrope import Tightrope

_NUM_EPISODES = 256


def _zero_policy(obs):
  return jnp.zeros(obs.shape[:-1] + (1,), obs.dtype)


def _wrapped_rollout(env, policy, num_episodes, num_steps, seed=0):
  """Jitted rollout of `policy` in `wrap(env)`; per-step arrays [T, B, ...]."""
  wrapped = envs.wrap(env, episode_length=env.default_episode_length)

  @jax.jit
  def run(key):
    state = wrapped.reset(jax.random.split(key, num_episodes))

    def step(state, _):
      obs = state.obs
      state = wrapped.step(state, policy(obs))
      return state, (obs, envs.episode_stats(state),
                     state.info['episode_metrics'])

    _, (obs, stats, episode_metrics) = jax.lax.scan(
        step, state, None, num_steps)
    return obs, stats, episode_metrics

  return run(jax.random.PRNGKey(seed))


def _first_episode_lengths(stats):
  """Length of each batch member's first episode; stats fields [T, B]."""
  first_end = jnp.argmax(stats.done, axis=0)  # [B]
  return np.asarray(stats.length[first_end, jnp.arange(stats.done.shape[1])])


# ---------------------------------------------------------------------------
# Tightrope.


@pytest.fixture(scope='module')
def tightrope():
  return envs.make('tightrope')


@pytest.fixture(scope='module')
def tightrope_expert_run(tightrope):
  # Exactly one default episode per batch member.
  return _wrapped_rollout(tightrope, tightrope.expert_action, _NUM_EPISODES,
                          Tightrope.default_episode_length)


def _tightrope_state(env, x, v, s):
  state = env.reset(jax.random.PRNGKey(0))
  return state.replace(pipeline_state=jnp.array([x, v, s], jnp.float32))


def test_tightrope_reset_is_random_and_starts_at_a_post(tightrope):
  states = jax.jit(jax.vmap(tightrope.reset))(
      jax.random.split(jax.random.PRNGKey(1), 64))
  chex.assert_shape(states.obs, (64, tightrope.observation_size))
  chex.assert_shape(states.pipeline_state, (64, 3))
  chex.assert_type([states.obs, states.reward, states.done], jnp.float32)
  x = np.asarray(states.obs[:, 0])
  assert np.unique(x).size == 64, 'different keys must give different starts'
  assert np.all(np.abs(x) <= 0.1)
  assert np.any(x > 0.05) and np.any(x < -0.05), 'offsets should fill U(-.1, .1)'
  np.testing.assert_array_equal(states.obs[:, 1:], 0.0)  # at rest, at a post
  np.testing.assert_array_equal(states.done, 0.0)


def test_tightrope_step_matches_hand_computed_update(tightrope):
  x, v, s, u = 0.1, -0.2, 0.25, 0.3
  next_state = jax.jit(tightrope.step)(
      _tightrope_state(tightrope, x, v, s), jnp.array([u]))
  k = 1.0 + 20.0 * np.sin(np.pi * s)**2  # default instabilities
  v_next = v + 0.05 * (k * x + u)
  x_next = x + 0.05 * v_next
  s_next = s + 1 / 100
  chex.assert_trees_all_close(
      next_state.pipeline_state, np.array([x_next, v_next, s_next]),
      rtol=1e-6)
  chex.assert_trees_all_close(
      next_state.obs,
      np.array([x_next, v_next, np.sin(np.pi * s_next)**2]), rtol=1e-6)
  chex.assert_trees_all_close(next_state.reward, 1.0 - x_next**2, rtol=1e-6)
  assert float(next_state.done) == 0.0


def test_tightrope_clips_actions(tightrope):
  step = jax.jit(tightrope.step)
  state = _tightrope_state(tightrope, 0.05, 0.0, 0.4)
  chex.assert_trees_all_close(
      step(state, jnp.array([7.0])).pipeline_state,
      step(state, jnp.array([1.0])).pipeline_state)
  chex.assert_trees_all_close(
      step(state, jnp.array([-3.0])).pipeline_state,
      step(state, jnp.array([-1.0])).pipeline_state)


def test_tightrope_falls_past_unit_offset(tightrope):
  state = jax.jit(tightrope.step)(
      _tightrope_state(tightrope, 0.98, 1.0, 0.0), jnp.array([0.0]))
  assert float(state.pipeline_state[0]) > 1.0
  assert float(state.done) == 1.0
  assert float(state.reward) == 0.0  # the falling step earns nothing
  assert float(state.metrics['fell']) == 1.0


def test_tightrope_expert_is_batched(tightrope):
  obs = jax.random.normal(jax.random.PRNGKey(2), (5, 4, 3)) * 0.1
  actions = tightrope.expert_action(obs)
  chex.assert_shape(actions, (5, 4, 1))
  one_by_one = jax.vmap(jax.vmap(tightrope.expert_action))(obs)
  chex.assert_trees_all_close(actions, one_by_one)
  assert np.all(np.abs(actions) <= 1.0)


def test_tightrope_expert_survives_full_episodes(tightrope_expert_run):
  obs, stats, metrics = tightrope_expert_run
  done = np.asarray(stats.done)
  # Every episode runs the full length and ends at the last step only.
  assert not done[:-1].any()
  assert done[-1].all()
  np.testing.assert_array_equal(stats.length[-1],
                                Tightrope.default_episode_length)
  assert np.asarray(stats.truncated[-1]).all()
  np.testing.assert_array_equal(metrics['fell'][-1], 0.0)
  # Return = sum of 1 - x^2: the expert keeps near the line after settling.
  returns = np.asarray(stats.return_[-1])
  assert np.all(returns > 0.99 * Tightrope.default_episode_length)
  assert float(jnp.max(jnp.abs(obs[50:, :, 0]))) < 0.01
  summary = envs.summarize_episodes(
      jax.tree.map(lambda x: x[-1], stats))
  assert float(summary['num_episodes']) == _NUM_EPISODES
  chex.assert_trees_all_close(summary['length_mean'],
                              float(Tightrope.default_episode_length))


def test_tightrope_zero_policy_falls(tightrope):
  _, stats, metrics = _wrapped_rollout(
      tightrope, _zero_policy, _NUM_EPISODES, 100)
  lengths = _first_episode_lengths(stats)
  assert np.asarray(stats.done).any(axis=0).all(), 'every episode must fall'
  assert lengths.max() < 80
  # The wrapper's episode statistics agree with the env: ended by a fall.
  first_end = np.asarray(jnp.argmax(stats.done, axis=0))
  batch = np.arange(_NUM_EPISODES)
  np.testing.assert_array_equal(metrics['fell'][first_end, batch], 1.0)
  assert not np.asarray(stats.truncated).any()


def test_tightrope_near_post_gains_compound_into_falls(
    tightrope, tightrope_expert_run):
  """The expert's behaviour near the posts, used everywhere, falls mid-span.

  This policy acts exactly like the expert on the line (x = v = 0) and near
  the posts, i.e. on nearly all of the expert's states, yet misses the
  stronger mid-span feedback, as a clone of the demonstrations does.
  """

  def near_post_policy(obs):
    return tightrope.expert_action(obs.at[..., 2].set(0.0))

  # Small errors on the expert's states (actions span [-1, 1]), smaller still
  # once the expert has settled on the line.
  expert_obs = tightrope_expert_run[0]
  error = jnp.abs(near_post_policy(expert_obs) -
                  tightrope.expert_action(expert_obs))[..., 0]  # [T, B]
  assert float(jnp.mean(error)) < 0.05
  assert float(jnp.mean(error[tightrope.default_episode_length // 4:])) < 0.01

  _, stats, _ = _wrapped_rollout(tightrope, near_post_policy, _NUM_EPISODES,
                                 Tightrope.default_episode_length)
  fell = np.asarray(stats.done & ~stats.truncated).any(axis=0)
  assert fell.mean() > 0.95
  assert np.mean(_first_episode_lengths(stats)) < 0.5 * (
      Tightrope.default_episode_length)


def test_tightrope_rejects_wrong_action_shape(tightrope):
  state = tightrope.reset(jax.random.PRNGKey(0))
  for bad in (jnp.zeros(()), jnp.zeros((2,)), jnp.zeros((4, 1))):
    with pytest.raises(ValueError, match=r'tightrope.*expected \(1,\)'):
      tightrope.step(state, bad)


@pytest.mark.parametrize('options, name', [
    ({'dt': 0.0}, 'dt'),
    ({'dt': -0.05}, 'dt'),
    ({'steps_per_span': 2.5}, 'steps_per_span'),
    ({'steps_per_span': 0}, 'steps_per_span'),
    ({'init_offset': 1.5}, 'init_offset'),
    ({'sway_instability': -1.0}, 'sway_instability'),
    ({'base_instability': 'high'}, 'base_instability'),
    ({'show_previous_action': 'yes'}, 'show_previous_action'),
    ({'show_previous_action': 1}, 'show_previous_action'),
])
def test_tightrope_rejects_invalid_options(options, name):
  with pytest.raises(ValueError, match=name):
    envs.make('tightrope', **options)


@pytest.mark.parametrize('name', ['tightrope', 'fork'])
def test_make_rejects_unknown_options(name):
  with pytest.raises(ValueError, match='bogus'):
    envs.make(name, bogus=1)


def _pushing_policy(obs):
  """Pushes the walker away from the line, beyond the clip at |u| = 1 once
  |x| > 0.03, so that episodes fall (and reset) within a few dozen steps."""
  return 1.5 * jnp.tanh(20.0 * obs[..., :1])


def _auto_reset_run(env, policy, num_envs=16, num_steps=80, seed=0):
  """Jitted rollout in `wrap(env)`: obs, actions, dones `[T, B, ...]` and the
  observations after each step."""
  wrapped = envs.wrap(env, episode_length=env.default_episode_length)

  @jax.jit
  def run(key):
    def step(state, _):
      action = policy(state.obs)
      next_state = wrapped.step(state, action)
      return next_state, (state.obs, action, next_state.done, next_state.obs)

    state = wrapped.reset(jax.random.split(key, num_envs))
    return jax.lax.scan(step, state, None, num_steps)[1]

  return run(jax.random.PRNGKey(seed))


def test_tightrope_shows_the_previous_applied_action_and_resets_it():
  env = envs.make('tightrope', show_previous_action=True)
  assert env.observation_size == 4
  obs, actions, done, next_obs = _auto_reset_run(env, _pushing_policy)
  assert obs.shape[-1] == 4
  assert done.any() and (np.abs(actions) > 1).any()  # resets and clips tested
  np.testing.assert_array_equal(obs[0, :, 3], 0.0)
  # After a step: the clipped action just applied, or 0 where the episode
  # ended and the auto-reset began a new one.
  applied = np.clip(actions[..., 0], -1.0, 1.0)
  np.testing.assert_array_equal(next_obs[..., 3],
                                np.where(done, 0.0, applied))


def test_tightrope_previous_action_leaves_dynamics_and_expert_unchanged():
  """The same keys and expert give the same trajectories with or without
  the cue: the expert ignores it. (Equal to float32 rounding, not bit for
  bit: XLA fuses the two compiled steps differently.)"""
  plain = envs.make('tightrope')
  shown = envs.make('tightrope', show_previous_action=True)
  assert plain.observation_size == 3
  run_plain = _auto_reset_run(plain, plain.expert_action, num_steps=120)
  run_shown = _auto_reset_run(shown, shown.expert_action, num_steps=120)
  obs_plain, actions_plain = run_plain[:2]
  obs_shown, actions_shown = run_shown[:2]
  np.testing.assert_allclose(obs_shown[..., :3], obs_plain, rtol=1e-6,
                             atol=1e-8)
  np.testing.assert_allclose(actions_shown, actions_plain, rtol=1e-6,
                             atol=1e-8)
  # Whatever the cue says, the expert's label and the safety margin are
  # those of the first three entries.
  cue = jax.random.uniform(jax.random.PRNGKey(1), obs_plain.shape[:-1] + (1,),
                           minval=-1.0, maxval=1.0)
  with_cue = jnp.concatenate([obs_plain, cue], axis=-1)
  np.testing.assert_array_equal(shown.expert_action(with_cue),
                                plain.expert_action(obs_plain))
  np.testing.assert_array_equal(shown.safety_margin(with_cue),
                                plain.safety_margin(obs_plain))


# ---------------------------------------------------------------------------
# Fork.


@pytest.fixture(scope='module')
def fork():
  return envs.make('fork')


@pytest.fixture(scope='module')
def fork_expert_run(fork):
  return _wrapped_rollout(fork, fork.expert_action, 512,
                          Fork.default_episode_length)


def _fork_state(env, x, y):
  state = env.reset(jax.random.PRNGKey(0))
  return state.replace(pipeline_state=jnp.array([x, y], jnp.float32))


def test_fork_reset_is_random_and_tiny(fork):
  states = jax.jit(jax.vmap(fork.reset))(
      jax.random.split(jax.random.PRNGKey(3), 64))
  chex.assert_shape(states.obs, (64, fork.observation_size))
  chex.assert_type([states.obs, states.reward, states.done], jnp.float32)
  x = np.asarray(states.obs[:, 0])
  assert np.unique(x).size == 64
  assert np.all(np.abs(x) <= 1e-3)
  np.testing.assert_array_equal(states.obs[:, 1], 0.0)


def test_fork_step_matches_hand_computed_update_and_clips(fork):
  step = jax.jit(fork.step)
  state = _fork_state(fork, 0.2, 0.1)
  chex.assert_trees_all_close(
      step(state, jnp.array([0.5])).obs, np.array([0.25, 0.2]), rtol=1e-6)
  chex.assert_trees_all_close(
      step(state, jnp.array([-4.0])).obs, np.array([0.1, 0.2]), rtol=1e-6)
  moved = step(state, jnp.array([0.5]))
  assert float(moved.reward) == 0.0 and float(moved.done) == 0.0


def test_fork_collision_terminates_with_penalty(fork):
  # The disc (radius 1, centre (0, 1.5)) starts at y = 0.5.
  state = jax.jit(fork.step)(_fork_state(fork, 0.0, 0.45),
                             jnp.array([0.0]))
  assert float(state.done) == 1.0
  assert float(state.reward) == -1.0
  assert float(state.metrics['collision']) == 1.0
  assert float(state.metrics['success']) == 0.0


def test_fork_collision_checks_the_whole_step():
  # A coarse step whose ends are both outside the disc but which cuts it.
  env = Fork(dt=2.0)
  start = _fork_state(env, -1.0, 0.5)  # ends at (1, 2.5): both ends outside
  centre = np.array([0.0, 1.5])
  for end in (np.array([-1.0, 0.5]), np.array([1.0, 2.5])):
    assert np.linalg.norm(end - centre) > 1.0
  state = env.step(start, jnp.array([1.0]))
  assert float(state.metrics['collision']) == 1.0


def test_fork_goal_terminates_with_success(fork):
  state = jax.jit(fork.step)(_fork_state(fork, 1.25, 2.95), jnp.array([0.0]))
  assert float(state.done) == 1.0
  assert float(state.reward) == 1.0
  assert float(state.metrics['success']) == 1.0


def test_fork_expert_is_batched_and_bimodal_at_the_start(fork):
  obs = jnp.array([[[1e-4, 0.0], [-1e-4, 0.0]], [[0.5, 1.0], [-2.0, 1.0]]])
  actions = fork.expert_action(obs)
  chex.assert_shape(actions, (2, 2, 1))
  chex.assert_trees_all_close(actions,
                              jax.vmap(jax.vmap(fork.expert_action))(obs))
  # Nearly the same observation, opposite hard turns.
  np.testing.assert_array_equal(actions[0, :, 0], [1.0, -1.0])


def test_fork_expert_succeeds_on_both_sides(fork_expert_run):
  obs, stats, metrics = fork_expert_run
  done = np.asarray(stats.done)
  first_end = done.argmax(axis=0)
  assert done.any(axis=0).all()
  batch = np.arange(done.shape[1])
  np.testing.assert_array_equal(metrics['success'][first_end, batch], 1.0)
  np.testing.assert_array_equal(metrics['collision'][first_end, batch], 0.0)
  np.testing.assert_array_equal(stats.return_[first_end, batch], 1.0)
  assert not np.asarray(stats.truncated).any()
  # 3 forward units at 0.1 per step.
  np.testing.assert_array_equal(stats.length[first_end, batch], 30)
  # Both modes, roughly balanced: the side is the sign of x mid-way.
  went_right = np.asarray(obs[15, :, 0] > 0.5)
  went_left = np.asarray(obs[15, :, 0] < -0.5)
  assert (went_right | went_left).all()
  assert 0.4 < went_right.mean() < 0.6


@pytest.mark.parametrize('scale', [0.0, 0.5])
def test_fork_averaged_modes_collide(fork, scale):
  """Mean of the modes (0) or of imbalanced modes (3:1 -> 0.5 x) collides."""

  def averaged_policy(obs):
    return scale * fork.expert_action(obs)

  _, stats, metrics = _wrapped_rollout(fork, averaged_policy, 128,
                                       Fork.default_episode_length)
  first_end = np.asarray(jnp.argmax(stats.done, axis=0))
  batch = np.arange(128)
  assert np.asarray(stats.done).any(axis=0).all()
  np.testing.assert_array_equal(metrics['collision'][first_end, batch], 1.0)
  np.testing.assert_array_equal(stats.return_[first_end, batch], -1.0)


def test_fork_rejects_wrong_action_shape(fork):
  state = fork.reset(jax.random.PRNGKey(0))
  for bad in (jnp.zeros(()), jnp.zeros((2,)), jnp.zeros((3, 1))):
    with pytest.raises(ValueError, match=r'fork.*expected \(1,\)'):
      fork.step(state, bad)


@pytest.mark.parametrize('options, name', [
    ({'dt': 0}, 'dt'),
    ({'obstacle_radius': -1.0}, 'obstacle_radius'),
    ({'obstacle_distance': 0.5}, 'obstacle_distance'),
    ({'goal_distance': 2.0}, 'goal_distance'),
    ({'init_offset': 1.0}, 'init_offset'),
])
def test_fork_rejects_invalid_options(options, name):
  with pytest.raises(ValueError, match=name):
    envs.make('fork', **options)


@pytest.mark.parametrize('name, obs, margin', [
    ('tightrope', [[0.25, 3.0, 0.5], [-1.5, 0.0, 0.0]], [0.75, 0.0]),
    ('fork', [[0.0, 0.0], [0.0, 1.5], [3.0, 1.5]], [0.5, 0.0, 2.0]),
])
def test_safety_margin_is_the_distance_to_failure(name, obs, margin):
  env = envs.make(name)
  np.testing.assert_allclose(env.safety_margin(jnp.array(obs)), margin,
                             atol=1e-6)


@pytest.mark.parametrize('name', ['tightrope', 'fork'])
def test_brax_training_and_eval_wrappers_run_the_toy_envs(name):
  # brax's wrappers add metrics ('reward') that a step must keep, as brax's
  # own environments do, for a `lax.scan` over steps to type-check.
  from brax.envs.wrappers import training  # pylint: disable=g-import-not-at-top
  env = training.EvalWrapper(
      training.wrap(envs.make(name), episode_length=10))
  state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), 4))
  actions = jnp.zeros((4, env.action_size))
  final, _ = jax.jit(lambda s: jax.lax.scan(
      lambda s, _: (env.step(s, actions), None), s, None, 25))(state)
  assert set(final.metrics) == set(state.metrics) >= {'reward'}
  # Every environment ran at least one whole episode (10-step limit).
  assert np.all(np.asarray(final.info['eval_metrics'].episode_steps) >= 1)
