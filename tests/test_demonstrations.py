"""Tests of expert loading (`il_jax.experts.registry`) and demonstrations."""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import data
from il_jax import envs
from il_jax import experts
from il_jax.experts import demonstrations
from il_jax.experts import ppo_networks
from il_jax.experts import registry
from expert_exports import SPEC, write_export


@pytest.fixture(scope='module')
def export_dir(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp('export') / 'expert')
  return directory, write_export(directory, env='tightrope')


def test_load_from_directory_is_the_policy_fn(export_dir):
  directory, params = export_dir
  obs = jax.random.normal(jax.random.PRNGKey(1), (16, 3)) * 3
  expert_fn = jax.jit(experts.load('tightrope', directory=directory))
  expected = ppo_networks.make_policy_fn(SPEC, params)(obs)
  chex.assert_trees_all_close(expert_fn(obs), expected, rtol=1e-6)
  assert float(jnp.std(expected)) > 1e-4  # not a constant function

  key = jax.random.PRNGKey(2)
  sample = experts.load_stochastic('tightrope', directory=directory)
  chex.assert_trees_all_close(
      sample(obs, key),
      ppo_networks.make_stochastic_policy_fn(SPEC, params)(obs, key),
      rtol=1e-6)


def test_shipped_asset_is_found_and_walker2d_errors_without_one(
    monkeypatch, tmp_path):
  # Named like a shipped Walker2d expert, shaped like a tightrope one: the
  # registry must find it by its directory's name.
  directory = str(tmp_path / 'assets' / 'walker2d')
  params = write_export(directory, env='walker2d')
  monkeypatch.setattr(registry, '_ASSETS', str(tmp_path / 'none'))
  assert 'walker2d' not in experts.registered_names()
  with pytest.raises(ValueError, match="No expert is shipped for .*'walker2d'"):
    experts.load('walker2d')
  with pytest.raises(ValueError, match="Unknown expert 'cartpole'"):
    experts.load('cartpole')
  with pytest.raises(FileNotFoundError, match='card.json does not exist'):
    experts.load('walker2d', directory=str(tmp_path))

  monkeypatch.setattr(registry, '_ASSETS', os.path.dirname(directory))
  assert experts.registered_names() == ('fork', 'reach', 'tightrope', 'walker2d')
  assert experts.shipped_names() == ('walker2d',)
  assert experts.shipped_names('walker2d') == ('walker2d',)
  assert experts.shipped_names('tightrope') == ()
  obs = jnp.ones((2, 3))
  chex.assert_trees_all_close(
      experts.load('walker2d', solver='fast')(obs),
      ppo_networks.make_policy_fn(SPEC, params)(obs), rtol=1e-6)


def test_export_directory_takes_a_shipped_name_or_a_path(
    export_dir, monkeypatch, tmp_path):
  directory, _ = export_dir
  assets = tmp_path / 'assets'
  write_export(str(assets / 'walker2d_other'), env='walker2d')
  monkeypatch.setattr(registry, '_ASSETS', str(assets))
  assert experts.export_directory(directory) == directory
  assert experts.export_directory('walker2d_other') == str(
      assets / 'walker2d_other')
  with pytest.raises(ValueError, match=r"expert='walker2d_best' is neither a "
                     r'directory nor a shipped expert; shipped experts: '
                     r'walker2d_other\.'):
    experts.export_directory('walker2d_best')
  with pytest.raises(ValueError, match='is a directory without card.json'):
    experts.export_directory(str(tmp_path))


def test_an_expert_trained_on_another_environment_is_refused(export_dir):
  directory, _ = export_dir
  for load in (experts.load, experts.load_stochastic):
    with pytest.raises(ValueError, match=r"trained on 'tightrope', not "
                       r"'walker2d'"):
      load('walker2d', directory=directory)


