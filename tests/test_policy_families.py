"""Tests of the expressive policy families: mog, cvae, diffusion,
autoregressive and ensemble.

Besides the interface (shapes, jit, determinism of `mode`, randomness of
`sample`, registry and config errors), each multimodal family is fitted to a
1-D bimodal expert (actions +-0.8 at one observation) and must put its
samples on both modes and few between them, where an MSE regressor lands in
the middle. Every function under test is jitted once per family (fixtures are
module-scoped) to keep the file fast on a 2-core CPU.
"""

import dataclasses
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats as scipy_stats

from il_jax import policies
from il_jax.policies import autoregressive
from il_jax.policies import cvae
from il_jax.policies import diffusion
from il_jax.policies import ensemble
from il_jax.policies import mog
from il_jax.types import Batch

OBS, ACT = 3, 2
SMALL = dict(n_layers=2, size=16)
# Family -> options for the interface tests (small, and fast to sample).
INTERFACE_OPTIONS = {
    'mog': dict(num_components=3),
    'cvae': dict(latent_size=2),
    'diffusion': dict(num_steps=5),
    'autoregressive': dict(num_bins=9),
    'ensemble': dict(member='gaussian', num_members=3),
}
FAMILIES = tuple(INTERFACE_OPTIONS)


def _init(policy, obs_size=OBS, seed=0):
  # Eager on purpose: a jitted Flax init compiles its random initialisers
  # afresh for every policy (seconds on CPU), while eager ops are compiled
  # once per shape and cached across tests.
  return policy.init(jax.random.PRNGKey(seed), jnp.zeros(obs_size))


@pytest.fixture(scope='module', params=FAMILIES)
def family(request):
  """(name, policy, params, jitted mode, jitted sample, jitted loss)."""
  name = request.param
  policy = policies.make(name, OBS, ACT, **SMALL, **INTERFACE_OPTIONS[name])
  return (name, policy, _init(policy), jax.jit(policy.mode),
          jax.jit(policy.sample), jax.jit(policy.loss))


# ----------------------------------------------------------------- registry


def test_registry_lists_the_families_and_configs_hash():
  assert set(FAMILIES) <= set(policies.registered_names())
  for name in FAMILIES:
    policy = policies.make(name, OBS, ACT, **INTERFACE_OPTIONS[name])
    assert policy.name == name
    assert (policy.observation_size, policy.action_size) == (OBS, ACT)
    # The launcher passes these three to every family.
    assert (policy.config.n_layers, policy.config.size,
            policy.config.activation) == (2, 64, 'tanh')
    hash(policy.config)  # Frozen configs can be jit static arguments.


def test_config_normalisation_keeps_configs_hashable():
  config = policies.make_config('mog', log_std_bounds=[-3, 1])
  assert config.log_std_bounds == (-3.0, 1.0)
  config = policies.make_config(
      'ensemble', member='mog', member_options={'log_std_bounds': [-3, 1]})
  assert config.member_options == (('log_std_bounds', (-3.0, 1.0)),)
  assert hash(config) == hash(policies.make_config(
      'ensemble', member='mog', member_options=(('log_std_bounds', (-3, 1)),)))


