"""Tests of the on-device dataset: aggregation, overflow, sampling, stats."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import data

OBS, ACT = 3, 2
SENTINEL = -1.0

# Jitted once per module: a jitted call per shape compiles faster than the
# dozen eager ops inside, and shapes repeat across tests.
add = jax.jit(data.add)
add_masked = jax.jit(data.add_masked)


def _rows(start, n):
  """Rows whose every entry is their global index: easy to track."""
  idx = np.arange(start, start + n, dtype=np.float32)
  return (np.repeat(idx[:, None], OBS, axis=1),
          np.repeat(idx[:, None], ACT, axis=1) + 0.5)


def _with_sentinel(dataset):
  """Marks every row as invalid-looking, so a read of one is detectable."""
  return dataset.replace(
      obs=jnp.full_like(dataset.obs, SENTINEL),
      action=jnp.full_like(dataset.action, SENTINEL))


def test_create_is_empty_with_static_capacity():
  ds = data.create(7, OBS, ACT)
  chex.assert_shape(ds.obs, (7, OBS))
  chex.assert_shape(ds.action, (7, ACT))
  assert ds.capacity == 7
  assert ds.size.dtype == jnp.int32 and int(ds.size) == 0
  assert not bool(data.overflowed(ds))


@pytest.mark.parametrize('bad', [0, -3, 2.5, True])
def test_create_rejects_bad_capacity(bad):
  with pytest.raises(ValueError, match='capacity'):
    data.create(bad, OBS, ACT)


def test_add_appends_in_order_and_counts():
  ds = data.create(10, OBS, ACT)
  o1, a1 = _rows(0, 3)
  o2, a2 = _rows(3, 4)
  ds = add(ds, o1, a1)
  ds = add(ds, o2, a2)
  assert int(ds.size) == 7
  np.testing.assert_array_equal(ds.obs[:7], np.concatenate([o1, o2]))
  np.testing.assert_array_equal(ds.action[:7], np.concatenate([a1, a2]))
  np.testing.assert_array_equal(ds.obs[7:], 0.0)
  assert int(ds.dropped) == 0


def test_add_flattens_leading_dims_row_major():
  ds = data.create(10, OBS, ACT)
  obs, action = _rows(0, 6)
  ds = add(ds, obs.reshape(2, 3, OBS), action.reshape(2, 3, ACT))
  assert int(ds.size) == 6
  np.testing.assert_array_equal(ds.obs[:6], obs)
  np.testing.assert_array_equal(ds.action[:6], action)


def test_add_overflow_keeps_existing_rows_and_is_flagged():
  # dynamic_update_slice alone would clamp the start to 2 and overwrite row 2.
  ds = data.create(5, OBS, ACT)
  ds = add(ds, *_rows(0, 3))
  ds = add(ds, *_rows(3, 3))
  assert int(ds.size) == 5
  np.testing.assert_array_equal(ds.obs[:, 0], [0, 1, 2, 3, 4])
  np.testing.assert_array_equal(ds.action[:, 0], [0.5, 1.5, 2.5, 3.5, 4.5])
  assert int(ds.dropped) == 1
  assert bool(data.overflowed(ds))
  # A full dataset stays unchanged and keeps counting.
  full = add(ds, *_rows(10, 3))
  np.testing.assert_array_equal(full.obs, ds.obs)
  assert int(full.size) == 5 and int(full.dropped) == 4


def test_add_exactly_to_capacity_does_not_overflow():
  ds = data.create(6, OBS, ACT)
  ds = add(add(ds, *_rows(0, 2)), *_rows(2, 4))
  assert int(ds.size) == 6 and not bool(data.overflowed(ds))
  np.testing.assert_array_equal(ds.obs[:, 0], np.arange(6))


def test_add_more_rows_than_capacity_raises_at_trace_time():
  ds = data.create(4, OBS, ACT)
  with pytest.raises(ValueError, match='capacity 4'):
    add(ds, *_rows(0, 5))


@pytest.mark.parametrize('obs_shape, action_shape, match', [
    ((3, OBS + 1), (3, ACT), 'obs must have shape'),
    ((3, OBS), (3, ACT + 1), 'action must have shape'),
    ((3, OBS), (4, ACT), 'leading dimensions'),
])
def test_add_rejects_bad_shapes(obs_shape, action_shape, match):
  ds = data.create(8, OBS, ACT)
  with pytest.raises(ValueError, match=match):
    add(ds, jnp.zeros(obs_shape), jnp.zeros(action_shape))


def test_add_masked_keeps_exactly_the_masked_rows_in_order():
  rng = np.random.default_rng(0)
  ds = data.create(40, OBS, ACT)
  expected_obs, expected_action = [], []
  for start in (0, 10, 20):
    obs, action = _rows(start, 10)
    mask = rng.random(10) < 0.5
    ds = add_masked(ds, obs, action, mask)
    expected_obs.append(obs[mask])
    expected_action.append(action[mask])
  expected_obs = np.concatenate(expected_obs)
  expected_action = np.concatenate(expected_action)
  n = len(expected_obs)
  assert 0 < n < 30
  assert int(ds.size) == n
  np.testing.assert_array_equal(ds.obs[:n], expected_obs)
  np.testing.assert_array_equal(ds.action[:n], expected_action)
  np.testing.assert_array_equal(ds.obs[n:], 0.0)  # Nothing else was written.


def test_add_masked_overflow_drops_latest_and_counts():
  ds = data.create(4, OBS, ACT)
  ds = add(ds, *_rows(0, 2))
  mask = np.array([True, False, True, True, False, True])
  ds = add_masked(ds, *_rows(10, 6)[:2], mask)
  np.testing.assert_array_equal(ds.obs[:, 0], [0, 1, 10, 12])
  assert int(ds.size) == 4 and int(ds.dropped) == 2


def test_add_masked_rejects_bad_mask_shape():
  ds = data.create(8, OBS, ACT)
  with pytest.raises(ValueError, match='mask'):
    add_masked(ds, *_rows(0, 4), np.ones(3, bool))


def test_extras_travel_with_their_rows():
  spec = {'expert_controlled': jax.ShapeDtypeStruct((), jnp.bool_),
          'iteration': jax.ShapeDtypeStruct((), jnp.int32)}
  ds = data.create(10, OBS, ACT, extras=spec)
  obs, action = _rows(0, 6)
  controlled = np.array([1, 0, 1, 1, 0, 1], bool)
  ds = add_masked(ds, obs, action, controlled,
                       extras={'expert_controlled': controlled,
                               'iteration': np.full(6, 3, np.int32)})
  ds = add(ds, *_rows(6, 2),
                extras={'expert_controlled': np.zeros(2, bool),
                        'iteration': np.full(2, 4, np.int32)})
  assert int(ds.size) == 6
  extras = data.gather_extras(ds, jnp.arange(6))
  np.testing.assert_array_equal(extras['expert_controlled'], [1, 1, 1, 1, 0, 0])
  np.testing.assert_array_equal(extras['iteration'], [3, 3, 3, 3, 4, 4])
  np.testing.assert_array_equal(ds.obs[:6, 0], [0, 2, 3, 5, 6, 7])
  with pytest.raises(ValueError, match='keys'):
    add(ds, *_rows(0, 1))  # The declared extras are required.


def test_sample_is_uniform_over_valid_rows_only():
  ds = _with_sentinel(data.create(64, OBS, ACT))
  ds = add(ds, *_rows(0, 20))
  batch = jax.jit(data.sample, static_argnums=2)(ds, jax.random.PRNGKey(0),
                                                 10_000)
  chex.assert_shape(batch.obs, (10_000, OBS))
  chex.assert_shape(batch.action, (10_000, ACT))
  rows = np.asarray(batch.obs[:, 0])
  assert np.all(rows >= 0) and np.all(rows < 20)  # No sentinel, no row >= 20.
  np.testing.assert_array_equal(batch.action[:, 0], rows + 0.5)  # Pairs kept.
  counts = np.bincount(rows.astype(int), minlength=20)
  # Every valid row is drawn, about 500 times each (binomial sd ~ 22).
  assert counts.min() > 400 and counts.max() < 600, counts


def test_sample_traces_once_for_any_size():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def sample(ds, key):
    return data.sample(ds, key, 512)

  empty = _with_sentinel(data.create(32, OBS, ACT))
  for size in (1, 7, 32):
    ds = add(empty, *_rows(0, size))
    rows = np.asarray(sample(ds, jax.random.PRNGKey(size)).obs[:, 0])
    assert rows.min() >= 0 and rows.max() < size
    assert len(np.unique(rows)) == size


def test_jitted_aggregation_loop_with_traced_size():
  """A `lax.scan` of masked aggregations, as HG-DAgger runs them."""
  n_iters, n_rows = 5, 8

  def step(ds, xs):
    obs, action, mask = xs
    return data.add_masked(ds, obs, action, mask), ds.size

  obs, action = _rows(0, n_iters * n_rows)
  mask = np.random.default_rng(1).random(n_iters * n_rows) < 0.3
  ds, sizes = jax.jit(lambda ds, xs: jax.lax.scan(step, ds, xs))(
      data.create(n_iters * n_rows, OBS, ACT),
      (obs.reshape(n_iters, n_rows, OBS), action.reshape(n_iters, n_rows, ACT),
       mask.reshape(n_iters, n_rows)))
  np.testing.assert_array_equal(
      sizes, np.concatenate([[0], np.cumsum(mask.reshape(n_iters, -1).sum(1))
                             [:-1]]))
  assert int(ds.size) == mask.sum()
  np.testing.assert_array_equal(ds.obs[:mask.sum()], obs[mask])


def test_vmap_over_a_batch_of_datasets():
  n_seeds, capacity = 4, 16
  keys = jax.random.split(jax.random.PRNGKey(0), n_seeds)
  obs, action = _rows(0, capacity)

  def run(key):
    mask_key, sample_key = jax.random.split(key)
    ds = _with_sentinel(data.create(capacity, OBS, ACT))
    ds = data.add(ds, obs[:2], action[:2])
    mask = jax.random.bernoulli(mask_key, 0.5, (capacity - 2,))
    ds = data.add_masked(ds, obs[2:], action[2:], mask)
    return ds, mask, data.sample(ds, sample_key, 256)

  ds, masks, batch = jax.jit(jax.vmap(run))(keys)
  chex.assert_shape(ds.obs, (n_seeds, capacity, OBS))
  chex.assert_shape(batch.obs, (n_seeds, 256, OBS))
  sizes = np.asarray(ds.size)
  assert len(set(sizes.tolist())) > 1  # Seeds really differ.
  for i in range(n_seeds):
    kept = np.concatenate([obs[:2], obs[2:][np.asarray(masks[i])]])
    assert sizes[i] == len(kept)
    np.testing.assert_array_equal(ds.obs[i, :sizes[i]], kept)
    np.testing.assert_array_equal(ds.obs[i, sizes[i]:], SENTINEL)
    drawn = np.unique(np.asarray(batch.obs[i, :, 0]))
    np.testing.assert_array_equal(drawn, kept[:, 0])  # All valid, all drawn.


def test_vmapped_add_overflow_per_dataset():
  ds = jax.vmap(lambda _: data.create(4, OBS, ACT))(jnp.arange(2))
  # Different sizes per dataset: 1 and 3 rows.
  ds = jax.vmap(data.add_masked, in_axes=(0, None, None, 0))(
      ds, *_rows(0, 3), jnp.array([[True, False, False], [True, True, True]]))
  ds = jax.vmap(data.add, in_axes=(0, None, None))(ds, *_rows(10, 2))
  np.testing.assert_array_equal(ds.size, [3, 4])
  np.testing.assert_array_equal(ds.dropped, [0, 1])
  np.testing.assert_array_equal(ds.obs[0, :, 0], [0, 10, 11, 0])
  np.testing.assert_array_equal(ds.obs[1, :, 0], [0, 1, 2, 10])


def test_stats_match_numpy_over_valid_rows_only():
  rng = np.random.default_rng(0)
  values = rng.normal([5.0, -2.0, 20.0], [2.0, 0.5, 0.1],
                      size=(50, OBS)).astype(np.float32)
  ds = data.create(80, OBS, ACT).replace(obs=jnp.full((80, OBS), 1e6))
  ds = add(ds, values, np.zeros((50, ACT)))
  stats = jax.jit(data.compute_stats)(ds)
  np.testing.assert_allclose(stats.mean, values.mean(0), rtol=1e-5)
  np.testing.assert_allclose(stats.std, values.std(0), rtol=1e-3)
  normalized = data.normalize(values, stats)
  np.testing.assert_allclose(normalized.mean(0), 0.0, atol=1e-3)
  np.testing.assert_allclose(normalized.std(0), 1.0, rtol=1e-3)


def test_stats_floor_constant_features_and_identity_when_empty():
  ds = data.create(10, OBS, ACT)
  stats = data.compute_stats(ds)  # Empty: identity.
  np.testing.assert_array_equal(stats.mean, 0.0)
  np.testing.assert_array_equal(stats.std, 1.0)
  obs = np.tile(np.array([[3.0, 1.0, -1.0]], np.float32), (4, 1))
  obs[:, 0] = [1.0, 2.0, 3.0, 4.0]
  ds = add(ds, obs, np.zeros((4, ACT)))
  stats = data.compute_stats(ds, min_std=1e-2)
  np.testing.assert_allclose(stats.std, [np.std(obs[:, 0]), 1e-2, 1e-2])
  assert np.all(np.isfinite(data.normalize(obs + 1.0, stats)))
  np.testing.assert_allclose(
      data.normalize(obs + 1.0, stats, clip=5.0)[:, 1:], 5.0)
  identity = data.identity_stats(OBS)
  np.testing.assert_array_equal(data.normalize(obs, identity), obs)
