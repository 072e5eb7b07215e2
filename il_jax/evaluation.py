"""Deterministic evaluation over full episodes, in parallel."""

from typing import Any

import jax
import jax.numpy as jnp

from il_jax import envs, rollout
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
    `summarize` of the rollout.
  """
  steps, = rollout.run(env, [part(act, key, n_episodes, episode_length)])
  return summarize(steps, action_bounds=envs.action_bounds(env))


def part(act, key: PRNGKey, n_episodes: int,
         episode_length: int) -> rollout.Part:
  """`evaluate`'s rollout (same arguments) as a `rollout.Part`, to run
  beside others."""
  return actor_part(rollout.deterministic(act), key, n_episodes,
                    episode_length)


def actor_part(actor: rollout.Actor, key: PRNGKey, n_episodes: int,
               episode_length: int) -> rollout.Part:
  """`part` for any deterministic actor that draws no keys (e.g. a history
  policy's, which keeps its window in its state)."""
  return rollout.Part(actor=actor,
                      reset_keys=jax.random.split(key, n_episodes),
                      step_keys=None, num_steps=episode_length)


def summarize(steps: rollout.Step,
              action_bounds: tuple[Any, Any] | None = None
              ) -> dict[str, jax.Array]:
  """Statistics of the first episode of every environment of a rollout.

  Args:
    steps: `[T, n]`, long enough for every environment's first episode to
      end.
    action_bounds: the environment's `(low [A], high [A])`; with them,
      `action_at_bounds` is the fraction of the policy's action components,
      over the first episodes' steps, at or beyond a bound (where the
      simulator clamps it).

  Returns:
    `envs.summarize_episodes` of the first episodes: `return_mean`,
    `return_std`, `return_min`, `return_max`, `length_mean`, `num_episodes`,
    ..., and `metric_<name>`: the per-episode sum of each of the
    environment's metrics, averaged over the episodes (e.g. `metric_success`
    on fork is the success rate).
  """
  done = steps.done
  first = done & (jnp.cumsum(done, axis=0) == 1)
  summary = envs.summarize_episodes(steps.episode._replace(done=first))
  count = jnp.maximum(jnp.sum(first), 1)
  for name, value in steps.episode_metrics.items():
    summary[f'metric_{name}'] = jnp.sum(jnp.where(first, value, 0.0)) / count
  if action_bounds is not None:
    low, high = action_bounds
    in_first = (jnp.cumsum(done, axis=0) - done) == 0  # [T, n]
    at_bounds = jnp.mean((steps.action <= low) | (steps.action >= high),
                         axis=-1)
    summary['action_at_bounds'] = (
        jnp.sum(jnp.where(in_first, at_bounds, 0.0)) /
        jnp.maximum(jnp.sum(in_first), 1))
  return summary


def evaluate_in(act, env, n_episodes: int, seed: int = 0,
                episode_length: int | None = None) -> dict[str, float]:
  """`evaluate` in an unwrapped environment, compiled, as host floats.

  Wraps `env` (e.g. `envs.make(...)`) with its default time limit (or
  `episode_length`) and runs `n_episodes` parallel episodes from the initial
  states of `PRNGKey(seed)`; `act` is as in `evaluate`.
  """
  length = episode_length or env.default_episode_length
  wrapped = envs.wrap(env, episode_length=length)
  summary = jax.jit(lambda key: evaluate(act, wrapped, key, n_episodes,
                                         length))(jax.random.PRNGKey(seed))
  return {k: float(v) for k, v in jax.device_get(summary).items()}


def eval_metrics(summary: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """`evaluate`'s summary under the metric names CS285 users know."""
  return {
      'Eval_AverageReturn': summary['return_mean'],
      'Eval_StdReturn': summary['return_std'],
      'Eval_MaxReturn': summary['return_max'],
      'Eval_MinReturn': summary['return_min'],
      'Eval_AverageEpLen': summary['length_mean'],
      'Eval_NumEpisodes': summary['num_episodes'],
      **({'Eval_ActionAtBounds': summary['action_at_bounds']}
         if 'action_at_bounds' in summary else {}),
  }


def env_metrics(summary: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """The environment's own metrics in `summarize`'s summary as
  `Eval_<name>` (e.g. `Eval_success`)."""
  return {f'Eval_{name[len("metric_"):]}': value
          for name, value in summary.items() if name.startswith('metric_')}
