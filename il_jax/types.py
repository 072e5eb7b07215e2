"""Names for the types shared across il_jax, defined once."""

from typing import Any, NamedTuple

import jax

PRNGKey = jax.Array
Params = Any
Observation = jax.Array
Action = jax.Array
Metrics = dict[str, jax.Array]


class EpisodeStats(NamedTuple):
  """Statistics of the episodes that ended at one step, batched like `done`.

  Each field has the batch shape of the environment state, e.g. `[B]`; it is
  only meaningful where `done` is true (an episode ended at this step).
  """
  done: jax.Array        # bool: an episode ended at this step
  return_: jax.Array     # float: sum of rewards of the ended episode
  length: jax.Array      # float: steps in the ended episode
  truncated: jax.Array   # bool: ended by the time limit, not by termination


class Batch(NamedTuple):
  """Supervised imitation data: observations and the expert's action labels.

  Shapes: `obs: [N, obs_size]`, `action: [N, action_size]`.
  """
  obs: jax.Array
  action: jax.Array


class Transition(NamedTuple):
  """One step of a data-collection rollout, batched `[B]` or `[T, B]`.

  Attributes:
    obs: `[..., obs_size]` observation at which the action was chosen.
    action: `[..., action_size]` action executed in the environment.
    expert_action: `[..., action_size]` the expert's action at `obs` (the
      label DAgger aggregates), whoever was in control.
    reward: `[...]` reward of the step.
    done: `[...]` whether an episode ended at this step.
    expert_controlled: `[...]` bool, whether the executed action was the
      expert's.
    episode: statistics of the episodes that ended at this step.
  """
  obs: jax.Array
  action: jax.Array
  expert_action: jax.Array
  reward: jax.Array
  done: jax.Array
  expert_controlled: jax.Array
  episode: EpisodeStats
