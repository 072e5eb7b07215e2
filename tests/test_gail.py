"""GAIL on tightrope: the discriminator learns what the expert does, its
reward teaches PPO to stay up, and the expert is never called."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import envs, experts, policies
from il_jax.algorithms import gail
from il_jax.experts import ppo

PPO = ppo.PPOConfig(total_env_steps=400_000, num_envs=64, unroll_length=20,
                    num_minibatches=4, update_epochs=4, num_eval_envs=16,
                    policy_hidden_sizes=(64, 64), value_hidden_sizes=(64, 64),
                    learning_rate=1e-3)
CONFIG = gail.GAILConfig(ppo=PPO, discriminator_steps=5, gradient_penalty=1.0)


@pytest.fixture(scope='module')
def tightrope():
  env = envs.make('tightrope')
  demos = experts.collect_demonstrations(
      experts.load('tightrope'), env, jax.random.PRNGKey(1), 16, 200)
  return env, demos


def _never_called(obs):
  raise AssertionError('the expert was called')


@pytest.fixture(scope='module')
def trained(tightrope):
  env, demos = tightrope
  train = gail.make_train(CONFIG, env, expert=_never_called,
                          demonstrations=demos)
  return jax.jit(jax.vmap(train))(jax.random.split(jax.random.PRNGKey(0), 4))


def test_the_discriminators_reward_teaches_the_learner_to_stay_up(trained):
  _, metrics = trained
  # The true return of the rollouts' episodes (the expert's is 200): a
  # learner that falls early earns about 30.
  returns = np.asarray(metrics['Train_AverageReturn'])
  fifth = returns.shape[1] // 5
  first, last = np.nanmean(returns[:, :fifth]), np.nanmean(returns[:, -fifth:])
  assert last > 2 * first, (first, last)
  # The discriminator still recognises the expert's actions above chance,
  # and its mean reward stayed finite.
  assert np.all(np.asarray(metrics['Discriminator_ExpertAccuracy'])[:, -1]
                > 0.5)
  assert np.all(np.isfinite(np.asarray(metrics['GAIL_Reward'])))


def test_the_rewards_forms_rise_with_the_discriminators_belief():
  logit = jnp.linspace(-5.0, 5.0, 11)
  for form in gail.REWARDS:
    reward = gail.reward_from_logit(logit, form)
    assert np.all(np.diff(np.asarray(reward)) > 0), form
  assert np.all(np.asarray(gail.reward_from_logit(logit, 'gail')) > 0)
  assert np.all(np.asarray(gail.reward_from_logit(logit, 'log_d')) < 0)
  np.testing.assert_allclose(gail.reward_from_logit(logit, 'airl'), logit)


def test_what_cannot_run_is_refused(tightrope):
  env, demos = tightrope
  with pytest.raises(ValueError, match='gail needs demonstrations'):
    gail.make_train(CONFIG, env)
  policy = policies.make('mlp', env.observation_size, env.action_size)
  with pytest.raises(ValueError, match="gail's learner is PPO's"):
    gail.make_train(CONFIG, env, policy, demonstrations=demos)
  with pytest.raises(ValueError, match=r'demonstrations.obs has shape'):
    gail.make_train(CONFIG, env, demonstrations=demos._replace(
        obs=demos.obs[..., :2]))
  with pytest.raises(ValueError, match="reward='log' is not valid"):
    dataclasses.replace(CONFIG, reward='log')
  with pytest.raises(ValueError, match='gradient_penalty=-1'):
    dataclasses.replace(CONFIG, gradient_penalty=-1.0)
