"""Wrapper semantics on a tiny deterministic environment with known answers."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.base import Env, State

from il_jax import envs


class _Countdown(Env):
  """Reward 1 per step; terminates when the counter (random start) hits 0.

  The initial counter is 3 + a random integer in [0, 4), so fresh resets are
  visible in the observation.
  """

  def reset(self, rng):
    start = 3 + jax.random.randint(rng, (), 0, 4)
    zero = jnp.zeros(())
    return State(pipeline_state=start, obs=jnp.array([start], jnp.float32),
                 reward=zero, done=zero, metrics={}, info={})

  def step(self, state, action):
    counter = state.pipeline_state - 1
    return state.replace(pipeline_state=counter,
                         obs=jnp.array([counter], jnp.float32),
                         reward=jnp.ones(()),
                         done=(counter <= 0).astype(jnp.float32))

  observation_size = 1
  action_size = 1
  backend = 'jax'


def _rollout(env, batch_size, num_steps, seed=0):
  state = env.reset(jax.random.split(jax.random.PRNGKey(seed), batch_size))

  def step(state, _):
    state = env.step(state, jnp.zeros((batch_size, 1)))
    return state, (state.obs, envs.episode_stats(state))

  initial_obs = state.obs
  _, (obs, stats) = jax.lax.scan(step, state, None, length=num_steps)
  return initial_obs, obs, stats


def test_terminated_episodes_report_return_and_length():
  env = envs.wrap(_Countdown(), episode_length=100)
  initial_obs, _, stats = jax.jit(lambda: _rollout(env, 8, 20))()
  start = np.asarray(initial_obs[:, 0])
  first_end = np.argmax(np.asarray(stats.done), axis=0)
  # The first episode of env b lasts exactly start[b] steps.
  np.testing.assert_array_equal(first_end + 1, start)
  lengths = np.asarray(stats.length)[first_end, np.arange(8)]
  returns = np.asarray(stats.return_)[first_end, np.arange(8)]
  np.testing.assert_array_equal(lengths, start)
  np.testing.assert_array_equal(returns, start)
  assert not np.asarray(stats.truncated).any()


def test_time_limit_truncates_and_flags_it():
  env = envs.wrap(_Countdown(), episode_length=2)
  _, _, stats = jax.jit(lambda: _rollout(env, 4, 6))()
  done = np.asarray(stats.done)
  # Every counter starts at >= 3, so every episode is cut at 2 steps.
  np.testing.assert_array_equal(done, np.tile([[0], [1]], (3, 4)).astype(bool))
  assert np.asarray(stats.truncated)[done].all()
  np.testing.assert_array_equal(np.asarray(stats.length)[done], 2.0)


def test_auto_reset_draws_fresh_initial_states():
  env = envs.wrap(_Countdown(), episode_length=100)
  _, obs, stats = jax.jit(lambda: _rollout(env, 1, 200))()
  done = np.asarray(stats.done)[:, 0]
  # The observation at a done step is the next episode's first observation.
  starts = np.asarray(obs)[done, 0, 0]
  assert len(starts) > 20
  assert set(starts.tolist()) == {3.0, 4.0, 5.0, 6.0}


def test_final_observation_of_an_ended_episode_is_kept():
  env = envs.wrap(_Countdown(), episode_length=100)

  def run():
    state = env.reset(jax.random.split(jax.random.PRNGKey(0), 4))

    def step(state, _):
      state = env.step(state, jnp.zeros((4, 1)))
      return state, (state.obs, state.info['final_obs'], state.done)

    return jax.lax.scan(step, state, None, length=12)[1]

  obs, final_obs, done = jax.jit(run)()
  done = np.asarray(done).astype(bool)
  # Countdown episodes end when the counter reaches 0.
  np.testing.assert_array_equal(np.asarray(final_obs)[done], 0.0)
  assert (np.asarray(obs)[done] >= 3).all()
  np.testing.assert_array_equal(np.asarray(final_obs)[~done],
                                np.asarray(obs)[~done])


def test_summarize_episodes_matches_numpy():
  env = envs.wrap(_Countdown(), episode_length=100)
  _, _, stats = jax.jit(lambda: _rollout(env, 16, 30))()
  summary = envs.summarize_episodes(stats)
  done = np.asarray(stats.done)
  returns = np.asarray(stats.return_)[done]
  chex.assert_trees_all_close(
      {k: summary[k] for k in ('num_episodes', 'return_mean', 'return_std',
                               'return_min', 'return_max')},
      {'num_episodes': done.sum(), 'return_mean': returns.mean(),
       'return_std': returns.std(), 'return_min': returns.min(),
       'return_max': returns.max()}, rtol=1e-5)


def test_summary_of_no_episode_is_nan_not_zero():
  env = envs.wrap(_Countdown(), episode_length=100)
  _, _, stats = jax.jit(lambda: _rollout(env, 4, 2))()
  assert np.isnan(envs.summarize_episodes(stats)['return_mean'])


@pytest.mark.parametrize('kwargs', [{'episode_length': 0},
                                    {'episode_length': 10, 'action_repeat': -1},
                                    {'episode_length': 2.5}])
def test_wrap_rejects_bad_values(kwargs):
  with pytest.raises(ValueError, match='expected a positive integer'):
    envs.wrap(_Countdown(), **kwargs)


def test_make_lists_known_environments_for_unknown_name():
  with pytest.raises(ValueError, match='fork, reach, tightrope, walker2d'):
    envs.make('walker3d')
