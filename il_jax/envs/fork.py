"""Fork: a bimodal expert whose mean-of-modes action walks into an obstacle.

The MDP. A point agent at `(x, y)` (lateral, forward) starts at `(x0, 0)`,
a tiny lateral distance `x0 ~ U(-init_offset, init_offset)` off the centre
line, and walks forward at a constant unit speed while its action `[a]`
commands its lateral speed: `(x, y)' = (x, y) + dt * (clip(a, -1, 1), 1)`.
A disc of radius `obstacle_radius` stands on the centre line at
`(0, obstacle_distance)`; the goal is the line `y = goal_distance` beyond
it. The episode terminates on collision (the step's segment of path meets
the disc; reward -1, metric `collision` = 1) or on reaching the goal line
(reward +1, metric `success` = 1); every other step earns 0, so the mean
return is success rate minus collision rate, and with the wrapper's
episode metrics `success` sums to 1 exactly in successful episodes.
Observation and state (`pipeline_state`): `[x, y]`. With the defaults the
goal is 30 steps away.

The expert commits to the side it starts on (right when `x >= 0`) and
tracks a lateral line `obstacle_radius + 0.25` out on that side,
`a = clip(3 * (side * (obstacle_radius + 0.25) - x), -1, 1)`: a hard turn
at first (a 45-degree diagonal), easing onto the line. It is a deterministic
function of the observation, yet as the sign of `x0` is a coin flip it goes
left in half of the episodes and right in the other half.

What it teaches. At the start the demonstrations are bimodal: at
practically the same observation (|x| <= 1e-3 next to a spread of ~1 in x)
the label is a hard left in some episodes and a hard right in others. The
geometry is tight (the expert's diagonal clears the disc by 0.06; any
constant lateral speed below 0.9 hits it), so a regressor that outputs the
mean of the modes ("straight ahead") or a blend of imbalanced modes (a
weakened turn) collides, while a multimodal policy that samples one mode
and commits to it succeeds.

RESULTS.md ("fork: success rate per policy family") measures it per
policy family; its "Toy environments" section records how it was sized.
"""

import jax
import jax.numpy as jnp
from brax.envs.base import State

from il_jax.envs.toy import ToyEnv
from il_jax.envs.validation import check_action, check_positive

# How far beyond the obstacle's edge the expert passes it, and how stiffly it
# tracks that lateral line: it turns at full lateral speed until ~0.33 from
# the line, which with the default geometry clears the disc by 0.06.
_EXPERT_CLEARANCE = 0.25
_EXPERT_GAIN = 3.0


