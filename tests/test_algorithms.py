"""BC against DAgger on tightrope: compounding error, and its cures.

CS285-sized: 2 expert demonstrations, 2 learner episodes relabelled per
DAgger iteration, a 2x64 tanh MLP trained by MSE; 4 seeds vmapped in one
program per algorithm. The other cure is noise in the demonstrations (DART).
"""

import dataclasses
import functools

import chex
import jax
import numpy as np
import pytest

from il_jax import envs, policies
from il_jax.algorithms import bc, dagger
from il_jax.config import ImitationConfig
from il_jax.experts import registry as experts

NUM_SEEDS = 4
LENGTH = envs.env_class('tightrope').default_episode_length
CONFIG = ImitationConfig(
    n_iter=6, num_envs=2, expert_steps_per_env=LENGTH,
    steps_per_iter=2 * LENGTH, train_steps_per_iter=500,
    train_batch_size=100, learning_rate=5e-3, eval_episodes=32,
    episode_length=LENGTH)
NOISY = dataclasses.replace(CONFIG, demo_noise=0.1)


def _tightrope_mlp():
  """`(env, policy, expert)`: tightrope, a 2x64 MLP and the analytic expert."""
  env = envs.make('tightrope')
  policy = policies.make('mlp', env.observation_size, env.action_size)
  return env, policy, experts.load('tightrope')


def _train(algorithm, config=CONFIG):
  train = algorithm.make_train(config, *_tightrope_mlp())
  keys = jax.random.split(jax.random.PRNGKey(0), NUM_SEEDS)
  return jax.device_get(jax.jit(jax.vmap(train))(keys)[1])


@pytest.fixture(scope='module')
def results():
  return {'bc': _train(bc), 'dagger': _train(dagger),
          'bc_noisy_demos': _train(bc, NOISY)}


def test_bc_fits_the_demonstrations_but_falls(results):
  metrics = results['bc']
  expert = metrics['Expert_AverageReturn'].mean()
  assert expert > 0.99 * LENGTH
  # The training loss on the expert's own states is small ...
  assert metrics['Training_Loss'][:, -1].mean() < 1e-3
  # ... yet the cloned policy falls well before the end of the episode.
  assert metrics['Eval_AverageReturn'][:, -1].mean() < 0.6 * expert
  assert metrics['Eval_AverageEpLen'][:, -1].mean() < 0.7 * LENGTH


def test_dagger_recovers_the_experts_return(results):
  metrics = results['dagger']
  expert = metrics['Expert_AverageReturn'].mean()
  final = metrics['Eval_AverageReturn'][:, -1]
  assert final.mean() > 0.95 * expert, final
  assert final.mean() > results['bc']['Eval_AverageReturn'][:, -1].mean() + (
      0.3 * expert)


def test_dagger_aggregates_and_bc_does_not(results):
  np.testing.assert_array_equal(results['bc']['Dataset_Size'], 2 * LENGTH)
  np.testing.assert_array_equal(
      results['dagger']['Dataset_Size'][0],
      2 * LENGTH * (1 + np.arange(CONFIG.n_iter)))


def test_seeds_differ(results):
  returns = results['dagger']['Train_AverageReturn'][:, 1]
  assert len(set(np.round(returns, 4).tolist())) == NUM_SEEDS


def test_noisy_demonstrations_teach_bc_to_recover(results):
  # The noisy expert drifts off the line and corrects itself, so the clone
  # learns the corrections that clean demonstrations never show.
  expert = results['bc']['Expert_AverageReturn'].mean()
  final = results['bc_noisy_demos']['Eval_AverageReturn'][:, -1]
  assert final.mean() > 0.95 * expert, final
  assert final.mean() > results['bc']['Eval_AverageReturn'][:, -1].mean() + (
      0.3 * expert)


def _initial_dataset(config):
  fns = bc.make_train_fns(config, *_tightrope_mlp())
  dataset = jax.device_get(jax.jit(fns.init)(jax.random.PRNGKey(0)).dataset)
  rows = int(dataset.size)
  return (dataset.obs[:rows], dataset.action[:rows],
          dataset.extras['expert_controlled'][:rows])


def test_noisy_demonstrations_are_labelled_by_the_noiseless_expert():
  clean_obs, clean_labels, clean_driver = _initial_dataset(CONFIG)
  noisy_obs, noisy_labels, noisy_driver = _initial_dataset(NOISY)
  expert = experts.load('tightrope')
  np.testing.assert_allclose(clean_labels, expert(clean_obs), atol=1e-6)
  np.testing.assert_allclose(noisy_labels, expert(noisy_obs), atol=1e-6)
  # The noise moved the expert off its noiseless path ...
  assert np.abs(noisy_obs - clean_obs).max() > 0.01
  # ... and the rows say that the noiseless expert did not drive.
  assert clean_driver.all() and not noisy_driver.any()


@functools.lru_cache
def _first_iteration(config):
  """`(state before, state after, metrics)` of iteration 0 of BC on tightrope
  (seed 0)."""
  fns = bc.make_train_fns(config, *_tightrope_mlp())
  before = jax.jit(fns.init)(jax.random.PRNGKey(0))
  after, metrics = jax.jit(fns.iteration)(before, np.int32(0))
  return jax.device_get((before, after, metrics))


def test_parameter_average_moves_by_one_minus_decay_per_step():
  decay = 0.9
  before, after, _ = _first_iteration(dataclasses.replace(
      CONFIG, train_steps_per_iter=1, ema_decay=decay))
  expected = jax.tree.map(lambda start, new: decay * start + (1 - decay) * new,
                          before.params, after.params)
  chex.assert_trees_all_close(after.averaged_params, expected, rtol=1e-5,
                              atol=1e-7)
  assert _first_iteration(CONFIG)[1].averaged_params is None


def test_the_policy_is_evaluated_with_the_parameter_average():
  # A decay this close to 1 keeps the average at the initial parameters while
  # training moves the last iterate: the run must evaluate like one whose
  # training cannot move them, not like the trained one.
  average_stays = _first_iteration(dataclasses.replace(
      CONFIG, ema_decay=1 - 1e-9))[2]['Eval_AverageReturn']
  untrained = _first_iteration(dataclasses.replace(
      CONFIG, learning_rate=1e-12))[2]['Eval_AverageReturn']
  trained = _first_iteration(CONFIG)[2]['Eval_AverageReturn']
  np.testing.assert_allclose(average_stays, untrained, rtol=1e-4)
  assert abs(trained - untrained) > 1.0, (trained, untrained)
