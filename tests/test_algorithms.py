"""BC against DAgger on tightrope: compounding error, and its cure.

CS285-sized: 2 expert demonstrations, 2 learner episodes relabelled per
DAgger iteration, a 2x64 tanh MLP trained by MSE; 4 seeds vmapped in one
program per algorithm.
"""

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


def _train(algorithm):
  env = envs.make('tightrope')
  policy = policies.make('mlp', env.observation_size, env.action_size)
  train = algorithm.make_train(CONFIG, env, policy, experts.load('tightrope'))
  keys = jax.random.split(jax.random.PRNGKey(0), NUM_SEEDS)
  return jax.device_get(jax.jit(jax.vmap(train))(keys)[1])


@pytest.fixture(scope='module')
def results():
  return {'bc': _train(bc), 'dagger': _train(dagger)}


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
