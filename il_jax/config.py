"""The configuration every imitation algorithm shares; each algorithm's own
config subclasses it in its module (e.g. `algorithms.dagger.DAggerConfig`)."""

import dataclasses
import math
from typing import ClassVar

import jax.numpy as jnp

from il_jax.envs.validation import (check_choice, check_fraction,
                                    check_non_negative, check_positive)
from il_jax.types import HyperParams

# What `ImitationConfig.out_of_bounds_labels` may be.
OUT_OF_BOUNDS_LABELS = ('clip', 'error')


@dataclasses.dataclass(frozen=True)
class ImitationConfig:
  """Configuration of an imitation run: BC's whole config, and the base of
  every other algorithm's.

  The defaults are a small protocol for the toy environments: the CS285
  homework's numbers, except that two environments collect in parallel
  (2 x 1000 demonstration steps, 2 x 500 steps per iteration). The CS285
  Walker2d protocol itself is `CS285_WALKER2D`.

  Attributes:
    n_iter: iterations; each trains, evaluates and (for an aggregating
      algorithm) collects the next iteration's data.
    num_envs: environments stepping in parallel when collecting data.
    expert_steps_per_env: steps of expert demonstrations per environment
      (the initial dataset has `num_envs * expert_steps_per_env` rows).
    steps_per_iter: environment steps an aggregating algorithm collects per
      iteration, in total over the `num_envs` environments (must divide
      evenly).
    train_steps_per_iter: gradient steps per iteration.
    train_batch_size: minibatch size of each gradient step.
    learning_rate: Adam learning rate.
    max_grad_norm: global gradient-norm clip (inf for none).
    eval_episodes: episodes per evaluation, run in parallel.
    episode_length: time limit of an episode.
    normalize_observations: whether the policy sees observations normalised
      by the mean/std of the current dataset.
    demo_noise: std of Gaussian noise added, per action dimension, to the
      actions the expert executes while demonstrating (clipped to [-1, 1]);
      the labels stay its noiseless actions. 0 for clean demonstrations;
      above 0 the demonstrations visit the states the expert's own errors
      lead to and record its corrections there (DART, Laskey et al. 2017).
    ema_decay: decay, per gradient step, of an exponential moving average of
      the policy's parameters; above 0 the policy collects and is evaluated
      with the average (Polyak averaging, which smooths out the last
      iterate's minibatch noise) while training continues from the last
      iterate. 0 acts with the last iterate, as the homework does.
    out_of_bounds_labels: what happens to an expert label outside the
      environment's action bounds (`envs.action_bounds`), which the
      simulator would clamp: 'clip' (the default) clips it to the bounds,
      so the policy learns the action that was in effect; 'error' keeps it
      and `experiment.run` refuses the run. Either way the metric
      `Labels_OutOfBounds` counts such labels in the data an iteration
      trains on.
  """
  n_iter: int = 10
  num_envs: int = 2
  expert_steps_per_env: int = 1000
  steps_per_iter: int = 1000
  train_steps_per_iter: int = 1000
  train_batch_size: int = 100
  learning_rate: float = 5e-3
  max_grad_norm: float = math.inf
  eval_episodes: int = 5
  episode_length: int = 1000
  normalize_observations: bool = False
  demo_noise: float = 0.0
  ema_decay: float = 0.0
  out_of_bounds_labels: str = 'clip'

  # Float fields traced as `HyperParams` (one value per vmapped member), so
  # that a sweep over them is one program; a subclass adds its own. A field
  # set to None is static (the algorithm's rule for None applies).
  TRACED: ClassVar[tuple[str, ...]] = ('learning_rate',)

  def __post_init__(self):
    for name in ('n_iter', 'num_envs', 'expert_steps_per_env',
                 'steps_per_iter', 'train_steps_per_iter', 'train_batch_size',
                 'eval_episodes', 'episode_length'):
      check_positive(name, getattr(self, name), integer=True)
    check_positive('learning_rate', self.learning_rate)
    check_positive('max_grad_norm', self.max_grad_norm, allow_inf=True)
    check_non_negative('demo_noise', self.demo_noise)
    check_fraction('ema_decay', self.ema_decay, include_one=False)
    check_choice('out_of_bounds_labels', self.out_of_bounds_labels,
                 OUT_OF_BOUNDS_LABELS)
    if self.steps_per_iter % self.num_envs:
      raise ValueError(
          f'steps_per_iter={self.steps_per_iter} is not valid; expected a '
          f'multiple of num_envs={self.num_envs} (every environment collects '
          'the same number of steps).')

  def hyperparams(self) -> HyperParams:
    """The `TRACED` fields as float32 scalars (NaN for a None field)."""
    return {name: jnp.asarray(
        jnp.nan if getattr(self, name) is None else getattr(self, name),
        jnp.float32) for name in self.TRACED}

  @property
  def steps_per_env(self) -> int:
    """Steps each environment collects per iteration."""
    return self.steps_per_iter // self.num_envs

  @property
  def expert_steps(self) -> int:
    """Rows of expert demonstrations in the initial dataset."""
    return self.num_envs * self.expert_steps_per_env

  def dataset_capacity(self, aggregate: bool,
                       demonstration_rows: int | None = None) -> int:
    """Rows the dataset needs: the demonstrations (`expert_steps` rows
    collected, or `demonstration_rows` given) plus, with aggregation,
    `steps_per_iter` rows for every iteration after the first."""
    collected = (self.n_iter - 1) * self.steps_per_iter if aggregate else 0
    if demonstration_rows is None:
      demonstration_rows = self.expert_steps
    return demonstration_rows + collected


# The CS285 homework's Walker2d protocol: 2 expert trajectories of 1000
# steps, 1000 learner steps relabelled per DAgger iteration (one environment,
# so a full episode when the learner stays up), 10 iterations of 1000
# gradient steps at batch 100 and learning rate 5e-3, and evaluation over 5
# episodes of 1000 steps.
CS285_WALKER2D = ImitationConfig(
    n_iter=10, num_envs=1, expert_steps_per_env=2000, steps_per_iter=1000,
    train_steps_per_iter=1000, train_batch_size=100, learning_rate=5e-3,
    eval_episodes=5, episode_length=1000)
