"""Walker2d on MuJoCo-MJX, faithful to Gymnasium's Walker2d-v4 (and v5).

Model, frame skip (4 x 0.002 s), observation (`qpos[1:]` and `qvel` clipped to
+-10: 17 numbers), reward (forward velocity + healthy bonus - 1e-3 |a|^2),
termination (torso height in (0.8, 2.0), torso angle in (-1, 1)) and reset
noise (+-5e-3 on qpos and qvel) follow Gymnasium, so returns compare with
published Walker2d-v4 numbers. `version='v5'` gives v5's right-foot friction
(and v5's healthy bonus, paid only while healthy).

The MuJoCo solver settings trade fidelity for speed and come as presets:
- `gpu` (default): Euler integration, at most three Newton iterations and
  two line-search iterations. On a GPU a step costs its sequential control
  flow (a solver `while` or line-search `scan` trip can wait on the host),
  not its arithmetic: this is the cheapest setting found under which both
  shipped experts keep their Gymnasium returns (within 1 %, no falls over
  64 episodes), at 40 loop trips per step against `fast`'s 324
  (BENCHMARKS.md, "Walker2d solver settings": two Newton iterations, one
  line-search iteration, or RK4 with one Newton iteration make an expert
  fall).
- `fast`: Gymnasium's RK4 with at most four Newton and four line-search
  iterations: trajectories stay within 0.03 of Gymnasium's over 100
  random-action steps, at eight times the sequential work of `gpu`. Tables
  measured before `gpu` existed pin it.
- `faithful`: Gymnasium's settings (RK4, Newton with up to 100 iterations and
  50 line-search iterations, tolerance 1e-8), for parity tests.
Each setting can also be overridden on its own (`iterations=`, ...).
`loop_trips_per_step` counts the sequential work of a setting.

`observe` chooses what the learner is shown (`il_jax.envs.learner_view`):
'full' (default) the whole observation; 'positions' only `qpos[1:]` (8
numbers), hiding the velocities, so that a Markov policy is partially
observed and a policy conditioned on a history of positions can recover
them by differencing. The environment's own observation, and so the
expert's, stays the full 17 numbers either way.

`impl` chooses MJX's implementation: 'jax' (default) or 'warp' (MJX-Warp,
NVIDIA's kernels, needs `warp-lang`: `pip install 'il_jax[warp]'`). Both run
the same model and solver settings and agree step for step
(tests/test_walker2d_warp.py); Warp is meant for NVIDIA GPUs, on a CPU it is
slower.
"""

from types import MappingProxyType

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from brax.envs.base import Env, State
from etils import epath
from mujoco import mjx

from il_jax.envs import mjx_warp
from il_jax.envs.validation import (check_action, check_choice,
                                    check_positive, check_range)

_XML_PATH = epath.resource_path('il_jax') / 'envs' / 'assets' / 'walker2d.xml'

# Walker2d-v5 sets the right foot's friction to the left foot's 1.9.
_V5_RIGHT_FOOT_FRICTION = 1.9

_INTEGRATORS = MappingProxyType({
    'euler': mujoco.mjtIntegrator.mjINT_EULER,
    'rk4': mujoco.mjtIntegrator.mjINT_RK4,
    'implicitfast': mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
})

# Preset name -> solver settings. `faithful` is what Gymnasium's model uses.
SOLVER_PRESETS = MappingProxyType({
    'faithful': MappingProxyType(
        {'integrator': 'rk4', 'iterations': 100, 'ls_iterations': 50}),
    'fast': MappingProxyType(
        {'integrator': 'rk4', 'iterations': 4, 'ls_iterations': 4}),
    'gpu': MappingProxyType(
        {'integrator': 'euler', 'iterations': 3, 'ls_iterations': 2}),
})
DEFAULT_SOLVER = 'gpu'

# Evaluations of the constraint solver per physics step.
_SOLVES_PER_STEP = MappingProxyType({'euler': 1, 'implicitfast': 1, 'rk4': 4})


