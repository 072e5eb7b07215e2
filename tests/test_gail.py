"""GAIL on tightrope: the discriminator learns what the expert does, its
reward teaches PPO to stay up, the expert is never called, and the driver
runs, resumes and refuses it like the other algorithms."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import data, envs, experiment, experts, policies, settings
from il_jax.algorithms import bc, gail
from il_jax.config import ImitationConfig
from metric_rows import without_timing

# The default recipe, 400k steps, shortened evaluation.
CONFIG = gail.GAILConfig(eval_episodes=8, episode_length=200)
# A few rounds, for the driver's tests.
TINY = gail.GAILConfig(n_iter=3, num_envs=8, unroll_length=10,
                       steps_per_iter=160, num_minibatches=2,
                       update_epochs=1, expert_steps_per_env=100,
                       eval_episodes=2, episode_length=50,
                       policy_hidden_sizes=(16,), value_hidden_sizes=(16,),
                       discriminator_hidden_sizes=(16,))


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
  returns = np.asarray(metrics['Train_AverageReturn'])  # [seeds, n_iter]
  assert np.nanmean(returns[:, -2:]) > 2 * np.nanmean(returns[:, :2]), returns
  # The discriminator still recognises the expert's actions above chance,
  # its mean reward stayed finite, and its only labels are the
  # demonstrations' 3200 rows.
  assert np.all(np.asarray(metrics['Discriminator_ExpertAccuracy'])[:, -1]
                > 0.5)
  assert np.all(np.isfinite(np.asarray(metrics['GAIL_Reward'])))
  np.testing.assert_array_equal(metrics['Expert_Labels'], 16 * 200)
  np.testing.assert_array_equal(
      metrics['Total_EnvSteps'][0],
      16 * 200 + np.arange(1, 11) * (40_960 + 8 * 200))


def test_the_rewards_forms_rise_with_the_discriminators_belief():
  logit = jnp.linspace(-5.0, 5.0, 11)
  for form in gail.REWARDS:
    reward = gail.reward_from_logit(logit, form)
    assert np.all(np.diff(np.asarray(reward)) > 0), form
  assert np.all(np.asarray(gail.reward_from_logit(logit, 'gail')) > 0)
  assert np.all(np.asarray(gail.reward_from_logit(logit, 'log_d')) < 0)
  np.testing.assert_allclose(gail.reward_from_logit(logit, 'airl'), logit)


def test_the_expert_demonstrates_what_it_demonstrates_for_bc(tightrope):
  # Without demonstrations the expert gives BC's, for the same seed, so
  # that a comparison of the two learns from the same data.
  env, _ = tightrope
  expert = experts.load('tightrope')
  key = jax.random.PRNGKey(3)
  gail_state = jax.jit(gail.make_train_fns(TINY, env, expert=expert).init)(
      key)
  shared = ImitationConfig(num_envs=2, expert_steps_per_env=100,
                           episode_length=50)
  bc_state = jax.jit(bc.make_train_fns(
      shared, env, policies.make('mlp', env.observation_size,
                                 env.action_size), expert).init)(key)
  np.testing.assert_array_equal(gail_state.dataset.obs, bc_state.dataset.obs)
  np.testing.assert_array_equal(gail_state.dataset.action,
                                bc_state.dataset.action)


def test_what_cannot_run_is_refused(tightrope):
  env, demos = tightrope
  with pytest.raises(ValueError, match='gail needs an expert: it has no '
                     'demonstrations'):
    gail.make_train(CONFIG, env)
  policy = policies.make('mlp', env.observation_size, env.action_size)
  with pytest.raises(ValueError, match='gail trains its own learner'):
    gail.make_train(CONFIG, env, policy, demonstrations=demos)
  with pytest.raises(ValueError, match=r'demonstrations.obs has shape'):
    gail.make_train(CONFIG, env, demonstrations=demos._replace(
        obs=demos.obs[..., :2]))
  with pytest.raises(ValueError, match="reward='log' is not valid"):
    dataclasses.replace(CONFIG, reward='log')
  with pytest.raises(ValueError, match='gradient_penalty=-1'):
    dataclasses.replace(CONFIG, gradient_penalty=-1.0)
  # PPO's own checks apply to its fields.
  with pytest.raises(ValueError, match='dual_clip=0.5 is not valid'):
    dataclasses.replace(CONFIG, dual_clip=0.5)
  with pytest.raises(ValueError, match='train_batch_size=64 is not used by '
                     'gail'):
    dataclasses.replace(CONFIG, train_batch_size=64)
  with pytest.raises(ValueError, match='steps_per_iter=1920 is not valid; '
                     r'expected a multiple of num_envs \* unroll_length'):
    dataclasses.replace(CONFIG, steps_per_iter=64 * 30)
  with pytest.raises(ValueError, match=r"takes no policy family settings, "
                     r"got \['num_components', 'policy'\]"):
    settings.run_config({'algo': 'gail', 'env': 'tightrope', 'policy': 'mog',
                         'num_components': 3})
  # The flat settings reach PPO.
  ppo = settings.run_config({'algo': 'gail', 'env': 'tightrope',
                             'dual_clip': 3.0}).imitation.ppo
  assert ppo.dual_clip == 3.0


def _run_config(**overrides):
  fields = dict(algo='gail', env='tightrope', num_seeds=2, imitation=TINY)
  fields.update(overrides)
  return experiment.RunConfig(**fields)


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('gail'))
  return workdir, experiment.run(_run_config(), workdir, verbose=False)


def test_the_driver_logs_gails_metrics(uninterrupted):
  _, rows = uninterrupted
  assert [(r['Iteration'], r['Seed']) for r in rows] == [
      (i, s) for i in range(3) for s in range(2)]
  for name in ('Eval_AverageReturn', 'Discriminator_ExpertAccuracy',
               'GAIL_Reward', 'policy_loss'):
    assert all(np.isfinite(r[name]) for r in rows), name
  # The rollouts' return is over the episodes that ended in them (and
  # NaN where none did).
  for r in rows:
    assert np.isfinite(r['Train_AverageReturn']) == (
        r['Train_NumEpisodes'] > 0), r
  assert {r['Expert_Labels'] for r in rows} == {200}
  assert rows[0]['Eval_AverageReturn'] != rows[1]['Eval_AverageReturn']


@pytest.mark.parametrize('interrupt_after', [1, 2])
def test_resume_reproduces_the_uninterrupted_run(uninterrupted, tmp_path,
                                                 interrupt_after):
  _, expected = uninterrupted
  workdir = str(tmp_path)
  experiment.run(_run_config(), workdir, stop_after=interrupt_after,
                 verbose=False)
  resumed = experiment.run(_run_config(), workdir, resume=True,
                           verbose=False)
  assert without_timing(resumed) == without_timing(expected)


def test_a_run_from_a_demonstrations_file_never_calls_the_expert(
    tmp_path, tightrope, monkeypatch):
  _, demos = tightrope
  path = str(tmp_path / 'demos.npz')
  data.save_demonstrations(jax.device_get(demos), path)
  monkeypatch.setattr(experiment.experts, 'resolve', _never_called)
  config = _run_config(demonstrations=path, num_seeds=1,
                       imitation=dataclasses.replace(TINY, n_iter=1))
  rows = experiment.run(config, str(tmp_path / 'run'), verbose=False)
  assert rows[0]['Expert_Labels'] == 16 * 200
  assert rows[0]['Expert_AverageReturn'] > 199.0  # the expert stays up
