"""Observation normalisation from the valid rows of a dataset.

`compute_stats(dataset)` gives the per-feature mean and std of rows
`[0, size)` only (the zero rows past `size` would bias both), with `size`
traced, so stats can be recomputed inside a jitted DAgger iteration after
every aggregation. Networks then see `normalize(obs, stats)`; policies and
the rollout must use the same stats, which is why they are a pytree that
can be stored next to the params.
"""

from typing import Optional

import flax.struct
import jax
import jax.numpy as jnp

from il_jax.data.dataset import Dataset

# Floor of the std. A feature that is (nearly) constant in the data would
# otherwise be divided by ~0: in-distribution it maps to 0 either way, but a
# small deviation off the data (exactly what DAgger's rollouts produce) would
# be amplified without bound. 1e-3 caps that gain at 1000 in the units of
# the observation.
DEFAULT_MIN_STD = 1e-3


@flax.struct.dataclass
class NormalizerStats:
  """Per-feature statistics: `mean [obs_size]`, `std [obs_size]` (> 0)."""
  mean: jax.Array
  std: jax.Array


def identity_stats(observation_size: int,
                   dtype: jnp.dtype = jnp.float32) -> NormalizerStats:
  """Stats for "no normalisation": `normalize` returns `obs` unchanged."""
  return NormalizerStats(
      mean=jnp.zeros((observation_size,), dtype),
      std=jnp.ones((observation_size,), dtype))


def compute_row_stats(values: jax.Array,
                      size: jax.Array,
                      min_std: float = DEFAULT_MIN_STD) -> NormalizerStats:
  """Mean and std over the first `size` rows of `values`.

  Args:
    values: `[capacity, d]` rows, of which `[0, size)` are valid.
    size: int scalar (may be traced), `0 <= size <= capacity`.
    min_std: floor of the std (see `DEFAULT_MIN_STD`).

  Returns:
    `NormalizerStats(mean [d], std [d])`: the population (ddof=0) statistics
    of the valid rows, with `std >= min_std`; identity stats if `size == 0`.
  """
  capacity = values.shape[0]
  values = values.astype(jnp.float32)
  valid = (jnp.arange(capacity) < size)[:, None]
  count = jnp.maximum(size, 1).astype(jnp.float32)
  mean = jnp.sum(jnp.where(valid, values, 0.0), axis=0) / count
  # Two passes (mean, then squared deviations): E[x^2] - E[x]^2 cancels
  # catastrophically in float32 for features with a large mean.
  deviation = jnp.where(valid, values - mean, 0.0)
  std = jnp.sqrt(jnp.sum(jnp.square(deviation), axis=0) / count)
  std = jnp.maximum(std, min_std)
  empty = size == 0
  return NormalizerStats(
      mean=jnp.where(empty, 0.0, mean), std=jnp.where(empty, 1.0, std))


def compute_stats(dataset: Dataset,
                  min_std: float = DEFAULT_MIN_STD) -> NormalizerStats:
  """Observation stats over the dataset's valid rows `[0, size)`.

  Returns `NormalizerStats(mean [obs_size], std [obs_size])`; identity stats
  for an empty dataset.
  """
  return compute_row_stats(dataset.obs, dataset.size, min_std)


def normalize(obs: jax.Array,
              stats: NormalizerStats,
              clip: Optional[float] = None) -> jax.Array:
  """`(obs - mean) / std` for `obs [..., obs_size]`, optionally clipped to
  `[-clip, clip]` to bound what the network sees far off the data."""
  normalized = (obs - stats.mean) / stats.std
  if clip is not None:
    normalized = jnp.clip(normalized, -clip, clip)
  return normalized