def loop_trips_per_step(integrator: str, iterations: int, ls_iterations: int,
                        frame_skip: int = 4) -> int:
  """Sequential device-loop trips per environment step, at most.

  Read from mujoco-mjx's `solver.py` (3.17): a solve runs the Newton body
  once without a loop when `iterations == 1`, else a `while_loop` of up to
  `iterations` trips; every Newton trip runs the line search, a `scan` of
  `ls_iterations` trips (its `cond`s become selects under `vmap`). RK4 solves
  at each of its four stages; the frame skip is a loop of its own. On a GPU
  a trip can cost a round trip to the host, so this, not the arithmetic,
  sets a batched step's latency (tests/test_walker2d.py counts the same
  trips in the traced program).
  """
  if iterations == 1:
    solve = ls_iterations
  else:
    solve = iterations * (1 + ls_iterations)
  return frame_skip * (1 + _SOLVES_PER_STEP[integrator] * solve)


_VELOCITY_CLIP = 10.0

# MJX implementations (`impl=`); see `il_jax.envs.mjx_warp` for 'warp'.
IMPLS = ('jax', 'warp')

# What the learner is shown (`observe=`): the whole observation, or the
# positions qpos[1:] only (its first nq - 1 entries).
OBSERVES = ('full', 'positions')


