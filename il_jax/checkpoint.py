"""Orbax checkpoints of a run's whole state, for exact resume.

A run's state (parameters, optimiser state, dataset, PRNG key, iteration) is
one pytree, so resuming is restoring it: the iterations that follow are the
same computations on the same inputs, and produce the same metrics.
"""

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


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
    self._manager.save(step, args=ocp.args.StandardSave(state), force=True)
    self._manager.wait_until_finished()

  def restore(self, step: int, like: Any) -> Any:
    """Checkpoint `step`, with the structure, shapes and dtypes of `like`.

    Raises:
      ValueError: if the checkpoint does not fit `like` (e.g. it was written
        by a run with another config), naming the checkpoint.
    """
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    try:
      return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except (ValueError, KeyError, TypeError) as error:
      raise ValueError(
          f'Checkpoint {step} in {self._manager.directory} does not match this '
          f'run\'s state (was it written with another config?): {error}'
      ) from error

  def close(self) -> None:
    self._manager.close()
