"""Tests of `il_jax.export`, `il_jax.numpy_policy` and `launch/evaluate.py`."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import data
from il_jax import export
from il_jax import gymnasium_evaluation
from il_jax import numpy_policy
from il_jax import policies
from il_jax.experts import ppo_networks
from launch_scripts import run_module


# The NumPy forward pass runs in float64, the JAX one in float32 (eps 1.2e-7).
# `_random_expert` scales the last layer by 100, so the pre-tanh sums reach
# tens and their float32 rounding reaches ~1e-6 in the action (measured: 1.3e-6
# against a float64 evaluation of the same network). 1e-5 bounds that; a wrong
# activation, layer or normaliser moves actions by far more
# (`test_export_tolerance_detects_a_small_change`).
FLOAT32_TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def _random_obs(size, n=64, seed=0):
  return np.random.default_rng(seed).normal(size=(n, size)) * 2.0


def _random_expert(spec, seed=0):
  """A randomly initialised `ExpertParams` with a non-trivial normaliser."""
  keys = jax.random.split(jax.random.PRNGKey(seed), 4)
  policy = ppo_networks.policy_module(spec).init(
      keys[0], jnp.zeros((1, spec.observation_size)))
  # Scale up the final layer (initialised tiny) so the actions are not ~0.
  policy = jax.tree_util.tree_map_with_path(
      lambda path, x: x * 100 if 'Dense_%d' % len(spec.hidden_sizes) in str(
          path) else x, policy)
  stats = ppo_networks.RunningStats(
      count=jnp.float32(10.0),
      mean=jax.random.normal(keys[1], (spec.observation_size,)),
      var=jax.random.uniform(keys[2], (spec.observation_size,), minval=0.1,
                             maxval=4.0))
  return ppo_networks.ExpertParams(policy=policy, obs_stats=stats)


def test_numpy_activations_match_flax():
  assert set(numpy_policy.ACTIVATIONS) == set(policies.ACTIVATIONS)
  x = np.linspace(-30.0, 30.0, 601)
  for name, fn in policies.ACTIVATIONS.items():
    np.testing.assert_allclose(
        numpy_policy.ACTIVATIONS[name](x), np.asarray(fn(jnp.asarray(x))),
        rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize('activation', ['swish', 'tanh'])
def test_ppo_expert_export_matches_policy_fn(tmp_path, activation):
  spec = ppo_networks.PolicySpec(5, 3, (16, 8), activation)
  params = _random_expert(spec)
  prefix = str(tmp_path / 'expert')
  export.export_ppo_expert(prefix, spec, params,
                           env={'name': 'tightrope', 'version': None})
  obs = _random_obs(5)
  expected = np.asarray(ppo_networks.make_policy_fn(spec, params)(
      jnp.asarray(obs, jnp.float32)))
  # Saturated everywhere would make the comparison weak.
  assert 0.05 < np.mean(np.abs(expected)) < 0.95
  policy = numpy_policy.load_numpy_policy(prefix)
  np.testing.assert_allclose(policy(obs.astype(np.float32)), expected,
                             **FLOAT32_TOLERANCE)
  jax_fn, description = export.make_jax_policy_fn(prefix)
  np.testing.assert_allclose(jax_fn(jnp.asarray(obs, jnp.float32)), expected,
                             **FLOAT32_TOLERANCE)
  assert description['output_transform'] == 'tanh'
  assert ppo_networks.PolicySpec.from_dict(
      description['metadata']['policy_spec']) == spec
  # One observation without a batch axis works too.
  np.testing.assert_allclose(policy(obs[0].astype(np.float32)), expected[0],
                             **FLOAT32_TOLERANCE)


def test_export_tolerance_detects_a_small_change(tmp_path):
  """A normaliser off by 0.1 % fails `FLOAT32_TOLERANCE` by a wide margin."""
  spec = ppo_networks.PolicySpec(5, 3, (16, 8), 'swish')
  params = _random_expert(spec)
  stats = params.obs_stats
  perturbed = params.replace(obs_stats=stats.replace(var=stats.var * 1.002))
  prefix = str(tmp_path / 'expert')
  export.export_ppo_expert(prefix, spec, perturbed)
  obs = _random_obs(5).astype(np.float32)
  expected = np.asarray(ppo_networks.make_policy_fn(spec, params)(obs))
  error = np.abs(numpy_policy.load_numpy_policy(prefix)(obs) - expected)
  assert np.max(error - FLOAT32_TOLERANCE['rtol'] * np.abs(expected)) > (
      10 * FLOAT32_TOLERANCE['atol'])


@pytest.mark.parametrize('family,activation,normalized', [
    ('mlp', 'tanh', True), ('mlp', 'gelu', False), ('gaussian', 'relu', True),
    ('gaussian', 'swish', False)])
def test_policy_export_matches_mode(tmp_path, family, activation, normalized):
  policy = policies.make(family, 4, 2, n_layers=2, size=8,
                         activation=activation)
  params = policy.init(jax.random.PRNGKey(1), jnp.zeros((1, 4)))
  obs = _random_obs(4, seed=2).astype(np.float32)
  stats = None
  if normalized:
    stats = data.NormalizerStats(mean=jnp.array([1.0, -2.0, 0.5, 3.0]),
                                 std=jnp.array([0.5, 2.0, 1.0, 0.1]))
    expected = policy.mode(params, data.normalize(jnp.asarray(obs), stats))
  else:
    expected = policy.mode(params, jnp.asarray(obs))
  prefix = str(tmp_path / 'sub' / family)
  export.export_policy(prefix, policy, params, stats,
                       env={'name': 'walker2d', 'version': 'v4'})
  loaded = numpy_policy.load_numpy_policy(prefix)
  np.testing.assert_allclose(loaded(obs), expected, rtol=1e-5, atol=1e-6)
  assert (loaded.obs_mean is not None) == normalized
  jax_fn, _ = export.make_jax_policy_fn(prefix)
  np.testing.assert_allclose(jax.jit(jax_fn)(obs), expected, rtol=1e-5,
                             atol=1e-6)


def test_other_families_are_refused(tmp_path):
  policy = policies.make('mog', 4, 2)
  params = policy.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
  with pytest.raises(ValueError, match="'mog'.*exportable families: mlp"):
    export.export_policy(str(tmp_path / 'p'), policy, params)


@pytest.fixture
def small_export(tmp_path):
  layers = [(np.ones((3, 4)), np.zeros(4)), (np.ones((4, 2)), np.zeros(2))]
  prefix = str(tmp_path / 'small')
  export.export_mlp(prefix, layers, 'relu')
  return prefix


def _edit(prefix, **changes):
  path = prefix + '.json'
  with open(path) as f:
    description = json.load(f)
  description.update(changes)
  with open(path, 'w') as f:
    json.dump(description, f)


def test_bad_files_give_clear_errors(small_export, tmp_path):
  policy = numpy_policy.load_numpy_policy(small_export)
  # relu(1 - 2 + 3) = 2 in each of 4 hidden units, summed: 8.
  np.testing.assert_allclose(policy(np.array([1.0, -2.0, 3.0])), [8.0, 8.0])
  with pytest.raises(ValueError, match=r'expected \[\.\.\., 3\]'):
    policy(np.zeros((2, 4)))

  missing = str(tmp_path / 'nothing')
  with pytest.raises(FileNotFoundError, match='nothing.json does not exist'):
    numpy_policy.load_numpy_policy(missing)
  os.remove(small_export + '.npz')
  with pytest.raises(FileNotFoundError, match='small.npz does not exist'):
    numpy_policy.load_numpy_policy(small_export)


@pytest.mark.parametrize('changes,message', [
    ({'activation': 'mish'}, "unknown activation 'mish'.*'relu'"),
    ({'output_transform': 'softmax'}, "unknown output_transform 'softmax'"),
    ({'hidden_sizes': [5]}, "'layer_0_kernel' has shape \\(3, 4\\), "
     'expected \\(3, 5\\)'),
    ({'format_version': 7}, 'format_version 7'),
    ({'normalizer': {'mean': 'm', 'std': 's'}}, "no array 'm'"),
])
def test_malformed_descriptions_are_named(small_export, changes, message):
  _edit(small_export, **changes)
  with pytest.raises(ValueError, match=message):
    numpy_policy.load_numpy_policy(small_export)


def test_export_rejects_unknown_activation(tmp_path):
  with pytest.raises(ValueError, match="Unknown activation 'mish'"):
    export.export_mlp(str(tmp_path / 'p'), [(np.ones((3, 2)), np.zeros(2))],
                      'mish')


def test_reader_imports_only_numpy():
  # Users copy numpy_policy.py out of the project: it must stand alone.
  with open(numpy_policy.__file__) as f:
    source = f.read()
  imports = {line.split()[1] for line in source.splitlines()
             if line.startswith(('import ', 'from '))}
  assert imports == {'json', 'os', 'numpy'}


def _walker_file(tmp_path, observation_size=17, name='walker'):
  policy = policies.make('mlp', observation_size, 6, n_layers=1, size=8)
  params = policy.init(jax.random.PRNGKey(3), jnp.zeros((1, observation_size)))
  prefix = str(tmp_path / name)
  export.export_policy(prefix, policy, params,
                       env={'name': 'walker2d', 'version': 'v4'})
  return prefix


def test_gymnasium_backend_runs_exported_policy(tmp_path):
  prefix = _walker_file(tmp_path)
  result = gymnasium_evaluation.evaluate_gymnasium(prefix, episodes=2, seed=0,
                                       max_episode_steps=40)
  assert result['return'].shape == (2,)
  assert np.all(np.isfinite(result['return']))
  assert np.all((result['length'] >= 1) & (result['length'] <= 40))
  # Seeds make it reproducible; different seeds give different episodes.
  again = gymnasium_evaluation.evaluate_gymnasium(prefix, episodes=2, seed=0,
                                      max_episode_steps=40)
  np.testing.assert_array_equal(again['return'], result['return'])
  assert result['return'][0] != result['return'][1]

  # The launcher, in its own process (launch scripts' flags would clash in
  # one test process), prints the same mean return.
  completed = run_module(
      'launch.evaluate', f'--policy_file={prefix}', '--backend=gymnasium',
      '--episodes=2', '--seed=0', '--max_episode_steps=40', timeout=120)
  assert completed.returncode == 0, completed.stderr[-2000:]
  assert f"{result['return'].mean():.1f}" in completed.stdout


def test_gymnasium_backend_rejects_wrong_observation_size(tmp_path):
  prefix = _walker_file(tmp_path, observation_size=16, name='bad')
  with pytest.raises(ValueError,
                     match='observations of size 16.*walker2d v4 gives 17'):
    gymnasium_evaluation.evaluate_gymnasium(prefix, episodes=1, max_episode_steps=5)
