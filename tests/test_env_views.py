"""`learner_view`: what the learner is shown of an environment's observation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.wrappers import training as brax_training

from il_jax import envs


@pytest.mark.parametrize('name, options', [
    ('tightrope', {}),
    ('tightrope', {'show_previous_action': True}),
    ('fork', {}),
    ('reach', {}),
])
def test_learner_view_is_the_identity_without_one_and_through_wrappers(
    name, options):
  env = envs.make(name, **options)
  obs = jax.random.normal(jax.random.PRNGKey(0), (5, env.observation_size))
  for wrapped in (env, envs.wrap(env, episode_length=10),
                  brax_training.EvalWrapper(envs.wrap(env))):
    view = envs.learner_view(wrapped)
    assert view.size == env.observation_size
    np.testing.assert_array_equal(view.observe(obs), obs)


def test_learner_view_needs_both_members():
  class HalfDefined(type(envs.make('fork'))):
    learner_observation_size = 2

  with pytest.raises(ValueError, match='only one of learner_observation_size'):
    envs.learner_view(HalfDefined())


@pytest.mark.parametrize('observe', ['full', 'positions'])
def test_walker2d_positions_view_hides_the_velocities(observe):
  """From one state (nonzero velocities; `reset_to` compiles no physics),
  the observation is the full 17 numbers either way and the learner sees
  qpos[1:] with 'positions'."""
  full = envs.make('walker2d')
  env = envs.make('walker2d', observe=observe)
  key_q, key_v = jax.random.split(jax.random.PRNGKey(0))
  qpos = env.mj_model.qpos0 + jax.random.uniform(key_q, (9,), minval=-0.1,
                                                 maxval=0.1)
  qvel = jax.random.uniform(key_v, (9,), minval=-1.0, maxval=1.0)
  state = env.reset_to(qpos, qvel)
  np.testing.assert_array_equal(state.obs, full.reset_to(qpos, qvel).obs)
  assert env.observation_size == state.obs.shape[-1] == 17

  view = envs.learner_view(envs.wrap(env, episode_length=10))
  batch = jnp.stack([state.obs, 2 * state.obs])  # [2, 17]: batched view
  if observe == 'positions':
    assert view.size == 8
    np.testing.assert_array_equal(view.observe(state.obs),
                                  state.pipeline_state.qpos[1:])
    np.testing.assert_array_equal(view.observe(batch), batch[:, :8])
  else:
    assert view.size == 17
    np.testing.assert_array_equal(view.observe(batch), batch)