class Walker2d(Env):
  """Gymnasium-faithful Walker2d on MJX (brax `Env` interface, unbatched).

  Observation `[17]`: qpos[1:] (torso height, torso angle, 6 joint angles)
  and qvel (9) clipped to +-10. Action `[6]`: joint torques in [-1, 1] (MuJoCo
  clamps the control; the control cost uses the action as given, as in
  Gymnasium).
  """

  default_episode_length = 1000

  def __init__(self,
               version: str = 'v4',
               solver: str = DEFAULT_SOLVER,
               integrator: str | None = None,
               iterations: int | None = None,
               ls_iterations: int | None = None,
               frame_skip: int = 4,
               forward_reward_weight: float = 1.0,
               ctrl_cost_weight: float = 1e-3,
               healthy_reward: float = 1.0,
               terminate_when_unhealthy: bool = True,
               healthy_z_range: tuple[float, float] = (0.8, 2.0),
               healthy_angle_range: tuple[float, float] = (-1.0, 1.0),
               reset_noise_scale: float = 5e-3,
               impl: str = 'jax',
               observe: str = 'full'):
    """Builds the environment.

    Args:
      version: 'v4' (feet friction 0.9 right / 1.9 left) or 'v5' (both 1.9).
      solver: solver preset, one of `SOLVER_PRESETS` ('gpu', 'fast',
        'faithful').
      integrator: overrides the preset: 'euler', 'rk4' or 'implicitfast'.
      iterations: overrides the preset's maximum constraint-solver iterations.
      ls_iterations: overrides the preset's maximum line-search iterations.
      frame_skip: physics steps of 0.002 s per environment step.
      forward_reward_weight: weight of the forward velocity in the reward.
      ctrl_cost_weight: weight of the squared action norm in the cost.
      healthy_reward: bonus per step while healthy.
      terminate_when_unhealthy: whether leaving the healthy ranges ends the
        episode.
      healthy_z_range: open interval of healthy torso heights.
      healthy_angle_range: open interval of healthy torso angles (radians).
      reset_noise_scale: half-width of the uniform noise on qpos and qvel.
      impl: MJX implementation, 'jax' or 'warp'. Under 'warp' the
        `pipeline_state` is `mjx_warp.PhysicsState` (positions, velocities,
        warm start) rather than a full `mjx.Data`.
      observe: the learner's view, one of `OBSERVES`: 'full' or 'positions'
        (`qpos[1:]`, 8 numbers; see the module docstring). The observation
        itself is the full 17 numbers either way.

    Raises:
      ValueError: for an invalid option.
      ImportError: for impl='warp' without `warp-lang`, naming the extra.
    """
    check_choice('impl', impl, IMPLS)
    check_choice('observe', observe, OBSERVES)
    check_choice('version', version, ('v4', 'v5'))
    check_choice('solver', solver, tuple(SOLVER_PRESETS))
    settings = dict(SOLVER_PRESETS[solver])
    if integrator is not None:
      check_choice('integrator', integrator, tuple(_INTEGRATORS))
      settings['integrator'] = integrator
    for name, value in (('iterations', iterations),
                        ('ls_iterations', ls_iterations)):
      if value is not None:
        check_positive(name, value, integer=True)
        settings[name] = value
    check_positive('frame_skip', frame_skip, integer=True)
    check_positive('reset_noise_scale', reset_noise_scale)
    check_range('healthy_z_range', healthy_z_range)
    check_range('healthy_angle_range', healthy_angle_range)
    for name, value in (('forward_reward_weight', forward_reward_weight),
                        ('ctrl_cost_weight', ctrl_cost_weight),
                        ('healthy_reward', healthy_reward)):
      if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{name}={value!r} is not valid; expected a number.')

    mj_model = mujoco.MjModel.from_xml_path(str(_XML_PATH))
    if version == 'v5':
      foot = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_GEOM, 'foot_geom')
      mj_model.geom_friction[foot, 0] = _V5_RIGHT_FOOT_FRICTION
    mj_model.opt.integrator = _INTEGRATORS[settings['integrator']]
    mj_model.opt.iterations = settings['iterations']
    mj_model.opt.ls_iterations = settings['ls_iterations']

    self.version = version
    self.solver_settings = MappingProxyType(settings)
    self.mj_model = mj_model
    self.impl = impl
    self.observe = observe
    if impl == 'warp':
      self._warp_physics = mjx_warp.make_physics(mj_model, frame_skip)
    else:
      self._model = mjx.put_model(mj_model)
    self._frame_skip = frame_skip
    self._dt = mj_model.opt.timestep * frame_skip
    self._forward_reward_weight = float(forward_reward_weight)
    self._ctrl_cost_weight = float(ctrl_cost_weight)
    self._healthy_reward = float(healthy_reward)
    self._terminate_when_unhealthy = bool(terminate_when_unhealthy)
    self._healthy_z_range = tuple(map(float, healthy_z_range))
    self._healthy_angle_range = tuple(map(float, healthy_angle_range))
    self._reset_noise_scale = float(reset_noise_scale)

  @property
  def dt(self) -> float:
    """Seconds of simulated time per environment step."""
    return self._dt

  @property
  def loop_trips_per_step(self) -> int:
    """Sequential solver loop trips per `step` (see `loop_trips_per_step`)."""
    settings = self.solver_settings
    return loop_trips_per_step(settings['integrator'], settings['iterations'],
                               settings['ls_iterations'], self._frame_skip)

  @property
  def observation_size(self) -> int:
    return self.mj_model.nq - 1 + self.mj_model.nv

  @property
  def learner_observation_size(self) -> int:
    """Size of the learner's view (`il_jax.envs.learner_view`): 17, or 8
    with `observe='positions'`."""
    if self.observe == 'positions':
      return self.mj_model.nq - 1
    return self.observation_size

  def learner_observation(self, obs: jax.Array) -> jax.Array:
    """The learner's view of `obs [..., 17]`: `[..., learner_observation_size]`;
    with `observe='positions'` the leading `qpos[1:]`, without velocities."""
    return obs[..., :self.learner_observation_size]

  @property
  def action_size(self) -> int:
    return self.mj_model.nu

  @property
  def action_bounds(self) -> tuple[np.ndarray, np.ndarray]:
    """The actuators' control range (MuJoCo clamps `ctrl` to it)."""
    ranges = np.asarray(self.mj_model.actuator_ctrlrange, np.float32)
    return ranges[:, 0], ranges[:, 1]

  @property
  def backend(self) -> str:
    return 'mjx'

  def reset(self, rng: jax.Array) -> State:
    """Samples an initial state: qpos0 and zero velocity, plus uniform noise."""
    rng_qpos, rng_qvel = jax.random.split(rng)
    noise = self._reset_noise_scale
    qpos = jnp.asarray(self.mj_model.qpos0) + jax.random.uniform(
        rng_qpos, (self.mj_model.nq,), minval=-noise, maxval=noise)
    qvel = jax.random.uniform(
        rng_qvel, (self.mj_model.nv,), minval=-noise, maxval=noise)
    return self.reset_to(qpos, qvel)

  def reset_to(self, qpos: jax.Array, qvel: jax.Array) -> State:
    """The state at given joint positions `[9]` and velocities `[9]`.

    The physics state holds positions and velocities only: MuJoCo's step is
    a function of (qpos, qvel, ctrl, warm start) and recomputes every derived
    quantity in its own forward pass, and the warm start after a reset is
    zero, as in Gymnasium. So no forward pass (and no constraint solve) runs
    here, which the auto-reset would otherwise pay at every step.
    """
    if self.impl == 'warp':
      data = mjx_warp.PhysicsState(qpos=qpos, qvel=qvel,
                                   qacc_warmstart=jnp.zeros_like(qvel))
    else:
      data = mjx.make_data(self._model).replace(qpos=qpos, qvel=qvel)
    zero = jnp.zeros((), jnp.float32)
    metrics = {
        'reward_forward': zero,
        'reward_ctrl': zero,
        'reward_healthy': zero,
        'x_velocity': zero,
    }
    return State(pipeline_state=data, obs=self._observation(data),
                 reward=zero, done=zero, metrics=metrics)

  def step(self, state: State, action: jax.Array) -> State:
    """Applies `action [6]` for `frame_skip` physics steps."""
    check_action('walker2d', action, self.action_size)
    data_before = state.pipeline_state
    if self.impl == 'warp':
      data = self._warp_physics(data_before, action)
    else:
      data = data_before.replace(ctrl=action)
      data = jax.lax.fori_loop(
          0, self._frame_skip, lambda _, d: mjx.step(self._model, d), data)

    x_velocity = (data.qpos[0] - data_before.qpos[0]) / self._dt
    healthy = self._is_healthy(data)
    forward_reward = self._forward_reward_weight * x_velocity
    # v4 pays the bonus on the terminating step too (when unhealthy states end
    # the episode); v5 pays it only while healthy.
    if self.version == 'v4' and self._terminate_when_unhealthy:
      healthy_reward = jnp.asarray(self._healthy_reward, jnp.float32)
    else:
      healthy_reward = self._healthy_reward * healthy
    if self._terminate_when_unhealthy:
      done = 1.0 - healthy
    else:
      done = jnp.zeros((), jnp.float32)
    ctrl_cost = self._ctrl_cost_weight * jnp.sum(jnp.square(action))
    reward = forward_reward + healthy_reward - ctrl_cost

    state.metrics.update(
        reward_forward=forward_reward,
        reward_ctrl=-ctrl_cost,
        reward_healthy=healthy_reward,
        x_velocity=x_velocity)
    return state.replace(pipeline_state=data, obs=self._observation(data),
                         reward=reward, done=done)

  def safety_margin(self, obs: jax.Array) -> jax.Array:
    """How far `obs [..., 17]` is from termination: `[...]`, in [0, 0.5].

    The smallest distance of torso height and angle to their healthy limits,
    each as a fraction of its healthy range; 0 at a limit. HG-DAgger's
    'safety' gate intervenes where it is small.
    """
    z, angle = obs[..., 0], obs[..., 1]
    margins = []
    for value, (low, high) in ((z, self._healthy_z_range),
                               (angle, self._healthy_angle_range)):
      margins.append(jnp.minimum(value - low, high - value) / (high - low))
    return jnp.clip(jnp.minimum(*margins), 0.0, None)

  def _observation(self, data: mjx.Data) -> jax.Array:
    qvel = jnp.clip(data.qvel, -_VELOCITY_CLIP, _VELOCITY_CLIP)
    return jnp.concatenate([data.qpos[1:], qvel])

  def _is_healthy(self, data: mjx.Data) -> jax.Array:
    """1.0 if torso height and angle are inside the healthy ranges, else 0.0."""
    z, angle = data.qpos[1], data.qpos[2]
    z_low, z_high = self._healthy_z_range
    angle_low, angle_high = self._healthy_angle_range
    healthy = ((z > z_low) & (z < z_high) & (angle > angle_low) &
               (angle < angle_high))
    return healthy.astype(jnp.float32)
