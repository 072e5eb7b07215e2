"""Walker2d on MJX against Gymnasium's Walker2d-v4/v5 (C MuJoCo, float64).

Parity: from the same state under the same action, one step of our
`faithful` Walker2d gives the same observation, reward and termination as
Gymnasium. States come from a Gymnasium trajectory under random actions
(some outside [-1, 1], to cover control clamping) that runs on through falls,
so contacts are well represented.

Tolerance: 5e-4 absolute on observations and rewards. We simulate in float32,
Gymnasium in float64; the contact solver converges to its 1e-8 tolerance in
both, so what remains is float32 rounding (~1e-7 relative) amplified through
the contact solve and RK4 over four substeps: the largest error we measured
over these states is 7e-5 (velocities, which reach 10). 5e-4 leaves a margin
of ~7x and is still 1000x below the smallest velocity change one action
produces, so a wrong model, frame skip, reward term or clamp fails it.
Termination must match exactly.
"""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from il_jax import envs
from il_jax.envs import gymnasium_reference

TOLERANCE = 5e-4
NUM_STATES = 60


def _reference(version):
  actions = np.random.default_rng(7).uniform(-1.2, 1.2, (NUM_STATES, 6))
  return gymnasium_reference.rollout(
      gymnasium_reference.make_walker2d(version), actions, seed=3)


def _one_step(env):
  def step(qpos, qvel, action):
    state = env.step(env.reset_to(qpos, qvel), action)
    return state.obs, state.reward, state.done
  return jax.jit(jax.vmap(step))


@pytest.mark.parametrize('version', ['v4', 'v5'])
def test_faithful_step_matches_gymnasium(version):
  reference = _reference(version)
  assert reference.terminated.any() and not reference.terminated.all(), (
      'the reference should cover healthy and fallen states')
  env = envs.make('walker2d', solver='faithful', version=version)
  f32 = lambda x: jnp.asarray(x, jnp.float32)
  obs, reward, done = _one_step(env)(
      f32(reference.qpos[:-1]), f32(reference.qvel[:-1]),
      f32(reference.action))
  np.testing.assert_allclose(obs, reference.obs[1:], rtol=0, atol=TOLERANCE)
  np.testing.assert_allclose(reward, reference.reward, rtol=0,
                             atol=TOLERANCE)
  np.testing.assert_array_equal(np.asarray(done) > 0.5, reference.terminated)


def test_v5_differs_from_v4_only_in_right_foot_friction():
  v4 = envs.make('walker2d', solver='faithful').mj_model
  v5 = envs.make('walker2d', solver='faithful', version='v5').mj_model
  differs = np.any(v4.geom_friction != v5.geom_friction, axis=1)
  assert [v4.geom(int(i)).name for i in np.flatnonzero(differs)] == [
      'foot_geom']
  assert v5.geom('foot_geom').friction[0] == 1.9


def test_presets_set_solver_settings_and_overrides_win():
  default = envs.make('walker2d')
  assert default.solver_settings == {'integrator': 'euler', 'iterations': 3,
                                     'ls_iterations': 2}
  assert (default.mj_model.opt.integrator ==
          mujoco.mjtIntegrator.mjINT_EULER)
  assert (default.mj_model.opt.iterations,
          default.mj_model.opt.ls_iterations) == (3, 2)
  fast = envs.make('walker2d', solver='fast')
  assert (fast.mj_model.opt.iterations, fast.mj_model.opt.ls_iterations) == (
      4, 4)
  faithful = envs.make('walker2d', solver='faithful', ls_iterations=7)
  assert faithful.mj_model.opt.iterations == 100
  assert faithful.mj_model.opt.ls_iterations == 7


def test_spaces_match_gymnasium():
  env = envs.make('walker2d')
  gym_env = gymnasium_reference.make_walker2d('v4')
  assert env.observation_size == gym_env.observation_space.shape[0] == 17
  assert env.action_size == gym_env.action_space.shape[0] == 6
  assert env.dt == pytest.approx(gym_env.dt)


def test_wrong_action_shape_is_a_clear_error():
  env = envs.make('walker2d')
  state = jax.eval_shape(env.reset, jax.random.PRNGKey(0))
  with pytest.raises(ValueError, match=r'action has shape \(5,\), expected '
                     r'\(6,\)'):
    jax.eval_shape(env.step, state, jnp.zeros(5))
  with pytest.raises(ValueError, match=r'shape \(4, 6\)'):
    jax.eval_shape(env.step, state, jnp.zeros((4, 6)))


