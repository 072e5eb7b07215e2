"""The types shared across il_jax, defined once: array aliases, rollout
records (`Transition`), supervised batches and a run's state (`TrainState`,
with its traced `HyperParams`)."""

from typing import Any, NamedTuple

import flax.struct
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


# A run's continuous hyper-parameters as traced float32 scalars, by config
# field name (`ImitationConfig.TRACED`, e.g. 'learning_rate', DAgger's
# 'beta'). They live in `TrainState` (the learning rate also in the
# optimiser's state), so a vmapped state carries one value per member: a
# sweep over them is one compiled program, and a checkpoint keeps them.
HyperParams = dict[str, jax.Array]


@flax.struct.dataclass
class TrainState:
  """Everything a run needs to continue: resume is restoring this.

  Attributes:
    params: policy parameters.
    opt_state: optimiser state (`optax.inject_hyperparams`' state).
    dataset: the aggregated on-device dataset (`il_jax.data.Dataset`): the
      data the next iteration trains on.
    key: PRNG key for the next iteration.
    iteration: int32, iterations completed.
    env_steps: int32, environment steps of the data reported so far
      (demonstrations, collection and evaluation); the collection that an
      iteration runs for the next one is counted by the next one.
    expert_return: mean return of the demonstrations (the noisy expert's
      when `demo_noise > 0`).
    data_metrics: the metrics of the data the next iteration trains on
      (`Train_AverageReturn`, `Train_StdReturn`, `Train_NumEpisodes` and the
      collector's own), which that iteration reports: the last iteration
      collected them (the demonstrations' before the first).
    algo_state: the collector's own state (see
      `il_jax.algorithms.core.Collector.init`).
    hparams: the run's traced hyper-parameters (`HyperParams`).
    averaged_params: the moving average of `params` when the config's
      `ema_decay > 0`, else None.
  """
  params: Params
  opt_state: Any
  dataset: Any
  key: PRNGKey
  iteration: jax.Array
  env_steps: jax.Array
  expert_return: jax.Array
  data_metrics: Metrics
  algo_state: Any
  hparams: HyperParams
  averaged_params: Params | None = None

  @property
  def acting_params(self) -> Params:
    """The parameters the policy collects and is evaluated with: the
    average if there is one, else the last iterate."""
    return self.params if self.averaged_params is None else (
        self.averaged_params)
