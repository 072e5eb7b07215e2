"""HG-DAgger: gating per environment, release rules, and what is aggregated."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.base import Env, State

from il_jax import envs, policies, rollout
from il_jax.algorithms import dagger, hg_dagger
from il_jax.algorithms.dagger import DAggerConfig
from il_jax.algorithms.hg_dagger import HGDAggerConfig
from il_jax.experts import registry as experts


class _Clock(Env):
  """obs = [start + t] with a random integer start in [0, 4); never ends."""

  def reset(self, rng):
    start = jax.random.randint(rng, (), 0, 4).astype(jnp.float32)
    zero = jnp.zeros(())
    return State(pipeline_state=None, obs=jnp.array([start]), reward=zero,
                 done=zero, metrics={}, info={})

  def step(self, state, action):
    return state.replace(obs=state.obs + 1.0)

  observation_size = 1
  action_size = 1
  backend = 'jax'


def _gated(gate, min_control_steps, release_tolerance, learner_value,
           batch_size=6, num_steps=20):
  env = envs.wrap(_Clock(), episode_length=1000)
  learner = lambda obs, key: jnp.full(obs.shape, learner_value)
  expert = lambda obs: jnp.zeros(obs.shape)
  run = jax.jit(lambda key: rollout.collect_gated(
      env, learner, expert, gate, 0.5, min_control_steps, release_tolerance,
      key, batch_size, num_steps))
  return run(jax.random.PRNGKey(0))


def _fires_at(value):
  return lambda obs, learner_action, expert_action: (
      obs[:, 0] == value).astype(jnp.float32)


def test_window_release_holds_control_for_exactly_the_window():
  transitions, record = _gated(_fires_at(5.0), 4, None, learner_value=1.0)
  obs = np.asarray(transitions.obs[..., 0])
  controlled = np.asarray(transitions.expert_controlled)
  np.testing.assert_array_equal(controlled, (obs >= 5) & (obs < 9))
  np.testing.assert_array_equal(np.asarray(record.takeover), obs == 5)
  # The expert's action is executed while it is in control.
  np.testing.assert_array_equal(np.asarray(transitions.action[..., 0]),
                                np.where(controlled, 0.0, 1.0))


def test_gating_is_per_environment():
  transitions, _ = _gated(_fires_at(5.0), 4, None, learner_value=1.0)
  obs = np.asarray(transitions.obs[..., 0])
  controlled = np.asarray(transitions.expert_controlled)
  starts = obs[0]
  assert len(set(starts.tolist())) > 1, 'environments should start apart'
  for b in range(obs.shape[1]):
    first = int(np.flatnonzero(controlled[:, b])[0])
    assert first == 5 - starts[b]


def test_agreement_release_waits_for_the_learner_to_agree():
  # The learner proposes 1.0, the expert 0.0: they never agree, so control
  # is never handed back.
  transitions, _ = _gated(_fires_at(5.0), 2, 0.5, learner_value=1.0)
  obs = np.asarray(transitions.obs[..., 0])
  np.testing.assert_array_equal(np.asarray(transitions.expert_controlled),
                                obs >= 5)
  # A learner within tolerance is given control back after the window.
  transitions, _ = _gated(_fires_at(5.0), 2, 0.5, learner_value=0.1)
  np.testing.assert_array_equal(np.asarray(transitions.expert_controlled),
                                (obs >= 5) & (obs < 7))


SMALL = dict(n_iter=3, num_envs=4, expert_steps_per_env=50,
             steps_per_iter=200, train_steps_per_iter=50,
             train_batch_size=32, eval_episodes=4, episode_length=50)


@pytest.fixture(scope='module')
def tightrope():
  env = envs.make('tightrope')
  policy = policies.make('mlp', env.observation_size, env.action_size)
  return env, policy, experts.load('tightrope')


def _train(module, config, tightrope):
  env, policy, expert = tightrope
  train = jax.jit(module.make_train(config, env, policy, expert))
  return train(jax.random.PRNGKey(3))


def test_gate_forced_off_adds_no_data(tightrope):
  config = HGDAggerConfig(**SMALL, threshold=float('inf'))
  _, metrics = _train(hg_dagger, config, tightrope)
  np.testing.assert_array_equal(metrics['Dataset_Size'], 200)
  np.testing.assert_array_equal(metrics['Intervention_Rate'][1:], 0.0)


def test_gate_forced_on_equals_dagger_with_beta_one(tightrope):
  hg_state, hg_metrics = _train(
      hg_dagger, HGDAggerConfig(**SMALL, threshold=-float('inf')), tightrope)
  dagger_state, _ = _train(
      dagger, DAggerConfig(**SMALL, beta_schedule='constant', beta=1.0),
      tightrope)
  np.testing.assert_array_equal(hg_metrics['Intervention_Rate'], 1.0)
  size = int(dagger_state.dataset.size)
  assert size == int(hg_state.dataset.size) == 200 + 2 * 200
  np.testing.assert_array_equal(hg_state.dataset.obs[:size],
                                dagger_state.dataset.obs[:size])
  np.testing.assert_array_equal(hg_state.dataset.action[:size],
                                dagger_state.dataset.action[:size])


def test_quantile_threshold_intervenes_on_a_fraction_of_steps(tightrope):
  config = HGDAggerConfig(**SMALL, threshold_quantile=0.8,
                          min_control_steps=1)
  _, metrics = _train(hg_dagger, config, tightrope)
  rate = np.asarray(metrics['Intervention_Rate'][1:])
  assert np.all(rate > 0.0) and np.all(rate < 0.9)
  # Only expert-controlled steps are aggregated.
  added = np.diff(np.asarray(metrics['Dataset_Size']))
  np.testing.assert_allclose(added, rate[:len(added)] * 200, atol=1)


def test_safety_gate_uses_the_environment_margin(tightrope):
  config = HGDAggerConfig(**SMALL, gate='safety')
  _, metrics = _train(hg_dagger, config, tightrope)
  assert np.all(np.isfinite(metrics['Gate_Threshold'][1:]))


def test_ensemble_gate_needs_an_ensemble_policy(tightrope):
  env, policy, expert = tightrope
  with pytest.raises(ValueError, match='needs an ensemble policy'):
    hg_dagger.make_train(HGDAggerConfig(**SMALL, gate='ensemble'), env,
                         policy, expert)


def test_hg_dagger_refuses_another_algorithms_config(tightrope):
  env, policy, expert = tightrope
  with pytest.raises(ValueError, match='needs an HGDAggerConfig'):
    hg_dagger.make_train(DAggerConfig(**SMALL), env, policy, expert)


@pytest.mark.parametrize('field, value, message', [
    ('gate', 'oracle', "gate='oracle' is not valid"),
    ('release', 'never', "release='never' is not valid"),
    ('min_control_steps', 0, 'expected a positive integer'),
    ('threshold_quantile', 1.5, r'expected a number in \[0, 1\]'),
])
def test_bad_gate_configs_fail_clearly(field, value, message):
  with pytest.raises(ValueError, match=message):
    HGDAggerConfig(**{**SMALL, field: value})
