"""Orbax checkpoints of a run's whole state, for exact resume.

A run's state (parameters, optimiser state, dataset, PRNG key, iteration) is
one pytree, so resuming is restoring it: the iterations that follow are the
same computations on the same inputs, and produce the same metrics.

Orbax refuses zero-size arrays, which MJX states contain (e.g. `act` of a
model without activation states); they carry no data, so only the non-empty
leaves are written and the empty ones are rebuilt from the structure given to
`restore`.
"""

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp


def _is_empty(leaf) -> bool:
  return int(np.prod(leaf.shape)) == 0


class Checkpointer:
  """Saves and restores a pytree state under `<workdir>/checkpoints/<step>`."""

  def __init__(self, workdir: str, max_to_keep: int = 2):
    self._manager = ocp.CheckpointManager(
        os.path.abspath(os.path.join(workdir, 'checkpoints')),
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, enable_async_checkpointing=False))

  def latest_step(self) -> int | None:
    """The step of the newest checkpoint, or None if there is none."""
    return self._manager.latest_step()

  def save(self, step: int, state: Any) -> None:
    """Writes `state` as checkpoint `step`, replacing one of the same step."""
    leaves = [leaf for leaf in jax.tree.leaves(state) if not _is_empty(leaf)]
    self._manager.save(step, args=ocp.args.StandardSave(leaves), force=True)
    self._manager.wait_until_finished()

  def restore(self, step: int, like: Any) -> Any:
    """Checkpoint `step`, with the structure, shapes and dtypes of `like`.

    Raises:
      ValueError: if the checkpoint does not fit `like` (e.g. it was written
        by a run with another config), naming the checkpoint.
    """
    leaves, treedef = jax.tree.flatten(like)
    abstract = [ocp.utils.to_shape_dtype_struct(leaf) for leaf in leaves
                if not _is_empty(leaf)]
    try:
      saved = iter(self._manager.restore(
          step, args=ocp.args.StandardRestore(abstract)))
    except (ValueError, KeyError, TypeError) as error:
      raise ValueError(
          f'Checkpoint {step} in {self._manager.directory} does not match this '
          f'run\'s state (was it written with another config?): {error}'
      ) from error
    return jax.tree.unflatten(treedef, [
        jnp.zeros(leaf.shape, leaf.dtype) if _is_empty(leaf) else next(saved)
        for leaf in leaves
    ])

  def close(self) -> None:
    self._manager.close()