@pytest.mark.parametrize('name, options, match', [
    ('mog', dict(num_components=0), 'num_components must be a positive'),
    ('mog', dict(log_std_bounds=(1.0, -1.0)), 'log_std_bounds'),
    ('mog', dict(log_std_bounds=3.0), 'log_std_bounds must be'),
    ('mog', dict(init_log_std=2.5), 'init_log_std'),
    ('mog', dict(components=3), r"Unknown option.*'components'"),
    ('cvae', dict(kl_weight=0.0), 'kl_weight must be positive'),
    ('cvae', dict(latent_size=0), 'latent_size must be a positive'),
    ('cvae', dict(mode_candidates=0), 'mode_candidates must be a positive'),
    ('cvae', dict(activation='sine'), "Unknown activation 'sine'"),
    ('diffusion', dict(schedule='quadratic'),
     "Unknown schedule 'quadratic'.*cosine, linear"),
    ('diffusion', dict(sampler='euler'), "Unknown sampler 'euler'.*ddim"),
    ('diffusion', dict(num_steps=10, ddim_steps=11),
     'ddim_steps must be at most num_steps=10'),
    ('diffusion', dict(ddim_eta=-1.0), 'ddim_eta must be non-negative'),
    ('diffusion', dict(time_embedding_size=5), 'must be even'),
    ('diffusion', dict(clip_sample='yes'), 'clip_sample must be True or'),
    ('diffusion', dict(action_low=1.0, action_high=1.0),
     'Need action_low < action_high'),
    ('autoregressive', dict(num_bins=1), 'num_bins must be at least 2'),
    ('autoregressive', dict(action_low=2.0), 'Need action_low < action_high'),
    ('autoregressive', dict(action_high=float('nan')), 'action_high must be'),
    ('ensemble', dict(member='ensemble'), 'other than ensemble'),
    ('ensemble', dict(member='not_a_family'),
     "Unknown member family 'not_a_family'.*gaussian"),
    ('ensemble', dict(member='mog', member_options={'num_components': 0}),
     "member family 'mog'.*num_components must be a positive"),
    ('ensemble', dict(member_options={'width': 3}),
     r"Unknown option.*'width'"),
    ('ensemble', dict(member_options={'size': 3}),
     "must not set.*'size'"),
    ('ensemble', dict(member_options=5), 'member_options must be a mapping'),
    ('ensemble', dict(num_members=1), 'num_members must be at least 2'),
    ('ensemble', dict(bootstrap=1), 'bootstrap must be True or False'),
])
def test_invalid_options_raise(name, options, match):
  with pytest.raises(ValueError, match=match):
    policies.make(name, OBS, ACT, **options)


# ---------------------------------------------------------------- interface


# The interface tests share these observation shapes so that each jitted
# function compiles once per shape and family.
LEADING_SHAPES = ((), (2, 3))


def _obs(leading, seed=1):
  return jax.random.normal(jax.random.PRNGKey(seed), leading + (OBS,))


@pytest.mark.parametrize('leading', LEADING_SHAPES)
def test_shapes_for_batched_obs(family, leading):
  _, policy, params, mode, sample, _ = family
  obs = _obs(leading)
  chex.assert_shape(mode(params, obs), leading + (ACT,))
  if leading:
    chex.assert_shape(sample(params, obs, jax.random.PRNGKey(2)),
                      leading + (ACT,))
  else:
    # Tracing is enough for the shape; compiling samplers is the slow part.
    chex.assert_shape(
        jax.eval_shape(policy.sample, params, obs, jax.random.PRNGKey(2)),
        leading + (ACT,))


def test_mode_is_deterministic_and_per_row(family):
  _, _, params, mode, _, _ = family
  obs = _obs((2, 3))
  batched = np.asarray(mode(params, obs))
  np.testing.assert_array_equal(batched, mode(params, obs))
  # Leading dims are independent batch dims: the mode of a row does not
  # depend on the batch it is in.
  for i in range(2):
    for j in range(3):
      np.testing.assert_allclose(batched[i, j], mode(params, obs[i, j]),
                                 atol=1e-5)


def test_sample_varies_with_the_key_only(family):
  _, _, params, _, sample, _ = family
  obs = jnp.broadcast_to(_obs(()), (2, 3, OBS))
  a = np.asarray(sample(params, obs, jax.random.PRNGKey(1))).reshape(6, ACT)
  b = np.asarray(sample(params, obs, jax.random.PRNGKey(2))).reshape(6, ACT)
  np.testing.assert_array_equal(
      a, np.reshape(sample(params, obs, jax.random.PRNGKey(1)), (6, ACT)))
  assert np.mean(np.abs(a - b) > 1e-6) > 0.5
  # One key covers a batch: identical rows still get different draws.
  assert np.mean(np.abs(a[0] - a[1:]) > 1e-6) > 0.5


def test_loss_gradient_is_finite_and_jit_does_not_retrace(family):
  _, policy, params, _, _, _ = family
  chex.clear_trace_counter()

  def loss_grad(params, batch, key):
    return jax.value_and_grad(policy.loss, has_aux=True)(params, batch, key)

  loss_grad = jax.jit(chex.assert_max_traces(loss_grad, n=1))
  for seed in range(2):
    key = jax.random.PRNGKey(seed)
    batch = Batch(_obs((6,), seed),
                  jnp.clip(jax.random.normal(key, (6, ACT)), -1, 1))
    (loss, aux), grads = loss_grad(params, batch, key)
  chex.assert_shape(loss, ())
  assert np.isfinite(loss)
  assert aux and all(np.shape(v) == () and np.isfinite(v)
                     for v in aux.values()), aux
  assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))


