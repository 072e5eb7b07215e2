"""Goal-conditioned behavioral cloning (GCBC) with hindsight relabelling.

    dataset <- the demonstrator's trajectories, goals relabelled; train
    repeat: the demonstrator adds `steps_per_iter` steps of trajectories,
            goals relabelled; retrain on all of it

The demonstrator is 'play' (the environment's expert steering to waypoints
of the training goal region, a new one every `WAYPOINT_STEPS` steps, plus
`demo_noise` noise: a behaviour that never aims at the episode's goal) or
'expert' (the expert demonstrating the episode's goal, as BC's
demonstrations). Play is labelled by the actions it executed: GCBC learns
what was done, given where it led (`il_jax.data.relabel`). The expert is
labelled by its noiseless actions, as BC's demonstrations are. The learner
never acts in the environment except to be evaluated, so the data grow
whatever it learns: iteration i trains on `expert_steps + i *
steps_per_iter` rows, which makes `Dataset_Size` a label-efficiency axis;
`Expert_Labels` counts the rows the expert labelled (none, with play).

A policy is goal-conditioned here when it sees the whole observation, goal
included (every family over the environment's observation does:
`envs.goals.check_sees_goal`). DAgger and HG-DAgger need nothing new on a
goal-reaching environment: the expert labels the learner's states for the
goal each episode commands.
"""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp

from il_jax import data, envs, rollout
from il_jax.algorithms import core
from il_jax.config import ImitationConfig
from il_jax.data import relabel as relabelling
from il_jax.envs import goals
from il_jax.envs.validation import check_choice
from il_jax.types import Metrics

DEMONSTRATORS = ('play', 'expert')
RELABEL = ('none',) + relabelling.STRATEGIES
# Steps play steers to one waypoint before drawing the next (and at the
# start of every episode): ~the expert's time to reach a goal in `reach`.
WAYPOINT_STEPS = 10


@dataclasses.dataclass(frozen=True)
class GCBCConfig(ImitationConfig):
  """GCBC: the shared config plus where the data come from and how their
  goals are relabelled.

  Attributes (besides `ImitationConfig`'s):
    demonstrator: who makes the data: 'play' (needs a goal-reaching
      environment) or 'expert' (see the module docstring). `demo_noise` is
      the std of the Gaussian noise either adds to the actions it executes.
    relabel: the goal each row is labelled with: 'none' (the episode's own,
      as observed), 'final' (the position its episode reached last) or
      'future' (that reached at a uniformly drawn later step, HER's
      strategy); the last two need a goal-reaching environment.
  """
  demonstrator: str = 'play'
  relabel: str = 'future'

  TRACED: ClassVar[tuple[str, ...]] = ImitationConfig.TRACED

  def __post_init__(self):
    super().__post_init__()
    check_choice('demonstrator', self.demonstrator, DEMONSTRATORS)
    check_choice('relabel', self.relabel, RELABEL)


def play_actor(env, expert: core.ExpertFn, noise_std: float
               ) -> rollout.Actor:
  """The play behaviour in a batch of environments: `expert` acting as if
  the goal were a waypoint drawn by `env.sample_play_goal`, a new one at
  every episode's start and every `WAYPOINT_STEPS` steps, plus `N(0,
  noise_std^2)` noise per action dimension, clipped to the action bounds.

  Args:
    env: a goal-reaching environment (see `envs.goals`).
    expert: `obs [B, obs_size] -> action [B, A]`, reading the goal from
      `obs[:, env.goal_slice]`.
    noise_std: the noise's std (>= 0).

  Returns:
    An actor whose state is `(waypoint [B, G], steps_left [B] int32)` and
    whose record is None.
  """
  low, high = envs.action_bounds(env)

  def act(state, obs, done, key):
    waypoint, steps_left = state
    waypoint_key, noise_key = jax.random.split(key)
    fresh = jax.vmap(env.sample_play_goal)(
        jax.random.split(waypoint_key, obs.shape[0]))
    renew = done | (steps_left <= 0)
    waypoint = jnp.where(renew[:, None], fresh, waypoint)
    steps_left = jnp.where(renew, WAYPOINT_STEPS, steps_left) - 1
    action = expert(obs.at[:, env.goal_slice].set(waypoint))
    action = action + noise_std * jax.random.normal(noise_key, action.shape)
    return jnp.clip(action, low, high), (waypoint, steps_left), None

  def init(batch_size):
    # No steps left: the first step draws every environment's waypoint.
    return (jnp.zeros((batch_size, goals.goal_size(env)), jnp.float32),
            jnp.zeros(batch_size, jnp.int32))

  return rollout.Actor(act=act, init=init)


