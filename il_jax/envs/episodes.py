"""Statistics of ended episodes, read from a wrapped environment's state."""

import jax
import jax.numpy as jnp
from brax.envs.base import State

from il_jax.types import EpisodeStats


def episode_stats(state: State) -> EpisodeStats:
  """The episodes that ended at this step of a `wrap`-ped environment.

  Args:
    state: state of an environment built by `il_jax.envs.wrap`, batch `[B]`.

  Returns:
    EpisodeStats with fields of shape `[B]`, valid where `done`.
  """
  done = state.done.astype(bool)
  metrics = state.info['episode_metrics']
  return EpisodeStats(
      done=done,
      return_=metrics['sum_reward'],
      length=metrics['length'],
      truncated=done & state.info['truncation'].astype(bool))


def summarize_episodes(stats: EpisodeStats) -> dict[str, jax.Array]:
  """Mean/std/min/max return and mean length over the ended episodes.

  Args:
    stats: EpisodeStats of any shape, e.g. `[T, B]` stacked over a rollout.

  Returns:
    Scalars: `num_episodes`, `return_mean`, `return_std`, `return_min`,
    `return_max`, `length_mean`, `truncated_fraction`. With no ended episode
    the statistics are NaN, so an empty evaluation cannot pass for a score.
  """
  done = stats.done
  count = jnp.sum(done)
  safe = jnp.maximum(count, 1)
  nan_if_empty = jnp.where(count > 0, 0.0, jnp.nan)

  def mean(x):
    return jnp.sum(jnp.where(done, x, 0.0)) / safe + nan_if_empty

  return_mean = mean(stats.return_)
  return_var = mean(jnp.square(stats.return_ - return_mean))
  return {
      'num_episodes': count,
      'return_mean': return_mean,
      'return_std': jnp.sqrt(return_var),
      'return_min': jnp.min(jnp.where(done, stats.return_, jnp.inf)) +
                    nan_if_empty,
      'return_max': jnp.max(jnp.where(done, stats.return_, -jnp.inf)) +
                    nan_if_empty,
      'length_mean': mean(stats.length),
      'truncated_fraction': mean(stats.truncated.astype(jnp.float32)),
  }