def test_wrong_shapes_raise(family):
  _, policy, params, _, _, _ = family
  with pytest.raises(ValueError, match=r'obs must have shape \[\.\.\., 3\]'):
    jax.eval_shape(policy.mode, params, jnp.zeros((4, OBS + 1)))
  with pytest.raises(ValueError, match='action'):
    jax.eval_shape(policy.loss, params,
                   Batch(jnp.zeros((4, OBS)), jnp.zeros((4, ACT + 1))),
                   jax.random.PRNGKey(0))


def test_init_traces_under_vmap(family):
  # Seeds and ensembles vmap `init` over keys; shapes gain a leading axis.
  _, policy, params, _, _, _ = family
  stacked = jax.eval_shape(
      jax.vmap(policy.init, in_axes=(0, None)),
      jax.random.split(jax.random.PRNGKey(0), 2), jnp.zeros(OBS))
  chex.assert_trees_all_equal_structs(stacked, params)
  for leaf, one in zip(jax.tree_util.tree_leaves(stacked),
                       jax.tree_util.tree_leaves(params)):
    assert leaf.shape == (2,) + one.shape


# ----------------------------------------------------------------------- MoG


def _numpy_mog(params, obs, bounds):
  """Reference forward pass of `MoGNetwork`: weights, means, stds (float64)."""
  layers = params['params']
  x = np.asarray(obs, np.float64)
  i = 0
  while f'hidden_{i}' in layers:
    x = np.tanh(x @ np.asarray(layers[f'hidden_{i}']['kernel'], np.float64) +
                np.asarray(layers[f'hidden_{i}']['bias'], np.float64))
    i += 1
  head = lambda name: x @ np.asarray(layers[name]['kernel'], np.float64) + (
      np.asarray(layers[name]['bias'], np.float64))
  logits = head('logits')
  weights = np.exp(logits - logits.max(-1, keepdims=True))
  weights /= weights.sum(-1, keepdims=True)
  k = logits.shape[-1]
  means = head('means').reshape(x.shape[:-1] + (k, ACT))
  lo, hi = bounds
  log_stds = lo + 0.5 * (hi - lo) * (np.tanh(head('raw_log_stds')) + 1.0)
  return weights, means, np.exp(log_stds).reshape(means.shape)


@pytest.fixture(scope='module')
def mog_setup():
  """(config, policy, params, jitted value_and_grad of the loss)."""
  config = mog.MoGConfig(num_components=3, init_log_std=-0.5,
                         log_std_bounds=(-2.0, 1.0), **SMALL)
  policy = mog.make_policy(config, OBS, ACT)
  loss_and_grad = jax.jit(jax.value_and_grad(policy.loss, has_aux=True))
  return config, policy, _init(policy), loss_and_grad


def test_mog_log_prob_equals_the_closed_form_mixture_density(mog_setup):
  config, policy, params, loss_and_grad = mog_setup
  rng = np.random.default_rng(0)
  obs = rng.normal(size=(16, OBS)).astype(np.float32)
  action = rng.normal(size=(16, ACT)).astype(np.float32)

  weights, means, stds = _numpy_mog(params, obs, config.log_std_bounds)
  # p(a) = sum_k w_k prod_d N(a_d; mu_kd, sigma_kd^2), in plain densities.
  density = np.sum(weights * np.prod(
      scipy_stats.norm.pdf(action[:, None, :], means, stds), axis=-1), -1)
  expected_log_prob = np.log(density)

  log_prob = jax.jit(mog.make_log_prob(config, OBS, ACT))(params, obs,
                                                          action)
  np.testing.assert_allclose(log_prob, expected_log_prob, rtol=1e-4,
                             atol=1e-4)
  (loss, aux), _ = loss_and_grad(params, Batch(obs, action),
                                 jax.random.PRNGKey(0))
  np.testing.assert_allclose(loss, -expected_log_prob.mean(), rtol=1e-4)
  np.testing.assert_allclose(aux['nll'], loss)
  # mode = the mean of the most probable component.
  best = means[np.arange(16), weights.argmax(-1)]
  np.testing.assert_allclose(jax.jit(policy.mode)(params, obs), best,
                             atol=1e-5)


def test_mog_nll_stays_finite_far_from_every_component(mog_setup):
  # Every component density underflows to 0 in float32 here; logsumexp
  # keeps the log-likelihood and its gradient finite.
  _, _, params, loss_and_grad = mog_setup
  batch = Batch(jnp.zeros((16, OBS)), jnp.full((16, ACT), 50.0))
  (loss, _), grads = loss_and_grad(params, batch, jax.random.PRNGKey(0))
  assert np.isfinite(loss) and loss > 100
  assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))


