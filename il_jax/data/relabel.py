"""Hindsight goal relabelling: a trajectory teaches how to reach where it went.

Goal-conditioned imitation learns `pi(a | s, g)`. Data whose behaviour was
not aiming at the goal written in its observations (play, failed attempts)
teach nothing about that goal, but everything about the states they did
reach: relabelling writes, in the goal dimensions of each row's observation,
a goal the same episode achieved at that step or later (hindsight
experience replay's principle; Andrychowicz et al. 2017, Lynch et al. 2019).
The row's action label stays what was executed, which is then an action that
led to the goal.

Relabelling is done once, on a rollout `[T, B]`, before its rows enter the
dataset: the dataset stays a table of (observation, label) rows, so sampling
and the training step are those of every other algorithm, and a run that
does not relabel computes what it did before. (HER draws a fresh goal per
minibatch instead; here each iteration's new data get fresh draws, and the
goal of a row is fixed once it is in the dataset.)
"""

import jax
import jax.numpy as jnp

from il_jax.envs.validation import check_choice

# 'final': the goal achieved at the episode's last step in the rollout;
# 'future': that of a step drawn uniformly from the row's own step to that
# last step (HER's 'future' strategy, one draw per row).
STRATEGIES = ('final', 'future')


def episode_last_steps(done: jax.Array) -> jax.Array:
  """int32 `[T, B]`: for step t of stream b, the last step of its episode
  within the rollout: the first `t' >= t` where `done[t', b]`, or `T - 1`
  for an episode still running at the rollout's end.

  Args:
    done: bool `[T, B]`, whether an episode ended at each step.
  """
  steps = jnp.arange(done.shape[0], dtype=jnp.int32)[:, None]
  ends = jnp.where(done, steps, done.shape[0] - 1)
  return jax.lax.cummin(ends, axis=0, reverse=True)


def goal_steps(done: jax.Array, draws: jax.Array, strategy: str
               ) -> jax.Array:
  """int32 `[T, B]`: the step whose achieved goal relabels each step, within
  its own episode and not before it (see `STRATEGIES`).

  Args:
    done: bool `[T, B]`, whether an episode ended at each step.
    draws: `[T, B]` uniform in [0, 1), e.g. `jax.random.uniform(key,
      done.shape)`: 'future' maps each to a step of the rest of its episode;
      'final' ignores them.
    strategy: one of `STRATEGIES`.
  """
  check_choice('strategy', strategy, STRATEGIES)
  last = episode_last_steps(done)
  if strategy == 'final':
    return last
  steps = jnp.arange(done.shape[0], dtype=jnp.int32)[:, None]
  offset = jnp.floor(draws * (last - steps + 1)).astype(jnp.int32)
  return jnp.minimum(steps + offset, last)


def relabel_goals(obs: jax.Array, reached: jax.Array, done: jax.Array,
                  draws: jax.Array, strategy: str, goal_slice: slice,
                  achieved_goal) -> jax.Array:
  """`obs` with each row's goal replaced by one its episode achieved later.

  Row `(t, b)` gets `achieved_goal(reached[t', b])` for `t' = goal_steps(...)
  [t, b]`: the goal achieved by step `t'`, where `t <= t' <=` the last step
  of `t`'s episode in the rollout. Jittable and vmappable; nothing crosses
  an episode boundary (`done`) or another stream.

  Args:
    obs: `[T, B, obs_size]` the observations acted on.
    reached: `[T, B, obs_size]` the observation each step reached (before an
      auto-reset: `rollout.Step.final_obs`).
    done: bool `[T, B]`, whether an episode ended at each step.
    draws: `[T, B]` uniform in [0, 1) (see `goal_steps`).
    strategy: one of `STRATEGIES`.
    goal_slice: the goal's dimensions of an observation (static).
    achieved_goal: `obs [..., obs_size] -> goal [..., G]`, what an
      observation has achieved, in the goal's coordinates.

  Returns:
    `[T, B, obs_size]`, equal to `obs` outside `goal_slice`.
  """
  steps = goal_steps(done, draws, strategy)
  goal_obs = jnp.take_along_axis(reached, steps[..., None], axis=0)
  return obs.at[..., goal_slice].set(achieved_goal(goal_obs))
