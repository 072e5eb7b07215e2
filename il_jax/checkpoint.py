"""Orbax checkpoints of a run's whole state, for exact resume, verified.

A run's state (parameters, optimiser state, dataset, PRNG key, iteration) is
one pytree, so resuming is restoring it: the iterations that follow are the
same computations on the same inputs, and produce the same metrics.

Each checkpoint `<workdir>/checkpoints/<step>` holds the state's arrays (item
`state`) and a JSON item `meta`: the run id that binds it to its run, and a
SHA-256 over the saved arrays, so that restoring checks the content and a
corrupt checkpoint is reported, not silently used.

Datasets (`il_jax.data.Dataset` nodes of the state) only grow: rows
`[0, size)` are written once and never change, rows past `size` are zero. A
checkpoint therefore stores a dataset's `size` and `dropped` with the state,
and its rows incrementally: step N writes only the rows added since the
previous save as `<workdir>/checkpoints/dataset/<N>/` (one `.npy` per row
array, rows `[lo, hi)`), and its `meta` lists, with their checksums, every
chunk the dataset is rebuilt from. At GPU scale (10 M rows per seed) this
turns a save of the whole dataset into a save of one iteration's rows.

Orbax refuses zero-size arrays, which MJX states contain (e.g. `act` of a
model without activation states); they carry no data, so only the non-empty
leaves are written and the empty ones are rebuilt from the structure given to
`restore`.
"""

import concurrent.futures
import hashlib
import os
import shutil
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from il_jax.data import Dataset

CHUNK_DIR = 'dataset'
# Pieces hashed in parallel (hashlib releases the GIL on large buffers).
_HASH_PIECE_BYTES = 64 * 2**20


class CheckpointError(ValueError):
  """A checkpoint that cannot be used (corrupt, incomplete, another run's);
  the message is one line that names it."""


def _is_empty(leaf) -> bool:
  return int(np.prod(leaf.shape)) == 0


def _is_dataset(node) -> bool:
  return isinstance(node, Dataset)


def _to_host(tree):
  """A (possibly multi-host) pytree of arrays as numpy arrays on this host."""
  if jax.process_count() > 1:
    return multihost_utils.process_allgather(tree, tiled=True)
  return jax.device_get(tree)


def digest(arrays: list[np.ndarray]) -> str:
  """SHA-256 (hex) over the shapes, dtypes and bytes of `arrays`, hashed in
  pieces on several threads."""
  pieces = []
  for array in arrays:
    data = memoryview(np.ascontiguousarray(array)).cast('B')
    pieces.append(f'{array.shape}{array.dtype}'.encode())
    pieces += [data[i:i + _HASH_PIECE_BYTES]
               for i in range(0, len(data), _HASH_PIECE_BYTES)]
  with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
    hashes = pool.map(lambda piece: hashlib.sha256(piece).digest(), pieces)
    return hashlib.sha256(b''.join(hashes)).hexdigest()


def _rows(dataset: Dataset) -> dict[str, Any]:
  """name -> row array of `dataset` (`obs`, `action`, `extra/<name>`)."""
  return {'obs': dataset.obs, 'action': dataset.action,
          **{'extra/' + k: v for k, v in dataset.extras.items()}}


def _without_rows(tree):
  """`tree` with every Dataset's row arrays left out (None)."""
  return jax.tree.map(
      lambda node: node.replace(
          obs=None, action=None, extras={k: None for k in node.extras})
      if _is_dataset(node) else node, tree, is_leaf=_is_dataset)


def _datasets(tree) -> list[Dataset]:
  return [node for node in jax.tree.leaves(tree, is_leaf=_is_dataset)
          if _is_dataset(node)]


def _chunk_file(name: str) -> str:
  """`extra/expert_controlled` -> `extra.expert_controlled.npy`."""
  return name.replace('/', '.') + '.npy'