def with_relabel_draws(actor: rollout.Actor) -> rollout.Actor:
  """`actor` whose record is `(its record, draws [B])`: one uniform draw in
  [0, 1) per step and environment for `relabel_goals` ('future')."""

  def act(state, obs, done, key):
    actor_key, draw_key = jax.random.split(key)
    action, state, record = actor.act(state, obs, done, actor_key)
    return action, state, (record, jax.random.uniform(draw_key,
                                                      obs.shape[:1]))

  return rollout.Actor(act=act, init=actor.init)


def make_collector(config: GCBCConfig) -> core.Collector:
  """The demonstrator's data, at the start and every iteration after it."""

  def demonstrator(ctx) -> rollout.Actor:
    if config.demonstrator == 'play':
      actor = play_actor(ctx.env, ctx.expert, config.demo_noise)
    elif config.demo_noise > 0:
      # As BC's noisy demonstrations: the noisy expert drives, the noiseless
      # one labels.
      actor = rollout.mixture(
          rollout.with_action_noise(ctx.expert, config.demo_noise),
          ctx.expert, beta=0.0)
    else:
      actor = rollout.mixture(lambda obs, _: ctx.expert(obs), ctx.expert,
                              beta=1.0)
    return with_relabel_draws(actor)

  def rows(ctx, steps: rollout.Step):
    """`(obs, label, expert_controlled)` of `steps [T, B]`, goals
    relabelled."""
    record, draws = steps.record
    if config.demonstrator == 'play':
      label, controlled = steps.action, jnp.zeros_like(steps.done)
    else:
      label, controlled = record.expert_action, record.expert_controlled
    obs = steps.obs
    if config.relabel != 'none':
      obs = relabelling.relabel_goals(
          obs, steps.final_obs, steps.done, draws, config.relabel,
          ctx.env.goal_slice, ctx.env.achieved_goal)
    return obs, label, controlled

  def demonstrate(ctx, key):
    steps, = rollout.run(ctx.env, [rollout.part(
        demonstrator(ctx), key, config.num_envs,
        config.expert_steps_per_env)])
    return (*rows(ctx, steps), steps.episode)

  def actor(ctx, params, stats, dataset, algo_state, i, key):
    return demonstrator(ctx), algo_state

  def expert_labels(rows: jax.Array) -> Metrics:
    # Play's labels are its own actions: it never queries the expert.
    return {'Expert_Labels': rows if config.demonstrator == 'expert' else
            jnp.zeros((), jnp.int32)}

  def aggregate(ctx, dataset, algo_state, steps, i):
    obs, label, controlled = rows(ctx, steps)
    dataset = data.add(dataset, obs, label, {'expert_controlled': controlled})
    return dataset, algo_state, expert_labels(dataset.size)

  return core.Collector(
      init=lambda ctx: {}, actor=actor, aggregate=aggregate,
      demo_metrics=lambda ctx, algo_state: expert_labels(
          jnp.asarray(config.expert_steps, jnp.int32)),
      demonstrate=demonstrate)


def check(config: GCBCConfig, env, policy) -> None:
  """Raises ValueError for play or relabelling without a goal-reaching
  environment."""
  if config.demonstrator == 'play':
    goals.check_goal_env(env, "gcbc's demonstrator='play'")
  if config.relabel != 'none':
    goals.check_goal_env(env, f'gcbc\'s relabel={config.relabel!r}')


ALGORITHM = core.Algorithm(name='gcbc', config_class=GCBCConfig,
                           make_collector=make_collector, check=check)
make_train_fns = ALGORITHM.make_train_fns
make_train = ALGORITHM.make_train
