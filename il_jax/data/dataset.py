"""Fixed-capacity, on-device imitation dataset: aggregate and sample in `jit`.

A `Dataset` is a pytree of preallocated arrays `[capacity, ...]` plus a traced
row count `size`; rows `[0, size)` are valid and appear in the order they were
added. Capacity is a static Python int (the arrays' leading dimension), so
every function here traces once per capacity and works under `jit`, `scan`
and `vmap` (e.g. one dataset per seed).

Overflow. The algorithms compute capacity exactly from their config, so
overflow is a bug. It cannot pass unnoticed:
  * `add` of more rows in one call than the capacity is a ValueError at
    trace time;
  * rows that do not fit at run time are dropped (the earliest rows are kept
    and nothing valid is ever overwritten; note `dynamic_update_slice` alone
    would clamp its start and silently overwrite the last valid rows), and
    the dataset counts them in `dropped`; `overflowed(dataset)` says whether
    any were dropped, for the algorithm to report or check after its run.

Extras. Per-row fields beyond the expert's label (e.g. HG-DAgger's
`expert_controlled`, the DAgger iteration a row came from) are declared at
`create` with their per-row shape and dtype, are written by every `add`, and
are read back with `gather_extras`.
"""

from typing import Mapping, Optional

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from il_jax.envs.validation import check_positive_int
from il_jax.types import Batch
from il_jax.types import PRNGKey


@flax.struct.dataclass
class Dataset:
  """Observations and expert action labels, valid in rows `[0, size)`.

  Attributes:
    obs: `[capacity, observation_size]` observations.
    action: `[capacity, action_size]` the expert's action labels.
    size: int32 scalar, number of valid rows.
    dropped: int32 scalar, rows that did not fit and were dropped (0 unless
      the capacity was too small).
    extras: name -> `[capacity, *row_shape]` per-row fields, as declared at
      `create`.
  """
  obs: jax.Array
  action: jax.Array
  size: jax.Array
  dropped: jax.Array
  extras: dict[str, jax.Array]

  @property
  def capacity(self) -> int:
    """The static number of rows (also inside `vmap` over datasets)."""
    return self.obs.shape[0]


def create(capacity: int,
           observation_size: int,
           action_size: int,
           extras: Optional[Mapping[str, jax.ShapeDtypeStruct]] = None,
           dtype: jnp.dtype = jnp.float32) -> Dataset:
  """An empty dataset with all rows zero.

  Args:
    capacity: static number of rows, e.g. the exact count of steps the
      algorithm aggregates over its run.
    observation_size: size of an observation.
    action_size: size of an action label.
    extras: per-row fields, name -> per-row shape and dtype, e.g.
      `{'expert_controlled': jax.ShapeDtypeStruct((), jnp.bool_)}`.
    dtype: dtype of `obs` and `action`.

  Raises:
    ValueError: for a non-positive capacity or size, or a bad extras spec.
  """
  for name, value in (('capacity', capacity),
                      ('observation_size', observation_size),
                      ('action_size', action_size)):
    check_positive_int(name, value)
  extra_arrays = {}
  for name, spec in (extras or {}).items():
    if not hasattr(spec, 'shape') or not hasattr(spec, 'dtype'):
      raise ValueError(
          f'extras[{name!r}] must be a jax.ShapeDtypeStruct of one row, got '
          f'{spec!r}.')
    extra_arrays[name] = jnp.zeros((capacity, *spec.shape), spec.dtype)
  return Dataset(
      obs=jnp.zeros((capacity, observation_size), dtype),
      action=jnp.zeros((capacity, action_size), dtype),
      size=jnp.zeros((), jnp.int32),
      dropped=jnp.zeros((), jnp.int32),
      extras=extra_arrays)


def overflowed(dataset: Dataset) -> jax.Array:
  """bool scalar: some added rows did not fit and were dropped."""
  return dataset.dropped > 0


