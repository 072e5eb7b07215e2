"""Tests of the history-conditioned policy families: gru and transformer.

Interface (window shapes, errors, registry), that the action uses the oldest
observation of its window, the transformer's causal mask, one compile per
train step, and a fit of a target no single observation determines (a
velocity from two positions). Sizes are tiny and every jitted function is
built once per family (module-scoped fixtures) to keep the file fast on a
2-core CPU.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from il_jax import policies
from il_jax.policies import base
from il_jax.policies import gru
from il_jax.policies import transformer
from il_jax.types import Batch

OBS, ACT, K, B, T = 3, 2, 4, 5, 2
OPTIONS = {
    'gru': dict(size=16, n_layers=1),
    'transformer': dict(size=16, num_heads=2, n_layers=1),
}
FAMILIES = tuple(OPTIONS)


@pytest.fixture(scope='module', params=FAMILIES)
def family(request):
  """(name, policy, params, jitted (params, obs, key) -> (mode, sample))."""
  name = request.param
  policy = policies.make(name, OBS, ACT, history_length=K, **OPTIONS[name])
  # Jitted: Flax's eager init is slower still (the GRU's orthogonal init).
  params = jax.jit(policy.init)(jax.random.PRNGKey(0), jnp.zeros((K, OBS)))
  act = jax.jit(lambda params, obs, key: (policy.mode(params, obs),
                                          policy.sample(params, obs, key)))
  return name, policy, params, act


def _windows(key, *leading):
  return jax.random.normal(key, leading + (K, OBS))


def _velocity(obs):
  """A target of the newest minus the oldest position: `[..., K, OBS] ->
  [..., ACT]`, which no single observation of the window determines."""
  return obs[..., -1, :ACT] - obs[..., 0, :ACT]


# ----------------------------------------------------------------- registry


def test_registry_builds_both_families_with_their_history_length():
  assert {'gru', 'transformer'} <= set(policies.registered_names())
  assert policies.make('gru', 3, 2, history_length=4).history_length == 4
  policy = policies.make('transformer', 3, 2, history_length=3)
  assert (policy.name, policy.history_length) == ('transformer', 3)
  assert policies.make('gru', 3, 2).history_length == 4  # the default


@pytest.mark.parametrize('name, options, message', [
    ('gru', dict(history_length=0), 'history_length must be a positive'),
    ('gru', dict(activation='nope'), 'Unknown activation'),
    ('transformer', dict(history_length=0), 'history_length must be a'),
    ('transformer', dict(size=10, num_heads=4),
     'size=10 and num_heads=4'),
    ('transformer', dict(n_layers=0), 'n_layers must be a positive'),
    ('transformer', dict(activation='nope'), 'Unknown activation'),
])
def test_config_errors(name, options, message):
  with pytest.raises(ValueError, match=message):
    policies.make(name, OBS, ACT, **options)


@pytest.mark.parametrize('name', FAMILIES)
def test_make_policy_refuses_another_config(name):
  module = {'gru': gru, 'transformer': transformer}[name]
  with pytest.raises(ValueError, match='config must be a'):
    module.make_policy(policies.make_config('mlp'), OBS, ACT)


# ---------------------------------------------------------------- interface


@pytest.mark.parametrize('leading', [(), (B,), (T, B)])
def test_mode_and_sample_shapes(family, leading):
  _, _, params, act = family
  # Shapes only: trace, do not compile one program per shape.
  action, sample = jax.eval_shape(act, params,
                                  jnp.zeros(leading + (K, OBS)),
                                  jax.random.PRNGKey(0))
  chex.assert_shape((action, sample), leading + (ACT,))


def test_leading_dimensions_are_batch_dimensions(family):
  _, _, params, act = family
  key = jax.random.PRNGKey(2)
  obs = _windows(jax.random.PRNGKey(1), T, B)
  action, sample = act(params, obs, key)
  chex.assert_shape(action, (T, B, ACT))
  chex.assert_tree_all_finite(action)
  chex.assert_trees_all_close(sample, action)  # Deterministic.
  # A slice of the batch acts alike on its own.
  chex.assert_trees_all_close(act(params, obs[1], key)[0], action[1],
                              atol=1e-5)


@pytest.mark.parametrize('shape', [(B, OBS), (B, K + 1, OBS), (B, K, OBS + 1),
                                   (OBS,)])
def test_a_wrong_window_shape_raises(family, shape):
  _, policy, params, act = family
  with pytest.raises(ValueError, match=r'window of shape \[\.\.\., 4, 3\]'):
    act(params, jnp.zeros(shape), jax.random.PRNGKey(0))
  with pytest.raises(ValueError, match='window of shape'):
    jax.jit(policy.init)(jax.random.PRNGKey(0), jnp.zeros(shape))


def test_loss_checks_the_batch(family):
  _, policy, params, _ = family
  loss_fn = jax.jit(policy.loss)  # The checks raise at trace time.
  key = jax.random.PRNGKey(0)
  obs = _windows(key, B)
  with pytest.raises(ValueError, match='share leading dimensions'):
    loss_fn(params, Batch(obs=obs, action=jnp.zeros((B + 1, ACT))), key)
  with pytest.raises(ValueError, match=r'batch.action must have shape'):
    loss_fn(params, Batch(obs=obs, action=jnp.zeros((B, ACT + 1))), key)
  loss, aux = loss_fn(params, Batch(obs=obs, action=jnp.zeros((B, ACT))), key)
  chex.assert_shape(loss, ())
  assert set(aux) == {'mse'}


@pytest.mark.parametrize('name', FAMILIES)
def test_history_length_one_is_markov(name):
  policy = policies.make(name, OBS, ACT, history_length=1, **OPTIONS[name])

  def init_mode_loss(key, obs):
    params = policy.init(key, obs[0])
    loss, _ = policy.loss(params, Batch(obs=obs, action=jnp.zeros((B, ACT))),
                          key)
    return policy.mode(params, obs), loss

  # Shapes are all this checks: trace, do not compile.
  action, loss = jax.eval_shape(init_mode_loss, jax.random.PRNGKey(0),
                                jnp.zeros((B, OBS)))
  chex.assert_shape(action, (B, ACT))
  chex.assert_shape(loss, ())


def test_the_action_depends_on_the_oldest_observation(family):
  _, _, params, act = family
  key = jax.random.PRNGKey(0)
  obs = _windows(jax.random.PRNGKey(3), B)
  changed = obs.at[:, 0].add(1.0)
  difference = jnp.abs(act(params, changed, key)[0] - act(params, obs, key)[0])
  assert float(jnp.min(jnp.max(difference, axis=-1))) > 1e-4


def test_the_transformer_is_causal(family):
  name, policy, params, _ = family
  if name != 'transformer':
    pytest.skip('transformer only')
  apply = jax.jit(transformer.make_network(policy.config, ACT).apply)
  obs = _windows(jax.random.PRNGKey(4), B)
  changed = obs.at[:, -1].add(1.0)
  before, after = apply(params, obs), apply(params, changed)
  chex.assert_shape(before, (B, K, ACT))
  # Earlier positions do not see the newest observation; the newest does.
  chex.assert_trees_all_close(after[:, :-1], before[:, :-1], atol=1e-6)
  assert float(jnp.min(jnp.abs(after[:, -1] - before[:, -1]).max(-1))) > 1e-4


# ------------------------------------------------------------------ training


def _train_step(policy, optimizer):
  def step(params, opt_state, batch, key):
    (loss, _), grads = jax.value_and_grad(policy.loss, has_aux=True)(
        params, batch, key)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss
  return step


def test_fits_a_velocity_that_needs_the_history_compiling_once(family):
  """Adam on fresh minibatches of a target that no single observation
  determines; the jitted step is traced once for all of them."""
  _, policy, params, _ = family
  chex.clear_trace_counter()  # The other family's step shares its hash.
  optimizer = optax.adam(1e-2)
  step = jax.jit(chex.assert_max_traces(_train_step(policy, optimizer), n=1))
  opt_state = optimizer.init(params)
  steps = 100  # The loss is at ~0.05 of its start by then.
  obs = _windows(jax.random.PRNGKey(5), steps, 64)
  data = Batch(obs=obs, action=_velocity(obs))
  keys = jax.random.split(jax.random.PRNGKey(6), steps)
  losses = []
  for i in range(steps):
    batch = Batch(obs=data.obs[i], action=data.action[i])
    params, opt_state, loss = step(params, opt_state, batch, keys[i])
    losses.append(loss)
  losses = np.asarray(losses)
  assert np.all(np.isfinite(losses))
  first, last = losses[:5].mean(), losses[-5:].mean()
  assert last < 0.2 * first, (first, last)


def test_check_window_batch_for_a_markov_policy():
  base.check_window_batch(
      Batch(obs=jnp.zeros((B, OBS)), action=jnp.zeros((B, ACT))), 1, OBS, ACT)
  with pytest.raises(ValueError, match='share leading dimensions'):
    base.check_window_batch(
        Batch(obs=jnp.zeros((B, 1, OBS)), action=jnp.zeros((B, ACT))), 1, OBS,
        ACT)
