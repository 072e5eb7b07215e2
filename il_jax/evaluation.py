"""Deterministic evaluation over full episodes, in parallel."""

import jax
import jax.numpy as jnp

from il_jax import envs
from il_jax.types import PRNGKey


def evaluate(act, env, key: PRNGKey, n_episodes: int,
             episode_length: int) -> dict[str, jax.Array]:
  """Return statistics of `n_episodes` episodes, one per parallel env.

  Each of the `n_episodes` environments runs `episode_length` steps; only its
  first episode counts (an auto-reset environment that fell early starts a
  second one, which would bias the average towards short episodes), and the
  time limit guarantees that first episode ends within those steps.

  Args:
    act: `obs [n_episodes, obs_size] -> action [n_episodes, A]`, e.g. a
      policy's `mode` with its parameters bound.
    env: a `wrap`-ped environment with that `episode_length`.
    key: PRNG key for the initial states.
    n_episodes: number of episodes (parallel environments).
    episode_length: the wrapped environment's time limit.

  Returns:
    `envs.summarize_episodes` of the episodes: `return_mean`, `return_std`,
    `return_min`, `return_max`, `length_mean`, `num_episodes`, ...
  """
  state = env.reset(jax.random.split(key, n_episodes))

  def step(carry, _):
    state, ended = carry
    state = env.step(state, act(state.obs))
    stats = envs.episode_stats(state)
    first = stats.done & ~ended
    return (state, ended | stats.done), stats._replace(done=first)

  _, stats = jax.lax.scan(step, (state, jnp.zeros(n_episodes, bool)), None,
                          length=episode_length)
  return envs.summarize_episodes(stats)
