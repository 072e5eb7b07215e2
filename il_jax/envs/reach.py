"""Reach: a planar point mass that must reach the goal in its observation.

The MDP. A point mass at `p = (px, py)` with velocity `v` moves in the arena
`[-1, 1]^2`; its action `a` (two components in [-1, 1]) is an acceleration:

    v' = v + dt * 2 * clip(a, -1, 1)      (dt = 0.1 s),
    p' = clip(p + dt * v', -1, 1)     (a wall stops the motion into it).

`reset` starts it at rest at a uniform position in the goal box
`[-GOAL_EXTENT, GOAL_EXTENT]^2` and samples a goal `g` from the env's goal
region: 'train' goals lie in the box outside the central disc of radius
`HELD_OUT_RADIUS`, 'held_out' goals inside it. The episode terminates when
`|p' - g| < SUCCESS_RADIUS` (reward 1, metric `success` = 1; every other
step earns 0), so the return and the metric `success`, summed over an
episode, are 1 exactly in a successful episode: `Eval_success` is the
success rate. Observation `[px, py, vx, vy, gx, gy]`; the state
(`pipeline_state`) is the same vector.

Goals. The observation's `goal_slice` is the goal and `achieved_goal(obs)`
the position it is compared with, so that hindsight relabelling
(`il_jax.data.relabel`) can write a reached position where the goal was;
`sample_play_goal(key)` draws the training region's goals, at which a play
behaviour policy may aim (never the held-out ones).

The expert is a saturated PD controller towards the goal, `a = clip(4 (g -
p) - 2.5 v, -1, 1)`: from rest it reaches any goal of the box within ~25
steps.
"""

import jax
import jax.numpy as jnp
from brax.envs.base import State

from il_jax.envs.toy import ToyEnv
from il_jax.envs.validation import check_action, check_choice

# Goals (and starts) lie in [-GOAL_EXTENT, GOAL_EXTENT]^2, inside the arena.
GOAL_EXTENT = 0.8
# The held-out goals are those within this distance of the arena's centre.
HELD_OUT_RADIUS = 0.35
# A goal is reached within this distance.
SUCCESS_RADIUS = 0.1
GOAL_REGIONS = ('train', 'held_out')
_ARENA = 1.0
_MAX_ACCELERATION = 2.0
_DT = 0.1
_STIFFNESS = 4.0
_DAMPING = 2.5
# Candidates drawn per training goal: the first outside the held-out disc is
# kept (all 16 fall inside it with probability 0.15**16).
_CANDIDATES = 16


class Reach(ToyEnv):
  """Planar point-mass goal reaching; analytic PD expert.

  Unbatched: `reset(rng)` takes one key `[2]`, `step` one action `[2]`;
  batch with `il_jax.envs.wrap`. See the module docstring for the MDP.
  """

  default_episode_length: int = 50
  # The goal's dimensions of the observation, and of `achieved_goal`'s.
  goal_slice: slice = slice(4, 6)

  def __init__(self, goal_region: str = 'train'):
    """Builds the environment.

    Args:
      goal_region: where `reset` samples goals: 'train' (the goal box
        outside the central held-out disc) or 'held_out' (inside it), for
        evaluating on goals that training never aimed at.

    Raises:
      ValueError: for an unknown region.
    """
    check_choice('goal_region', goal_region, GOAL_REGIONS)
    self._held_out = goal_region == 'held_out'

  @property
  def observation_size(self) -> int:
    return 6

  @property
  def action_size(self) -> int:
    return 2

  def reset(self, rng: jax.Array) -> State:
    """At rest at a uniform position, with a goal of the region. rng: [2]."""
    position_key, goal_key = jax.random.split(rng)
    position = jax.random.uniform(position_key, (2,), minval=-GOAL_EXTENT,
                                  maxval=GOAL_EXTENT)
    goal = (sample_held_out_goal(goal_key) if self._held_out else
            self.sample_play_goal(goal_key))
    physics = jnp.concatenate([position, jnp.zeros(2), goal]).astype(
        jnp.float32)
    zero = jnp.zeros((), jnp.float32)
    return State(pipeline_state=physics, obs=physics, reward=zero, done=zero,
                 metrics={'success': zero}, info={})

  def step(self, state: State, action: jax.Array) -> State:
    """One semi-implicit Euler step. action: [2], clipped to [-1, 1]."""
    check_action('reach', action, self.action_size)
    position, velocity, goal = (state.pipeline_state[0:2],
                                state.pipeline_state[2:4],
                                state.pipeline_state[4:6])
    velocity = velocity + _DT * _MAX_ACCELERATION * jnp.clip(
        action, -1.0, 1.0)
    moved = position + _DT * velocity
    position = jnp.clip(moved, -_ARENA, _ARENA)
    velocity = jnp.where(moved == position, velocity, 0.0)
    physics = jnp.concatenate([position, velocity, goal])
    success = (jnp.linalg.norm(position - goal) < SUCCESS_RADIUS).astype(
        jnp.float32)
    return state.replace(
        pipeline_state=physics, obs=physics, reward=success, done=success,
        # Keeps metrics that wrappers added, as brax's own environments do.
        metrics={**state.metrics, 'success': success})

  def achieved_goal(self, obs: jax.Array) -> jax.Array:
    """The position, in the goal's coordinates. obs: [..., 6] -> [..., 2]."""
    return obs[..., 0:2]

  def sample_play_goal(self, key: jax.Array) -> jax.Array:
    """A goal `[2]` of the training region: uniform in the goal box outside
    the held-out disc."""
    candidates = jax.random.uniform(key, (_CANDIDATES, 2),
                                    minval=-GOAL_EXTENT, maxval=GOAL_EXTENT)
    outside = jnp.linalg.norm(candidates, axis=-1) >= HELD_OUT_RADIUS
    return candidates[jnp.argmax(outside)]

  def expert_action(self, obs: jax.Array) -> jax.Array:
    """The saturated PD expert. obs: [..., 6] -> action [..., 2]."""
    position, velocity, goal = obs[..., 0:2], obs[..., 2:4], obs[..., 4:6]
    return jnp.clip(_STIFFNESS * (goal - position) - _DAMPING * velocity,
                    -1.0, 1.0)


def sample_held_out_goal(key: jax.Array) -> jax.Array:
  """A goal `[2]` uniform in the held-out disc."""
  radius_key, angle_key = jax.random.split(key)
  radius = HELD_OUT_RADIUS * jnp.sqrt(jax.random.uniform(radius_key))
  angle = 2 * jnp.pi * jax.random.uniform(angle_key)
  return radius * jnp.stack([jnp.cos(angle), jnp.sin(angle)])
