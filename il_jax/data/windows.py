"""Observation windows rebuilt from per-row predecessor links.

A history policy trains on windows `[B, k, obs_size]` of the last k learner
observations. Copying a window into every dataset row would multiply its
memory by k; instead each row stores `prev`, the dataset row of the previous
step of the same episode (itself at an episode start), and a sampled row's
window is rebuilt by following the links k-1 times. A row that is its own
predecessor repeats, which is the first-obs padding `rollout.windowed` uses
when acting, so training and acting windows agree.
"""

import jax
import jax.numpy as jnp


def rebuild(obs: jax.Array, prev: jax.Array, index: jax.Array,
            history_length: int) -> jax.Array:
  """The windows ending at the rows `index`.

  Args:
    obs: `[N, obs_size]` the dataset's observations.
    prev: `[N]` int, the row of each row's previous step (itself at an
      episode start).
    index: `[B]` int, the rows whose windows to rebuild.
    history_length: k >= 1, a Python int (it fixes the output shape).

  Returns:
    `[B, k, obs_size]`, oldest first; `obs[index][:, None]` for k = 1.
  """
  if not isinstance(history_length, int) or history_length < 1:
    raise ValueError(
        f'history_length must be an int >= 1, got {history_length!r}')
  rows = [index]
  for _ in range(history_length - 1):
    rows.append(prev[rows[-1]])
  return obs[jnp.stack(rows[::-1], axis=1)]


def links(done: jax.Array, first_row: jax.Array) -> jax.Array:
  """The predecessor links of `[T, B]` steps about to be added to a dataset.

  Args:
    done: `[T, B]` bool, whether an episode ended at each step. Step 0 of
      every stream starts an episode (a rollout resets its environments; a
      demonstration stream starts with an episode).
    first_row: int scalar, the dataset row step `(0, 0)` will get: `add`
      writes the steps row-major, step `(t, b)` to `first_row + t * B + b`.

  Returns:
    int32 `[T, B]`: each step's previous step's row, its own where an
    episode starts.
  """
  steps, streams = done.shape
  row = (jnp.asarray(first_row, jnp.int32) +
         jnp.arange(steps * streams, dtype=jnp.int32).reshape(steps, streams))
  starts = jnp.concatenate(
      [jnp.ones((1, streams), bool), jnp.asarray(done, bool)[:-1]], axis=0)
  return jnp.where(starts, row, row - streams)
