"""Tests of the policy interface and the MLP and Gaussian families."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats as scipy_stats

from il_jax import policies
from il_jax.policies import gaussian
from il_jax.types import Batch

OBS, ACT = 4, 2
FAMILIES = ('mlp', 'gaussian')
# One small shape for most tests, so eagerly compiled ops are reused.
SMALL = dict(n_layers=2, size=32)


def _numpy_mlp(layer_params, obs, activation=np.tanh):
  """Reference forward pass of `base.MLP` from its parameters."""
  x = np.asarray(obs, np.float64)
  i = 0
  while f'hidden_{i}' in layer_params:
    layer = layer_params[f'hidden_{i}']
    x = activation(x @ np.asarray(layer['kernel']) + np.asarray(layer['bias']))
    i += 1
  out = layer_params['output']
  return x @ np.asarray(out['kernel']) + np.asarray(out['bias'])


def _mean_params(name, params):
  return params['params']['mean'] if name == 'gaussian' else params['params']


def _init(policy, seed=0):
  # Eager on purpose: its small ops compile once and are cached across tests,
  # while a jitted init would compile afresh for every new policy closure.
  return policy.init(jax.random.PRNGKey(seed), jnp.zeros(OBS))


def _linear_data(seed, n, noise_std=0.0):
  """`action = obs @ W + b (+ N(0, noise_std^2))` with a fixed W, b."""
  w = np.array([[0.8, -0.3], [0.2, 0.5], [-0.6, 0.1], [0.4, -0.7]], np.float32)
  b = np.array([0.3, -0.2], np.float32)
  rng = np.random.default_rng(seed)
  obs = rng.normal(size=(n, OBS)).astype(np.float32)
  noise = rng.normal(size=(n, ACT)).astype(np.float32) * noise_std
  return Batch(obs=obs, action=obs @ w + b + noise), (w, b)


def _fit(policy, batch, steps, learning_rate=1e-2, seed=0):
  """Full-batch Adam for `steps`; returns the params and per-step aux."""
  params = _init(policy, seed)
  loop_key = jax.random.PRNGKey(seed + 1)
  optimizer = optax.adam(learning_rate)

  def step(carry, key):
    params, opt_state = carry
    (_, aux), grads = jax.value_and_grad(policy.loss, has_aux=True)(
        params, batch, key)
    updates, opt_state = optimizer.update(grads, opt_state)
    return (optax.apply_updates(params, updates), opt_state), aux

  @jax.jit
  def train(params):
    (params, _), aux = jax.lax.scan(step, (params, optimizer.init(params)),
                                    jax.random.split(loop_key, steps))
    return params, aux

  return train(params)


@pytest.fixture(scope='module', params=FAMILIES)
def family(request):
  """(name, policy, params) with small layers to keep the tests fast."""
  name = request.param
  policy = policies.make(name, OBS, ACT, **SMALL)
  return name, policy, _init(policy)


def test_registry_lists_the_families():
  assert set(FAMILIES) <= set(policies.registered_names())
  for name in FAMILIES:
    policy = policies.make(name, OBS, ACT)
    assert policy.name == name
    assert (policy.observation_size, policy.action_size) == (OBS, ACT)
    # CS285's defaults.
    assert (policy.config.n_layers, policy.config.size,
            policy.config.activation) == (2, 64, 'tanh')
    hash(policy.config)  # Frozen configs can be jit static arguments.


@pytest.mark.parametrize('kwargs, match', [
    (dict(name='not_a_family'), r'Unknown policy family .*gaussian, gru, mlp'),
    (dict(name='mlp', width=3), r"Unknown option.*'width'.*n_layers, size"),
    (dict(name='mlp', activation='sine'), r"Unknown activation 'sine'.*tanh"),
    (dict(name='gaussian', size=0), 'size must be a positive integer'),
    (dict(name='mlp', n_layers=-1), 'n_layers'),
    (dict(name='mlp', size=True), 'size must be a positive integer'),
    (dict(name='mlp', observation_size=0), 'observation_size'),
    (dict(name='gaussian', action_size=-2), 'action_size'),
    (dict(name='gaussian', log_std_bounds=(1.0, -1.0)), 'log_std_bounds'),
    (dict(name='gaussian', init_log_std=3.0), 'init_log_std'),
])
def test_registry_errors(kwargs, match):
  kwargs = dict(kwargs)
  name = kwargs.pop('name')
  observation_size = kwargs.pop('observation_size', OBS)
  action_size = kwargs.pop('action_size', ACT)
  with pytest.raises(ValueError, match=match):
    policies.make(name, observation_size, action_size, **kwargs)


def test_gaussian_config_from_a_list_stays_hashable():
  config = policies.make_config('gaussian', log_std_bounds=[-3, 1])
  assert config.log_std_bounds == (-3.0, 1.0)
  hash(config)


@pytest.mark.parametrize('leading', [(), (5,), (3, 7)])
def test_shapes_for_batched_inputs(family, leading):
  _, policy, params = family
  obs = jax.random.normal(jax.random.PRNGKey(1), leading + (OBS,))
  chex.assert_shape(policy.mode(params, obs), leading + (ACT,))
  chex.assert_shape(policy.sample(params, obs, jax.random.PRNGKey(2)),
                    leading + (ACT,))
  # Leading dims are independent batch dims: the same as vmap row by row.
  if leading:
    flat = obs.reshape(-1, OBS)
    np.testing.assert_allclose(
        policy.mode(params, obs).reshape(-1, ACT),
        jax.vmap(policy.mode, in_axes=(None, 0))(params, flat), atol=1e-6)


def test_init_from_one_observation_or_a_batch(family):
  _, policy, params = family
  batched = policy.init(jax.random.PRNGKey(0), jnp.zeros((9, OBS)))
  chex.assert_trees_all_equal(params, batched)


def test_mode_matches_numpy_forward_pass(family):
  name, policy, params = family
  obs = np.random.default_rng(0).normal(size=(6, OBS)).astype(np.float32)
  np.testing.assert_allclose(
      policy.mode(params, obs), _numpy_mlp(_mean_params(name, params), obs),
      rtol=1e-5, atol=1e-5)


def test_wrong_observation_size_raises(family):
  _, policy, params = family
  with pytest.raises(ValueError, match=r'obs must have shape \[\.\.\., 4\]'):
    policy.mode(params, jnp.zeros((3, OBS + 1)))
  with pytest.raises(ValueError, match='action'):
    policy.loss(params, Batch(jnp.zeros((3, OBS)), jnp.zeros((3, ACT + 1))),
                jax.random.PRNGKey(0))


def test_sample_depends_on_key_only_for_gaussian(family):
  name, policy, params = family
  obs = jnp.ones((3, OBS))
  a = policy.sample(params, obs, jax.random.PRNGKey(1))
  b = policy.sample(params, obs, jax.random.PRNGKey(2))
  if name == 'mlp':
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, policy.mode(params, obs))
  else:
    assert np.all(np.abs(np.asarray(a) - np.asarray(b)) > 1e-6)


def test_gaussian_samples_have_the_policy_mean_and_std():
  policy = policies.make('gaussian', OBS, ACT, init_log_std=-1.0, **SMALL)
  params = _init(policy)
  obs = jnp.broadcast_to(jnp.arange(OBS, dtype=jnp.float32), (20_000, OBS))
  draws = np.asarray(policy.sample(params, obs, jax.random.PRNGKey(3)))
  np.testing.assert_allclose(draws.mean(0), policy.mode(params, obs[0]),
                             atol=0.01)
  np.testing.assert_allclose(draws.std(0), math.exp(-1.0), rtol=0.02)


@pytest.mark.parametrize('bounds', [None, (-4.0, 1.0)])
def test_gaussian_nll_matches_closed_form(bounds):
  config = gaussian.GaussianConfig(log_std_bounds=bounds, **SMALL)
  policy = gaussian.make_policy(config, OBS, ACT)
  params = _init(policy)
  raw = np.array([-0.7, 0.4], np.float32)
  params = jax.tree_util.tree_map(lambda x: x, params)
  params['params']['raw_log_std'] = jnp.asarray(raw)
  rng = np.random.default_rng(0)
  obs = rng.normal(size=(32, OBS)).astype(np.float32)
  action = rng.normal(size=(32, ACT)).astype(np.float32)

  log_std = raw if bounds is None else (
      bounds[0] + (bounds[1] - bounds[0]) * (np.tanh(raw) + 1) / 2)
  mean = _numpy_mlp(params['params']['mean'], obs)
  log_density = scipy_stats.norm.logpdf(action, mean, np.exp(log_std))
  expected_nll = -np.mean(np.sum(log_density, axis=-1))

  loss, aux = policy.loss(params, Batch(obs, action), jax.random.PRNGKey(0))
  np.testing.assert_allclose(loss, expected_nll, rtol=1e-5)
  np.testing.assert_allclose(aux['nll'], expected_nll, rtol=1e-5)
  np.testing.assert_allclose(aux['mse'], np.mean((action - mean)**2),
                             rtol=1e-5)
  np.testing.assert_allclose(aux['std'], np.mean(np.exp(log_std)), rtol=1e-5)


def test_mlp_loss_is_mse_over_batch_and_action_dims():
  policy = policies.make('mlp', OBS, ACT, **SMALL)
  params = _init(policy)
  rng = np.random.default_rng(1)
  obs = rng.normal(size=(16, OBS)).astype(np.float32)
  action = rng.normal(size=(16, ACT)).astype(np.float32)
  expected = np.mean((_numpy_mlp(params['params'], obs) - action)**2)
  loss, aux = policy.loss(params, Batch(obs, action), jax.random.PRNGKey(0))
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(aux['mse'], expected, rtol=1e-5)


def test_gaussian_log_std_starts_exact_and_stays_in_bounds():
  policy = policies.make('gaussian', OBS, ACT, init_log_std=-0.5,
                         log_std_bounds=(-3.0, 1.0), **SMALL)
  params = _init(policy)
  batch = Batch(jnp.zeros((4, OBS)), jnp.zeros((4, ACT)))
  loss_and_grad = jax.jit(jax.value_and_grad(policy.loss, has_aux=True))
  (_, aux), _ = loss_and_grad(params, batch, jax.random.PRNGKey(0))
  np.testing.assert_allclose(aux['std'], math.exp(-0.5), rtol=1e-5)
  for raw in (-1e4, 1e4):
    params['params']['raw_log_std'] = jnp.full((ACT,), raw)
    (loss, aux), grads = loss_and_grad(params, batch, jax.random.PRNGKey(0))
    assert math.exp(-3.0) * 0.999 <= aux['std'] <= math.exp(1.0) * 1.001
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))


def test_mlp_fits_a_linear_map():
  batch, (w, b) = _linear_data(0, 512)
  policy = policies.make('mlp', OBS, ACT)
  params, aux = _fit(policy, batch, steps=300)
  assert aux['mse'][-1] < aux['mse'][0] / 100, (aux['mse'][0], aux['mse'][-1])
  test_obs = _linear_data(1, 256)[0].obs
  error = policy.mode(params, test_obs) - (test_obs @ w + b)
  # The targets have std ~1 (initial RMSE ~1.3); held-out points reach past
  # the training data, hence a looser bound than the training loss.
  assert float(jnp.sqrt(jnp.mean(error**2))) < 0.1


def test_gaussian_fits_a_linear_map_and_the_noise_std():
  noise_std = np.array([0.1, 0.3], np.float32)
  batch, (w, b) = _linear_data(0, 2048, noise_std)
  policy = policies.make('gaussian', OBS, ACT, **SMALL)
  # Adam moves log-std about one learning rate per step, so reaching
  # log(0.1) = -2.3 takes > 100 steps; a constant rate then keeps the fit
  # oscillating (its end point depended on the CPU thread count), so the
  # rate decays to zero.
  params, aux = _fit(policy, batch, steps=500,
                     learning_rate=optax.cosine_decay_schedule(2e-2, 500))
  # From std 1 to the noise std: the NLL per sample falls by about
  # -log(0.1 * 0.3) = 3.5 nats (plus the fitted mean's error term).
  assert aux['nll'][-1] < aux['nll'][0] - 3.0, (aux['nll'][0], aux['nll'][-1])
  test_obs = _linear_data(1, 256)[0].obs
  error = policy.mode(params, test_obs) - (test_obs @ w + b)
  # The targets have std ~1; the mean's error is a fraction of the noise.
  rmse = np.sqrt(np.mean(np.asarray(error)**2, axis=0))
  assert np.all(rmse < 0.5 * noise_std), rmse
  _, fitted_std = gaussian.make_distribution(policy.config, OBS, ACT)(
      params, test_obs[0])
  # At the NLL's optimum sigma^2 is the mean squared training residual,
  # which sits a few % below the noise variance: the mean absorbs a little
  # of the noise.
  residual = np.asarray(policy.mode(params, batch.obs)) - batch.action
  np.testing.assert_allclose(
      fitted_std, np.sqrt(np.mean(residual**2, axis=0)), rtol=2e-3)
  np.testing.assert_allclose(fitted_std, noise_std, rtol=0.1)


def test_jit_does_not_retrace_for_same_shapes(family):
  _, policy, params = family
  chex.clear_trace_counter()  # Counters are keyed by code, shared by families.
  mode = jax.jit(chex.assert_max_traces(policy.mode, n=1))
  sample = jax.jit(chex.assert_max_traces(policy.sample, n=1))

  def loss_grad(params, batch, key):
    return jax.grad(lambda p: policy.loss(p, batch, key)[0])(params)

  grad = jax.jit(chex.assert_max_traces(loss_grad, n=1))
  for seed in range(3):
    key = jax.random.PRNGKey(seed)
    obs = jax.random.normal(key, (8, OBS))
    mode(params, obs)
    sample(params, obs, key)
    grad(params, Batch(obs, jnp.zeros((8, ACT))), key)