def test_analytic_stochastic_expert_adds_clipped_gaussian_noise():
  expert = experts.load('tightrope')
  noisy = jax.jit(experts.load_stochastic('tightrope', noise_std=0.2))
  # Small offsets: the expert's action is well inside (-1, 1).
  obs = jnp.array([[0.02, 0.01, 0.3]])
  obs = jnp.repeat(obs, 20000, axis=0)
  actions = noisy(obs, jax.random.PRNGKey(0))
  noise = actions - expert(obs)
  np.testing.assert_allclose(jnp.mean(noise), 0.0, atol=0.01)
  np.testing.assert_allclose(jnp.std(noise), 0.2, rtol=0.03)
  # Far off the rope the expert saturates at -1: noise is clipped there.
  far = noisy(jnp.full((1000, 3), 0.9), jax.random.PRNGKey(1))
  assert float(jnp.max(far)) <= -1.0 + 0.9 and float(jnp.min(far)) == -1.0
  default = experts.load_stochastic('tightrope')(obs, jax.random.PRNGKey(2))
  np.testing.assert_allclose(jnp.std(default - expert(obs)),
                             registry.DEFAULT_NOISE_STD, rtol=0.03)
  with pytest.raises(ValueError, match='noise_std=-1'):
    experts.load_stochastic('tightrope', noise_std=-1)


@pytest.fixture(scope='module')
def tightrope_demos():
  env = envs.make('tightrope')
  return env, experts.collect_demonstrations(
      experts.load('tightrope'), env, jax.random.PRNGKey(0), num_envs=3,
      num_steps=250)


def test_demonstrations_are_expert_rollouts(tightrope_demos):
  env, demos = tightrope_demos
  chex.assert_shape([demos.obs, demos.action, demos.expert_action],
                    [(250, 3, 3), (250, 3, 1), (250, 3, 1)])
  chex.assert_shape([demos.reward, demos.done], [(250, 3), (250, 3)])
  chex.assert_trees_all_close(demos.action, env.expert_action(demos.obs),
                              rtol=1e-5, atol=1e-6)
  chex.assert_trees_all_close(demos.expert_action, demos.action)
  # The expert never falls, so episodes end at the default time limit (200).
  np.testing.assert_array_equal(np.nonzero(demos.done)[0], [199] * 3)
  # Replay environment 0 with the unwrapped env from its first observation.
  state = env.reset(jax.random.PRNGKey(9))
  state = state.replace(pipeline_state=jnp.stack(
      [demos.obs[0, 0, 0], demos.obs[0, 0, 1], 0.0]), obs=demos.obs[0, 0])
  for t in range(5):
    state = env.step(state, demos.action[t, 0])
    np.testing.assert_allclose(state.obs, demos.obs[t + 1, 0], rtol=1e-5)
    np.testing.assert_allclose(state.reward, demos.reward[t, 0], rtol=1e-5)


def test_noisy_behaviour_is_labelled_by_the_expert():
  env = envs.make('fork')
  expert = experts.load('fork')
  demos = experts.collect_demonstrations(
      expert, env, jax.random.PRNGKey(1), num_envs=4, num_steps=30,
      behaviour=experts.load_stochastic('fork', noise_std=0.3))
  chex.assert_trees_all_close(demos.expert_action, expert(demos.obs),
                              rtol=1e-5, atol=1e-6)
  assert float(jnp.mean(jnp.abs(demos.action - demos.expert_action))) > 0.05
  assert float(jnp.max(jnp.abs(demos.action))) <= 1.0
  with pytest.raises(ValueError, match='num_envs=0'):
    experts.collect_demonstrations(expert, env, jax.random.PRNGKey(1), 0, 5)


def test_npz_round_trip_and_dataset(tightrope_demos, tmp_path):
  _, demos = tightrope_demos
  path = str(tmp_path / 'demos.npz')
  data.save_demonstrations(demos, path)
  with np.load(path) as raw:  # plain NumPy can read it
    assert raw['obs'].shape == (250, 3, 3)
  chex.assert_trees_all_equal(data.load_demonstrations(path), demos)

  dataset = demonstrations.to_dataset(demos, capacity=1000)
  assert int(dataset.size) == 750
  rows = data.demonstrations.flatten(demos)
  chex.assert_trees_all_equal(dataset.obs[:750], rows.obs)
  np.testing.assert_array_equal(dataset.obs[3], demos.obs[1, 0])

  np.savez(str(tmp_path / 'bad.npz'), obs=np.zeros((2, 3)))
  with pytest.raises(ValueError, match=r"lacks field\(s\) \['action'"):
    data.load_demonstrations(str(tmp_path / 'bad.npz'))
  with pytest.raises(FileNotFoundError, match='none.npz does not exist'):
    data.load_demonstrations(str(tmp_path / 'none.npz'))