def test_mog_components_start_apart_and_wide(mog_setup):
  # At obs = 0 the trunk's features are all equal at init; the spread bias
  # of the means head is what lets the components separate at all, and the
  # log-std bias sets their initial width.
  config, _, params, _ = mog_setup
  log_weights, means, stds = jax.jit(mog.make_mixture(config, OBS, ACT))(
      params, jnp.zeros(OBS))
  gaps = np.abs(means[:, None, :] - means[None, :, :]).max(-1)
  assert np.all(gaps[~np.eye(len(means), dtype=bool)] > 1e-3), means
  np.testing.assert_allclose(stds, np.exp(config.init_log_std), rtol=1e-5)
  np.testing.assert_allclose(np.exp(log_weights), 1 / 3, rtol=1e-5)


# ------------------------------------------------------------ autoregressive


def test_autoregressive_discretisation_round_trips_within_half_a_bin():
  low, high, num_bins = -2.0, 3.0, 7
  width = (high - low) / num_bins
  action = np.random.default_rng(0).uniform(low, high, size=(1000, 4))
  bins = autoregressive.discretize(action, low, high, num_bins)
  assert bins.dtype == jnp.int32
  assert np.all((bins >= 0) & (bins < num_bins))
  centres = autoregressive.bin_centers(bins, low, high, num_bins)
  assert np.max(np.abs(centres - action)) <= width / 2 + 1e-5
  # Centres are fixed points; out-of-bounds values go to the edge bins.
  np.testing.assert_array_equal(
      autoregressive.discretize(centres, low, high, num_bins), bins)
  np.testing.assert_array_equal(
      autoregressive.discretize(np.array([-9.0, 9.0]), low, high, num_bins),
      [0, num_bins - 1])
  config = autoregressive.AutoregressiveConfig(num_bins=num_bins,
                                               action_low=low,
                                               action_high=high)
  assert autoregressive.bin_width(config) == pytest.approx(width)


def test_autoregressive_actions_are_bin_centres(family):
  name, policy, params, mode, sample, _ = family
  if name != 'autoregressive':
    pytest.skip('autoregressive only')
  config = policy.config
  obs = _obs((2, 3))
  for action in (mode(params, obs), sample(params, obs,
                                           jax.random.PRNGKey(1))):
    bins = autoregressive.discretize(action, config.action_low,
                                     config.action_high, config.num_bins)
    np.testing.assert_allclose(
        autoregressive.bin_centers(bins, config.action_low,
                                   config.action_high, config.num_bins),
        action, atol=1e-6)


# ----------------------------------------------------------------- diffusion


@pytest.mark.parametrize('schedule', diffusion.SCHEDULES)
@pytest.mark.parametrize('num_steps', [5, 100])
def test_diffusion_schedules_end_near_pure_noise(schedule, num_steps):
  betas = diffusion.make_betas(schedule, num_steps)
  assert betas.shape == (num_steps,)
  assert np.all((betas > 0) & (betas < 1)) and np.all(np.diff(betas) > 0)
  alpha_bar = np.cumprod(1.0 - betas)
  assert alpha_bar[0] > 0.85 and alpha_bar[-1] < 0.05


def test_diffusion_linear_schedule_is_ddpm_at_1000_steps():
  np.testing.assert_allclose(diffusion.make_betas('linear', 1000),
                             np.linspace(1e-4, 0.02, 1000))


# ------------------------------------------------------------------ ensemble


def test_ensemble_disagreement_is_zero_for_identical_members(family):
  name, policy, params, mode, _, loss = family
  if name != 'ensemble':
    pytest.skip('ensemble only')
  obs = _obs((6,))
  member_modes = jax.jit(functools.partial(ensemble.member_modes, policy))
  disagreement = jax.jit(functools.partial(ensemble.disagreement, policy))
  modes = member_modes(params, obs)
  chex.assert_shape(modes, (3, 6, ACT))
  np.testing.assert_allclose(mode(params, obs), modes.mean(0), atol=1e-6)
  spread = disagreement(params, obs)
  chex.assert_shape(spread, (6,))
  np.testing.assert_allclose(spread, np.var(modes, axis=0).mean(-1),
                             rtol=1e-5)
  assert np.all(spread > 1e-6)

  clones = jax.tree_util.tree_map(
      lambda x: jnp.broadcast_to(x[:1], x.shape), params)
  np.testing.assert_array_equal(disagreement(clones, obs), np.zeros(6))
  _, aux = loss(clones, Batch(obs, jnp.zeros((6, ACT))),
                jax.random.PRNGKey(0))
  assert aux['disagreement'] == 0.0