class Fork(ToyEnv):
  """Pass an obstacle on the left or right; analytic bimodal expert.

  Unbatched: `reset(rng)` takes one key `[2]`, `step` one action `[1]`; batch
  with `il_jax.envs.wrap`. See the module docstring for the MDP.
  """

  default_episode_length: int = 40

  def __init__(self,
               obstacle_radius: float = 1.0,
               obstacle_distance: float = 1.5,
               goal_distance: float = 3.0,
               init_offset: float = 1e-3,
               dt: float = 0.1):
    """Builds the environment.

    Args:
      obstacle_radius: radius of the disc in the way.
      obstacle_distance: forward distance from the start to the disc's centre.
      goal_distance: forward distance from the start to the goal line; must
        lie beyond the disc.
      init_offset: half-width of the uniform initial lateral offset, whose
        sign picks the expert's side; must be smaller than the radius.
      dt: time step (s); the agent moves `dt` forward and at most `dt`
        sideways per step.

    Raises:
      ValueError: if an option is not a positive number, the start or the
        goal line touches the disc, or the offset is not below the radius.
    """
    check_positive('obstacle_radius', obstacle_radius)
    check_positive('obstacle_distance', obstacle_distance)
    check_positive('goal_distance', goal_distance)
    check_positive('init_offset', init_offset)
    check_positive('dt', dt)
    if obstacle_distance <= obstacle_radius:
      raise ValueError(
          f'obstacle_distance={obstacle_distance!r} is not valid; expected '
          f'more than obstacle_radius={obstacle_radius!r} so that the agent '
          'does not start inside the obstacle.')
    if goal_distance <= obstacle_distance + obstacle_radius:
      raise ValueError(
          f'goal_distance={goal_distance!r} is not valid; expected more than '
          f'obstacle_distance + obstacle_radius = '
          f'{obstacle_distance + obstacle_radius!r} (the goal line lies '
          'beyond the obstacle).')
    if init_offset >= obstacle_radius:
      raise ValueError(
          f'init_offset={init_offset!r} is not valid; expected less than '
          f'obstacle_radius={obstacle_radius!r} (the agent starts in front '
          'of the obstacle).')
    self._radius = float(obstacle_radius)
    self._distance = float(obstacle_distance)
    self._goal = float(goal_distance)
    self._init_offset = float(init_offset)
    self._dt = float(dt)

  @property
  def observation_size(self) -> int:
    return 2


  def reset(self, rng: jax.Array) -> State:
    """Starts on the line y = 0, a tiny random distance off x = 0. rng: [2]."""
    x = jax.random.uniform(
        rng, (), minval=-self._init_offset, maxval=self._init_offset)
    position = jnp.stack([x, 0.0]).astype(jnp.float32)
    zero = jnp.zeros((), jnp.float32)
    return State(
        pipeline_state=position,
        obs=position,
        reward=zero,
        done=zero,
        metrics={'success': zero, 'collision': zero},
        info={})

  def step(self, state: State, action: jax.Array) -> State:
    """Moves by dt * (clip(action, -1, 1), 1). action: [1]."""
    check_action('fork', action, self.action_size)
    start = state.pipeline_state
    velocity = jnp.stack([jnp.clip(action[0], -1.0, 1.0), 1.0])
    end = start + self._dt * velocity
    centre = jnp.array([0.0, self._distance], jnp.float32)
    collision = (_distance_to_segment(centre, start, end) <
                 self._radius).astype(jnp.float32)
    # A step that both reaches the goal and grazes the disc is a collision.
    # The tolerance absorbs float32 drift in summing dt, so that the goal is
    # reached after exactly goal_distance / dt steps.
    reached = end[1] >= self._goal - 1e-4
    success = (1.0 - collision) * reached.astype(jnp.float32)
    return state.replace(
        pipeline_state=end,
        obs=end,
        reward=success - collision,
        done=jnp.maximum(success, collision),
        # Keeps metrics that wrappers added, as brax's own environments do.
        metrics={**state.metrics, 'success': success,
                 'collision': collision})

  def safety_margin(self, obs: jax.Array) -> jax.Array:
    """Distance from `obs [..., 2]` to the obstacle's edge: `[...]`, >= 0.

    HG-DAgger's 'safety' gate intervenes where it is small.
    """
    centre = jnp.array([0.0, self._distance], jnp.float32)
    distance = jnp.linalg.norm(obs - centre, axis=-1)
    return jnp.maximum(distance - self._radius, 0.0)

  def expert_action(self, obs: jax.Array) -> jax.Array:
    """The side-committed expert. obs: [..., 2] -> action [..., 1]."""
    x = obs[..., 0:1]
    side = jnp.where(x >= 0.0, 1.0, -1.0)
    lane = side * (self._radius + _EXPERT_CLEARANCE)
    return jnp.clip(_EXPERT_GAIN * (lane - x), -1.0, 1.0)


def _distance_to_segment(point: jax.Array, start: jax.Array,
                         end: jax.Array) -> jax.Array:
  """Distance from `point` to the segment [start, end]; all [2] -> scalar.

  Checking the whole segment, not just its end, keeps a fast agent from
  stepping through the edge of the disc.
  """
  direction = end - start
  length_sq = jnp.maximum(jnp.sum(jnp.square(direction)), 1e-12)
  t = jnp.clip(jnp.dot(point - start, direction) / length_sq, 0.0, 1.0)
  return jnp.linalg.norm(start + t * direction - point)