@pytest.mark.parametrize('options, message', [
    ({'solver': 'slow'}, r"solver='slow' is not valid; expected one of "
                         r"\['faithful', 'fast', 'gpu'\]"),
    ({'version': 'v3'}, r"version='v3' is not valid"),
    ({'iterations': 0}, r'iterations=0 is not valid; expected a positive '
                        r'integer'),
    ({'integrator': 'rk45'}, r"integrator='rk45' is not valid"),
    ({'observe': 'velocities'}, r"observe='velocities' is not valid; "
                                r"expected one of \['full', 'positions'\]"),
    ({'healthy_z_range': (2.0, 0.8)}, r'low < high'),
    ({'reset_noise_scale': -1.0}, r'expected a positive number'),
    ({'solver_preset': 'fast'}, r"Unknown option\(s\) \['solver_preset'\] "
                                r"for environment 'walker2d'"),
])
def test_invalid_options_are_clear_errors(options, message):
  with pytest.raises(ValueError, match=message):
    envs.make('walker2d', **options)


def test_safety_margin_is_the_distance_to_the_healthy_limits():
  env = envs.make('walker2d')
  obs = jnp.zeros((3, 17)).at[:, 0].set(jnp.array([1.4, 0.86, 1.25]))
  obs = obs.at[:, 1].set(jnp.array([0.0, 0.0, 0.9]))
  # z in (0.8, 2.0) and angle in (-1, 1), as fractions of those ranges.
  np.testing.assert_allclose(env.safety_margin(obs), [0.5, 0.05, 0.05],
                             atol=1e-6)


def test_a_reset_state_steps_exactly_as_a_forwarded_one():
  """`reset_to` skips MuJoCo's forward pass; the step recomputes all of it."""
  env = envs.make('walker2d')
  from mujoco import mjx  # pylint: disable=g-import-not-at-top
  key_q, key_v, key_a = jax.random.split(jax.random.PRNGKey(0), 3)
  qpos = env.mj_model.qpos0 + jax.random.uniform(key_q, (9,), minval=-0.1,
                                                 maxval=0.1)
  qvel = jax.random.uniform(key_v, (9,), minval=-1.0, maxval=1.0)
  action = jax.random.uniform(key_a, (6,), minval=-1.0, maxval=1.0)

  def both(qpos, qvel, action):
    state = env.reset_to(qpos, qvel)
    forwarded = state.replace(
        pipeline_state=mjx.forward(env._model, state.pipeline_state))  # pylint: disable=protected-access
    return env.step(state, action), env.step(forwarded, action)

  plain, forwarded = jax.jit(both)(qpos, qvel, action)
  for got, want in ((plain.obs, forwarded.obs),
                    (plain.reward, forwarded.reward),
                    (plain.pipeline_state.qacc, forwarded.pipeline_state.qacc)):
    np.testing.assert_array_equal(got, want)


def _loop_trips(jaxpr, while_trips: int) -> int:
  """Loop trips of a traced program: each `scan` trip (unless XLA unrolls
  the whole scan) and each `while` trip, assuming every `while` runs
  `while_trips` times, with the trips of their bodies."""
  total = 0
  for eqn in jaxpr.eqns:
    inner = 0
    for param in eqn.params.values():
      for sub in (param if isinstance(param, (tuple, list)) else (param,)):
        if hasattr(sub, 'jaxpr'):  # a ClosedJaxpr
          inner = max(inner, _loop_trips(sub.jaxpr, while_trips))
        elif hasattr(sub, 'eqns'):
          inner = max(inner, _loop_trips(sub, while_trips))
    if eqn.primitive.name == 'scan':
      length, unroll = eqn.params['length'], eqn.params['unroll']
      unrolled = unroll is True or unroll >= length
      total += length * inner + (0 if unrolled else length)
    elif eqn.primitive.name == 'while':
      total += while_trips * (1 + inner)
    else:  # cond branches (one runs), pjit and custom calls: their loops
      total += inner
  return total


@pytest.mark.parametrize('setting', ['fast', 'euler/2/4', 'rk4/1/2'])
def test_loop_trips_per_step_counts_the_traced_program(setting):
  if '/' in setting:
    integrator, iterations, ls = setting.split('/')
    options = dict(integrator=integrator, iterations=int(iterations),
                   ls_iterations=int(ls))
  else:
    options = dict(solver=setting)
  env = envs.make('walker2d', **options)
  state = env.reset(jax.random.PRNGKey(0))
  jaxpr = jax.make_jaxpr(env.step)(state, jnp.zeros(6)).jaxpr
  iterations = env.solver_settings['iterations']
  assert _loop_trips(jaxpr, while_trips=iterations) == env.loop_trips_per_step


def test_loop_trips_per_step_of_the_presets():
  trips = {name: envs.make('walker2d', solver=name).loop_trips_per_step
           for name in ('fast', 'faithful')}
  # Four frames of four RK4 stages, each up to 4 Newton trips of 1 + 4.
  assert trips['fast'] == 4 + 4 * 4 * 4 * (1 + 4)
  assert trips['faithful'] == 4 + 4 * 4 * 100 * (1 + 50)
  assert envs.make('walker2d').loop_trips_per_step * 8 <= trips['fast']