def test_ensemble_loss_is_the_mean_of_member_losses(family):
  name, policy, params, _, _, loss_fn = family
  if name != 'ensemble':
    pytest.skip('ensemble only')
  # Gaussian members: their NLL ignores the key, so each member's loss can be
  # recomputed on its own.
  member_loss = jax.jit(ensemble.make_member(policy.config, OBS, ACT).loss)
  rng = np.random.default_rng(0)
  batch = Batch(rng.normal(size=(6, OBS)).astype(np.float32),
                rng.normal(size=(6, ACT)).astype(np.float32))
  member_losses = [
      member_loss(jax.tree_util.tree_map(lambda x, k=k: x[k], params), batch,
                  jax.random.PRNGKey(0))[0] for k in range(3)]
  loss, aux = loss_fn(params, batch, jax.random.PRNGKey(0))
  np.testing.assert_allclose(loss, np.mean(member_losses), rtol=1e-6)
  np.testing.assert_allclose(aux['nll'], loss, rtol=1e-6)
  np.testing.assert_allclose(
      aux['disagreement'],
      np.mean(jax.jit(functools.partial(ensemble.disagreement, policy))(
          params, batch.obs)), rtol=1e-5)
  # With bootstrap each member sees its own resample: another loss.
  bagged = ensemble.make_policy(
      dataclasses.replace(policy.config, bootstrap=True), OBS, ACT)
  bagged_loss, _ = jax.jit(bagged.loss)(params, batch, jax.random.PRNGKey(0))
  assert np.isfinite(bagged_loss) and abs(bagged_loss - loss) > 1e-4


def test_ensemble_helpers_reject_other_families():
  policy = policies.make('mlp', OBS, ACT, **SMALL)
  with pytest.raises(ValueError, match="Expected an ensemble.*'mlp'"):
    ensemble.disagreement(policy, {}, jnp.zeros(OBS))


# ----------------------------------------------------- bimodal expert (1-D)

MODE = 0.8
# Family -> (options, Adam steps, learning rate): enough to fit, no more.
BIMODAL_FITS = {
    'mlp': (dict(size=32), 300, 1e-2),
    'mog': (dict(size=32), 300, 1e-2),
    'autoregressive': (dict(size=32), 300, 1e-2),
    'cvae': (dict(size=32), 1000, 1e-2),
    'diffusion': (dict(size=32), 1500, 3e-3),
}


def _bimodal_batch(n=256, action_size=1, seed=0):
  """One constant observation (ones, so that even the MSE regressor has to
  learn its output); actions +-0.8 (all dimensions share the sign) with equal
  weight and noise std 0.03."""
  rng = np.random.default_rng(seed)
  sign = np.repeat([1.0, -1.0], n // 2)[:, None]
  action = MODE * sign + 0.03 * rng.normal(size=(n, action_size))
  return Batch(np.ones((n, 1), np.float32), action.astype(np.float32))


def _fit(policy, batch, steps, learning_rate, seed=0):
  """Full-batch Adam in one jitted scan; returns the params and losses.

  The learning rate decays to 0 (cosine): at a sharp optimum (component stds
  near the label noise) full-batch Adam with a constant rate spikes now and
  then, and a spike in the last steps would leave a MoG in a worse optimum.
  """
  optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))

  def step(carry, key):
    params, opt_state = carry
    (loss, _), grads = jax.value_and_grad(policy.loss, has_aux=True)(
        params, batch, key)
    updates, opt_state = optimizer.update(grads, opt_state)
    return (optax.apply_updates(params, updates), opt_state), loss

  @jax.jit
  def train(params, key):
    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)),
                                       jax.random.split(key, steps))
    return params, losses

  return train(_init(policy, batch.obs.shape[-1], seed),
               jax.random.PRNGKey(seed + 1))


@pytest.fixture(scope='module', params=tuple(BIMODAL_FITS))
def bimodal_fit(request):
  """(name, policy, fitted params) on the 1-D bimodal expert."""
  name = request.param
  options, steps, learning_rate = BIMODAL_FITS[name]
  policy = policies.make(name, 1, 1, **options)
  params, losses = _fit(policy, _bimodal_batch(), steps, learning_rate)
  assert losses[-1] < losses[0], (name, losses[0], losses[-1])
  return name, policy, params


