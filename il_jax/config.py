"""Frozen, hashable configurations, validated when built."""

import dataclasses
import math

from il_jax.envs.validation import (check_choice, check_fraction,
                                    check_non_negative, check_positive)

BETA_SCHEDULES = ('dagger', 'constant', 'linear', 'exponential')


@dataclasses.dataclass(frozen=True)
class ImitationConfig:
  """Configuration of BC and DAgger runs (CS285 homework defaults).

  The defaults are the CS285 Walker2d protocol: 2 expert trajectories of 1000
  steps, 1000 environment steps per DAgger iteration, 10 iterations of 1000
  gradient steps at batch 100 and learning rate 5e-3, evaluated over 5000
  steps (5 episodes of 1000).

  Attributes:
    n_iter: iterations; each trains, evaluates and (DAgger, from the second
      on) collects learner data relabelled by the expert.
    num_envs: environments stepping in parallel when collecting data.
    expert_steps_per_env: steps of expert demonstrations per environment
      (the initial dataset has `num_envs * expert_steps_per_env` rows).
    steps_per_iter: environment steps collected per DAgger iteration, in
      total over the `num_envs` environments (must divide evenly).
    train_steps_per_iter: gradient steps per iteration.
    train_batch_size: minibatch size of each gradient step.
    learning_rate: Adam learning rate.
    max_grad_norm: global gradient-norm clip (inf for none).
    beta_schedule: how the probability of executing the expert's action
      decays over iterations: 'dagger' (1 for the expert data, then 0, as in
      the CS285 homework), 'constant' (`beta`), 'linear' (`beta` to 0 over the
      run) or 'exponential' (`beta * beta_decay**(i - 1)` at iteration i >= 1).
    beta: the schedule's initial (or constant) mixing probability.
    beta_decay: the exponential schedule's factor per iteration.
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
  """
  n_iter: int = 10
  num_envs: int = 2
  expert_steps_per_env: int = 1000
  steps_per_iter: int = 1000
  train_steps_per_iter: int = 1000
  train_batch_size: int = 100
  learning_rate: float = 5e-3
  max_grad_norm: float = math.inf
  beta_schedule: str = 'dagger'
  beta: float = 1.0
  beta_decay: float = 0.5
  eval_episodes: int = 5
  episode_length: int = 1000
  normalize_observations: bool = False
  demo_noise: float = 0.0
  ema_decay: float = 0.0

  def __post_init__(self):
    for name in ('n_iter', 'num_envs', 'expert_steps_per_env',
                 'steps_per_iter', 'train_steps_per_iter', 'train_batch_size',
                 'eval_episodes', 'episode_length'):
      check_positive(name, getattr(self, name), integer=True)
    check_positive('learning_rate', self.learning_rate)
    check_positive('max_grad_norm', self.max_grad_norm, allow_inf=True)
    check_choice('beta_schedule', self.beta_schedule, BETA_SCHEDULES)
    for name in ('beta', 'beta_decay'):
      check_fraction(name, getattr(self, name))
    check_non_negative('demo_noise', self.demo_noise)
    check_fraction('ema_decay', self.ema_decay, include_one=False)
    if self.steps_per_iter % self.num_envs:
      raise ValueError(
          f'steps_per_iter={self.steps_per_iter} is not valid; expected a '
          f'multiple of num_envs={self.num_envs} (every environment collects '
          'the same number of steps).')

  @property
  def steps_per_env(self) -> int:
    """Steps each environment collects per DAgger iteration."""
    return self.steps_per_iter // self.num_envs

  @property
  def expert_steps(self) -> int:
    """Rows of expert demonstrations in the initial dataset."""
    return self.num_envs * self.expert_steps_per_env

  def dataset_capacity(self, aggregate: bool) -> int:
    """Rows the dataset needs: the demonstrations plus, with aggregation,
    `steps_per_iter` rows for every iteration after the first."""
    collected = (self.n_iter - 1) * self.steps_per_iter if aggregate else 0
    return self.expert_steps + collected


GATES = ('discrepancy', 'ensemble', 'safety')
RELEASE_RULES = ('window', 'agreement')


@dataclasses.dataclass(frozen=True)
class HGDAggerConfig(ImitationConfig):
  """HG-DAgger: the expert takes over when a gate fires, and only its
  corrections are aggregated.

  Attributes (besides ImitationConfig's; `beta_*` are unused):
    gate: when the expert intervenes: 'discrepancy' (the learner's action is
      far from the expert's: a simulated human watching), 'ensemble' (an
      ensemble policy's members disagree: automatic, no expert query needed
      to decide) or 'safety' (the state is close to termination).
    threshold: intervene when the gate value exceeds it; None sets it every
      iteration to the `threshold_quantile` of the gate values seen in the
      previous iteration (the demonstrations, for the first collection).
    threshold_quantile: see `threshold`.
    release: when the expert hands control back: 'window' (after
      `min_control_steps` steps) or 'agreement' (after at least
      `min_control_steps` steps, once the learner's proposal is within
      `release_tolerance` of the expert's action).
    min_control_steps: minimum steps of each intervention.
    release_tolerance: distance (L2) for the 'agreement' rule.
  """
  gate: str = 'discrepancy'
  threshold: float | None = None
  threshold_quantile: float = 0.9
  release: str = 'window'
  min_control_steps: int = 10
  release_tolerance: float = 0.1

  def __post_init__(self):
    super().__post_init__()
    check_choice('gate', self.gate, GATES)
    check_choice('release', self.release, RELEASE_RULES)
    check_positive('min_control_steps', self.min_control_steps, integer=True)
    check_positive('release_tolerance', self.release_tolerance)
    # A threshold of inf never intervenes and -inf always does; NaN would
    # silently never intervene.
    if self.threshold is not None and (
        isinstance(self.threshold, bool) or
        not isinstance(self.threshold, (int, float)) or
        math.isnan(self.threshold)):
      raise ValueError(f'threshold={self.threshold!r} is not valid; expected '
                       'a number (inf: never intervene, -inf: always) or '
                       'None.')
    check_fraction('threshold_quantile', self.threshold_quantile)