def _flatten_rows(dataset: Dataset, obs: jax.Array, action: jax.Array,
                  extras: Optional[Mapping[str, jax.Array]]):
  """Checks shapes at trace time; flattens leading dims into `N` rows.

  Returns:
    `(n, leading, rows)`: the static row count `N`, the leading dimensions of
    `obs`, and `rows`, field -> `[N, *row_shape]` for 'obs', 'action' and
    'extra/<name>' for each extra.
  """
  obs = jnp.asarray(obs)
  action = jnp.asarray(action)
  obs_size = dataset.obs.shape[-1]
  action_size = dataset.action.shape[-1]
  if obs.ndim < 1 or obs.shape[-1] != obs_size:
    raise ValueError(f'obs must have shape [..., {obs_size}], got {obs.shape}.')
  if action.ndim < 1 or action.shape[-1] != action_size:
    raise ValueError(
        f'action must have shape [..., {action_size}], got {action.shape}.')
  leading = obs.shape[:-1]
  if action.shape[:-1] != leading:
    raise ValueError(
        'obs and action must share leading dimensions, got '
        f'{obs.shape} and {action.shape}.')
  extras = dict(extras or {})
  if set(extras) != set(dataset.extras):
    raise ValueError(
        f'extras must have exactly the keys {sorted(dataset.extras)} declared '
        f'at create, got {sorted(extras)}.')
  n = int(np.prod(leading, dtype=np.int64))
  rows = {
      'obs': obs.reshape(n, obs_size).astype(dataset.obs.dtype),
      'action': action.reshape(n, action_size).astype(dataset.action.dtype),
  }
  for name, value in extras.items():
    row_shape = dataset.extras[name].shape[1:]
    value = jnp.asarray(value)
    if value.shape != leading + row_shape:
      raise ValueError(
          f'extras[{name!r}] must have shape {leading + row_shape} (the '
          f'leading dimensions of obs, then the declared row shape), got '
          f'{value.shape}.')
    rows['extra/' + name] = value.reshape(
        (n,) + row_shape).astype(dataset.extras[name].dtype)
  return n, leading, rows


def _replace_rows(dataset: Dataset, rows: Mapping[str, jax.Array],
                  update_fn, size: jax.Array, dropped: jax.Array) -> Dataset:
  def update(name, buffer):
    return update_fn(buffer, rows[name])

  return dataset.replace(
      obs=update('obs', dataset.obs),
      action=update('action', dataset.action),
      extras={
          name: update('extra/' + name, buffer)
          for name, buffer in dataset.extras.items()
      },
      size=size,
      dropped=dropped)


def add(dataset: Dataset,
        obs: jax.Array,
        action: jax.Array,
        extras: Optional[Mapping[str, jax.Array]] = None) -> Dataset:
  """Appends `N` rows at `size`, in row-major order of the leading dims.

  Args:
    dataset: the dataset to grow.
    obs: `[..., observation_size]`, e.g. `[N, obs]` or `[T, B, obs]` from a
      rollout; `N` is the (static) product of the leading dimensions.
    action: `[..., action_size]` expert labels, same leading dimensions.
    extras: name -> `[..., *row_shape]` for every extra declared at `create`.

  Returns:
    The dataset with `size` grown by `N`. Rows beyond the capacity are dropped
    and counted in `dropped`; existing rows are never overwritten.

  Raises:
    ValueError: at trace time, for mismatched shapes or `N > capacity`.
  """
  n, _, rows = _flatten_rows(dataset, obs, action, extras)
  capacity = dataset.capacity
  if n > capacity:
    raise ValueError(
        f'Cannot add {n} rows to a dataset of capacity {capacity}.')
  size = dataset.size
  # `dynamic_update_slice` clamps its start to `capacity - n`. When the rows
  # do not all fit, write at that clamped start ourselves, and keep the
  # window's first `size - start` rows (already valid) instead of new ones:
  # new row `i` goes to window row `i + shift` and new rows past the end of
  # the window are the ones dropped.
  start = jnp.minimum(size, capacity - n)
  shift = size - start
  window_row = jnp.arange(n)
  keep_old = window_row < shift
  source = jnp.clip(window_row - shift, 0, n - 1)

  def update_fn(buffer, new_rows):
    window = jax.lax.dynamic_slice_in_dim(buffer, start, n, axis=0)
    keep = keep_old.reshape((n,) + (1,) * (buffer.ndim - 1))
    merged = jnp.where(keep, window, jnp.take(new_rows, source, axis=0))
    return jax.lax.dynamic_update_slice_in_dim(buffer, merged, start, axis=0)

  new_size = jnp.minimum(size + n, capacity).astype(jnp.int32)
  dropped = dataset.dropped + (size + n - new_size).astype(jnp.int32)
  return _replace_rows(dataset, rows, update_fn, new_size, dropped)