def _mode_fractions(actions):
  actions = np.asarray(actions).ravel()
  return (np.mean(np.abs(actions - MODE) < 0.2),
          np.mean(np.abs(actions + MODE) < 0.2), np.mean(np.abs(actions) < 0.3))


def test_bimodal_expert_samples_cover_both_modes(bimodal_fit):
  name, policy, params = bimodal_fit
  draws = jax.jit(policy.sample)(params, jnp.ones((2000, 1)),
                                 jax.random.PRNGKey(7))
  near_plus, near_minus, between = _mode_fractions(draws)
  if name == 'mlp':
    # The MSE regressor averages the modes: it walks into the obstacle.
    assert abs(float(policy.mode(params, jnp.ones(1))[0])) < 0.1
    assert between == 1.0
  else:
    assert near_plus > 0.3 and near_minus > 0.3 and between < 0.1, (
        name, near_plus, near_minus, between)


def test_bimodal_expert_mode_commits_to_one_mode(bimodal_fit):
  name, policy, params = bimodal_fit
  if name == 'mlp':
    pytest.skip('mlp averages the modes')
  action = float(policy.mode(params, jnp.ones(1))[0])
  assert abs(abs(action) - MODE) < 0.1, (name, action)


def test_cvae_mode_of_the_prior_centre_alone_lands_between_the_modes(
    bimodal_fit):
  # Why the CVAE's mode scores several latents: decoding z = 0 alone
  # (mode_candidates=1, ACT's test-time choice) averages the modes, as the
  # test above would show with it.
  name, policy, params = bimodal_fit
  if name != 'cvae':
    pytest.skip('cvae only')
  centre_only = policies.make(
      'cvae', 1, 1, **BIMODAL_FITS['cvae'][0], mode_candidates=1)
  action = centre_only.mode(params, jnp.ones((1, 1)))
  decoded_centre = cvae.make_network(centre_only.config, 1).apply(
      params, jnp.ones((1, 1)), jnp.zeros((1, centre_only.config.latent_size)),
      method=cvae.CVAENetwork.decode)
  np.testing.assert_array_equal(action, decoded_centre)
  assert abs(float(action[0, 0])) < MODE - 0.2, float(action[0, 0])


def test_bimodal_expert_ddim_samples_cover_both_modes(bimodal_fit):
  name, policy, params = bimodal_fit
  if name != 'diffusion':
    pytest.skip('diffusion only')
  for eta in (0.0, 1.0):
    # Same network and schedule, so the DDPM-trained params apply as they are.
    ddim = policies.make('diffusion', 1, 1, sampler='ddim', ddim_steps=10,
                         ddim_eta=eta, **BIMODAL_FITS['diffusion'][0])
    draws = jax.jit(ddim.sample)(params, jnp.ones((2000, 1)),
                                 jax.random.PRNGKey(8))
    near_plus, near_minus, between = _mode_fractions(draws)
    assert near_plus > 0.3 and near_minus > 0.3 and between < 0.1, (
        eta, near_plus, near_minus, between)


def test_autoregressive_conditions_later_dimensions_on_earlier_ones():
  # Expert: (+0.8, +0.8) or (-0.8, -0.8). Independent per-dimension
  # categoricals would give mixed signs half of the time.
  policy = policies.make('autoregressive', 1, 2, size=32, num_bins=21)
  params, _ = _fit(policy, _bimodal_batch(action_size=2), 300, 1e-2)
  draws = np.asarray(jax.jit(policy.sample)(params, jnp.ones((2000, 1)),
                                            jax.random.PRNGKey(9)))
  positive = np.all(np.abs(draws - MODE) < 0.2, axis=-1)
  negative = np.all(np.abs(draws + MODE) < 0.2, axis=-1)
  mixed = np.sign(draws[:, 0]) != np.sign(draws[:, 1])
  assert positive.mean() > 0.3 and negative.mean() > 0.3, (
      positive.mean(), negative.mean())
  assert mixed.mean() < 0.05, mixed.mean()
  action = np.asarray(policy.mode(params, jnp.ones(1)))
  assert np.all(np.abs(np.abs(action) - MODE) < 0.1), action
  assert np.sign(action[0]) == np.sign(action[1]), action