class Checkpointer:
  """Saves and restores a pytree state under `<workdir>/checkpoints/<step>`.

  Args:
    workdir: the run's directory.
    max_to_keep: checkpoints kept (the newest); the dataset chunks they are
      rebuilt from are all kept.
    run_id: written into every checkpoint; `restore` refuses one written
      under another id (another run that used the same workdir).
  """

  def __init__(self, workdir: str, max_to_keep: int = 2,
               run_id: str | None = None):
    self._directory = os.path.abspath(os.path.join(workdir, 'checkpoints'))
    self._manager = ocp.CheckpointManager(
        self._directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, enable_async_checkpointing=False))
    self._run_id = run_id
    # What the next save's chunks extend: per dataset, the sizes at the last
    # save (`[*batch]`), and the chunks written so far with their checksums.
    self._saved_sizes: list[np.ndarray] | None = None
    self._chunks: list[dict] = []

  @property
  def directory(self) -> str:
    return self._directory

  def all_steps(self) -> list[int]:
    """The steps of the checkpoints on disk, oldest first."""
    self._manager.reload()  # another process may have written since
    return sorted(self._manager.all_steps())

  def latest_step(self) -> int | None:
    """The step of the newest checkpoint, or None if there is none."""
    steps = self.all_steps()
    return steps[-1] if steps else None

  def _write_chunk(self, step: int, state: Any) -> dict | None:
    """Writes the dataset rows added since the last save as chunk `step`;
    returns its record for `meta` (None when no row was added)."""
    datasets = _datasets(state)
    if not datasets:
      return None
    sizes = [np.asarray(_to_host(d.size)) for d in datasets]
    if self._saved_sizes is None:
      self._saved_sizes = [np.zeros_like(s) for s in sizes]
    # The rows of every member that grew; a member's rows past its size are
    # zero until it grows there, and a later chunk then rewrites them.
    spans = [(int(np.min(old[new > old])), int(np.max(new[new > old])))
             if np.any(new > old) else (0, 0)
             for old, new in zip(self._saved_sizes, sizes)]
    if all(hi <= lo for lo, hi in spans):
      return None
    arrays, names = [], []
    for index, (dataset, (lo, hi)) in enumerate(zip(datasets, spans)):
      axis = dataset.size.ndim  # rows follow the batch (seed) axes
      for name, rows in _rows(dataset).items():
        names.append(f'{index}/{name}')
        # A traced start: one compiled slice for every save of this size.
        arrays.append(np.asarray(_to_host(jax.lax.dynamic_slice_in_dim(
            rows, jnp.int32(lo), hi - lo, axis=axis))))
    record = {'step': step, 'spans': spans, 'names': names,
              'sha256': digest(arrays)}
    if jax.process_index() == 0:
      final = os.path.join(self._directory, CHUNK_DIR, str(step))
      partial = final + '.partial'
      shutil.rmtree(partial, ignore_errors=True)
      os.makedirs(partial)
      for name, array in zip(names, arrays):
        np.save(os.path.join(partial, _chunk_file(name)), array)
      # The chunk appears whole or not at all; a chunk of the same step left
      # by an interrupted save (not referenced by any checkpoint) is replaced.
      shutil.rmtree(final, ignore_errors=True)
      os.rename(partial, final)
    self._saved_sizes = sizes
    return record

  def save(self, step: int, state: Any) -> None:
    """Writes `state` as checkpoint `step`, replacing one of the same step."""
    chunk = self._write_chunk(step, state)
    chunks = self._chunks + ([chunk] if chunk else [])
    leaves = [leaf for leaf in jax.tree.leaves(_without_rows(state))
              if not _is_empty(leaf)]
    meta = {'run_id': self._run_id,
            'sha256': digest([np.asarray(x) for x in _to_host(leaves)]),
            'chunks': chunks}
    if step in self._manager.all_steps():
      # One that resume skipped (corrupt) or will never restore again.
      self._manager.delete(step)
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(leaves), meta=ocp.args.JsonSave(meta)),
                       force=True)
    self._manager.wait_until_finished()
    self._chunks = chunks

  def _read_chunk(self, record: dict) -> list[np.ndarray]:
    chunk = os.path.join(CHUNK_DIR, str(record['step']))
    arrays = []
    for name in record['names']:
      try:
        arrays.append(np.load(os.path.join(self._directory, chunk,
                                           _chunk_file(name))))
      except (OSError, ValueError) as error:
        raise CheckpointError(
            f'dataset chunk {chunk}, whose {_chunk_file(name)} is missing or '
            f'unreadable ({type(error).__name__})') from None
    if digest(arrays) != record['sha256']:
      raise CheckpointError(f'dataset chunk {chunk}, which fails its checksum')
    return arrays

  def restore(self, step: int, like: Any) -> Any:
    """Checkpoint `step`, with the structure, shapes and dtypes of `like`.

    Raises:
      CheckpointError: if the checkpoint is unreadable, fails its checksum,
        was written under another run id, or does not fit `like`; the
        message is one line naming the checkpoint.
    """
    where = f'Checkpoint {step} in {self._directory}'
    stripped = _without_rows(like)
    leaves, treedef = jax.tree.flatten(stripped)
    abstract = [ocp.utils.to_shape_dtype_struct(leaf) for leaf in leaves
                if not _is_empty(leaf)]
    try:
      meta = self._manager.restore(step, args=ocp.args.Composite(
          meta=ocp.args.JsonRestore()))['meta']
      saved = self._manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(abstract)))['state']
    # Orbax raises bare Exceptions (and others) for truncated or damaged
    # files; any failure to read means this checkpoint cannot be used.
    except Exception as error:  # pylint: disable=broad-except
      reason = str(error).strip().splitlines()
      raise CheckpointError(
          f'{where} cannot be read ({type(error).__name__}: '
          f'{reason[0] if reason else ""})') from None
    if not isinstance(meta, dict) or 'sha256' not in meta:
      raise CheckpointError(f'{where} has no checksum (incomplete, or written '
                            'by an older il_jax)')
    if meta.get('run_id') != self._run_id:
      raise CheckpointError(
          f'{where} was written by another run (run id '
          f"{meta.get('run_id')}, this run's is {self._run_id})")
    if digest([np.asarray(x) for x in jax.device_get(saved)]) != meta[
        'sha256']:
      raise CheckpointError(f'{where} fails its checksum (corrupt)')
    saved = iter(saved)
    state = jax.tree.unflatten(treedef, [
        jnp.zeros(leaf.shape, leaf.dtype) if _is_empty(leaf) else next(saved)
        for leaf in leaves
    ])
    state = self._fill_rows(state, like, meta['chunks'], where)
    self._chunks = list(meta['chunks'])
    self._saved_sizes = [np.asarray(jax.device_get(d.size))
                         for d in _datasets(state)]
    return state

  def _fill_rows(self, state: Any, like: Any, chunks: list[dict],
                 where: str) -> Any:
    """`state` (restored without dataset rows) with each dataset's rows
    rebuilt from zeros and `chunks`, in order."""
    empty = _datasets(like)
    if not empty:
      return state
    rows = [{name: np.zeros(x.shape, x.dtype)
             for name, x in _rows(d).items()} for d in empty]
    for record in chunks:
      try:
        arrays = self._read_chunk(record)
      except CheckpointError as error:
        raise CheckpointError(f'{where} needs {error}') from None
      for name, array in zip(record['names'], arrays):
        index, field = name.split('/', 1)
        index = int(index)
        lo, hi = record['spans'][index]
        target = rows[index][field]
        axis = empty[index].size.ndim
        if array.shape[axis] != hi - lo or target.shape[axis] < hi:
          raise CheckpointError(f'{where} does not fit this run\'s dataset')
        target[(slice(None),) * axis + (slice(lo, hi),)] = array
    filled = iter(rows)

    def fill(node):
      if not _is_dataset(node):
        return node
      values = next(filled)
      return node.replace(
          obs=values['obs'], action=values['action'],
          extras={k: values['extra/' + k] for k in node.extras})

    return jax.tree.map(fill, state, is_leaf=_is_dataset)

  def restore_latest(self, like: Any,
                     report: Callable[[str], None] = print
                     ) -> tuple[int, Any] | None:
    """The newest checkpoint that restores intact, as `(step, state)`, or
    None if there is no checkpoint.

    Each checkpoint that cannot be used is reported in one line through
    `report`, with the one restored instead.

    Raises:
      CheckpointError: if there are checkpoints but none is intact.
    """
    steps = self.all_steps()
    if not steps:
      return None
    failures = []
    for step in reversed(steps):
      try:
        state = self.restore(step, like)
      except CheckpointError as error:
        failures.append(error)
        continue
      for error in failures:
        report(f'{error}: skipped, restoring checkpoint {step} instead.')
      return step, state
    raise CheckpointError(
        f'No intact checkpoint in {self._directory}: '
        + '; '.join(str(e).replace(f' in {self._directory}', '')
                    for e in failures)
        + '. Start again with overwrite=True.')

  def close(self) -> None:
    self._manager.close()