def add_masked(dataset: Dataset,
               obs: jax.Array,
               action: jax.Array,
               mask: jax.Array,
               extras: Optional[Mapping[str, jax.Array]] = None) -> Dataset:
  """Appends only the rows where `mask` is true, compacted, in order.

  HG-DAgger aggregates only the steps the expert controlled: pass those as
  `mask`. The number of rows added is traced; shapes stay static.

  Args:
    dataset: the dataset to grow.
    obs: `[..., observation_size]`.
    action: `[..., action_size]`, same leading dimensions.
    mask: bool `[...]`, the leading dimensions of `obs`.
    extras: name -> `[..., *row_shape]` for every extra declared at `create`.

  Returns:
    The dataset with the selected rows appended at `size` in row-major order;
    selected rows beyond the capacity are dropped and counted in `dropped`.

  Raises:
    ValueError: at trace time, for mismatched shapes. More candidate rows than
    the capacity is allowed (the mask decides how many are added).
  """
  n, leading, rows = _flatten_rows(dataset, obs, action, extras)
  mask = jnp.asarray(mask)
  if mask.shape != leading:
    raise ValueError(
        f'mask must have the leading dimensions of obs {leading}, got '
        f'{mask.shape}.')
  mask = mask.reshape(n).astype(bool)
  capacity = dataset.capacity
  # The k-th selected row (k from 0) goes to row size + k. Unselected rows,
  # and selected rows past the end, get an index >= capacity, which the
  # scatter drops (an index of -1 would wrap around to the last row).
  position = dataset.size + jnp.cumsum(mask, dtype=jnp.int32) - 1
  index = jnp.where(mask, position, capacity)

  def update_fn(buffer, new_rows):
    return buffer.at[index].set(new_rows, mode='drop')

  count = jnp.sum(mask, dtype=jnp.int32)
  new_size = jnp.minimum(dataset.size + count, capacity).astype(jnp.int32)
  dropped = dataset.dropped + dataset.size + count - new_size
  return _replace_rows(dataset, rows, update_fn, new_size, dropped)


def sample_indices(dataset: Dataset, key: PRNGKey,
                   batch_size: int) -> jax.Array:
  """int32 `[batch_size]` row indices, uniform over `[0, size)`, with
  replacement.

  On an empty dataset every index is 0, a row that `create` zeroed; callers
  must not train on an empty dataset (the algorithms seed it first).
  """
  return jax.random.randint(
      key, (batch_size,), 0, jnp.maximum(dataset.size, 1), dtype=jnp.int32)


def gather(dataset: Dataset, indices: jax.Array) -> Batch:
  """`Batch(obs [*I, obs_size], action [*I, action_size])` at `indices [*I]`."""
  return Batch(obs=dataset.obs[indices], action=dataset.action[indices])


def gather_extras(dataset: Dataset,
                  indices: jax.Array) -> dict[str, jax.Array]:
  """name -> `[*I, *row_shape]`: the extras of the rows at `indices [*I]`."""
  return {name: value[indices] for name, value in dataset.extras.items()}


def sample(dataset: Dataset, key: PRNGKey, batch_size: int) -> Batch:
  """A training batch drawn uniformly, with replacement, from rows
  `[0, size)`: `Batch(obs [batch_size, obs], action [batch_size, act])`.

  `batch_size` must be static (a Python int).
  """
  return gather(dataset, sample_indices(dataset, key, batch_size))
