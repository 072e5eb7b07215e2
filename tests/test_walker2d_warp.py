"""Walker2d on MJX-Warp (`impl='warp'`) against MJX-JAX and Gymnasium.

Parity: from the same states (a 12-step random-action trajectory of 8
environments, from reset through the landing on the feet, so contacts are
well represented) under the same actions, one step of each implementation.

Tolerance: 5e-4 absolute on observations and rewards wherever the solver
converges, the one tests/test_walker2d.py justifies against Gymnasium: both
implementations run the same model in float32, so what differs is the order
of float32 sums, amplified through the contact solve. Measured under
`faithful`: 5.5e-5 (joint velocities). Termination must match exactly.

`gpu` and `fast` stop the solver after two or four Newton iterations, short
of convergence at hard impacts, and the two implementations sometimes stop
in different places (their line searches differ). Measured over the 96
states: under `gpu` 75 % agree within 5e-4, the rest by up to 5.5 in a joint
velocity and 0.25 in reward, while each is up to 5.8 (JAX) or 4.0 (Warp) from
the converged step; under `fast` 99 % agree, one state by 0.21 (JAX converged
there, Warp not). No tolerance below that truncation error means anything,
so the test asks: termination agrees, most states agree within 5e-4, and
Warp's step is never farther from the converged one (Warp under `faithful`,
itself held to Gymnasium below) than JAX's default `gpu` step already is.
The expert's returns (slow test) check that the difference does not matter
where it counts.
"""

import importlib.util
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import envs
from il_jax.envs import gymnasium_reference
from il_jax.envs import mjx_warp

TOLERANCE = 5e-4
NUM_ENVS, NUM_STEPS = 8, 12

needs_warp = pytest.mark.skipif(
    importlib.util.find_spec('warp') is None,
    reason=f'warp-lang is not installed: {mjx_warp.INSTALL_HINT}')


def test_missing_warp_is_a_one_line_error_naming_the_extra(monkeypatch):
  real_find_spec = importlib.util.find_spec
  monkeypatch.setattr(
      importlib.util, 'find_spec',
      lambda name, *a: None if name == 'warp' else real_find_spec(name, *a))
  with pytest.raises(ImportError) as error:
    envs.make('walker2d', impl='warp')
  message = str(error.value)
  assert '\n' not in message
  assert "il_jax[warp]" in message and "mujoco-mjx[warp]" in message


def test_unknown_impl_is_a_clear_error():
  with pytest.raises(ValueError, match='impl'):
    envs.make('walker2d', impl='cuda')


@pytest.fixture(scope='module')
def states():
  """`(qpos, qvel, qacc_warmstart, action)`, each `[NUM_ENVS * NUM_STEPS,
  ...]`: the states of a Warp `gpu` trajectory and the actions taken there."""
  env = envs.make('walker2d', impl='warp')

  @jax.jit
  def trajectory(key):
    reset_key, action_key = jax.random.split(key)
    start = jax.vmap(env.reset)(jax.random.split(reset_key, NUM_ENVS))
    actions = jax.random.uniform(action_key, (NUM_STEPS, NUM_ENVS, 6),
                                 minval=-1.0, maxval=1.0)

    def step(state, action):
      physics = state.pipeline_state
      return jax.vmap(env.step)(state, action), (
          physics.qpos, physics.qvel, physics.qacc_warmstart, action)

    return jax.lax.scan(step, start, actions)[1]

  rows = trajectory(jax.random.PRNGKey(0))
  return tuple(x.reshape((-1,) + x.shape[2:]) for x in rows)


def _one_step(impl, solver, states):
  """`(obs, reward, done)` of one step from each of `states`."""
  env = envs.make('walker2d', impl=impl, solver=solver)

  def step(qpos, qvel, warm, action):
    state = env.reset_to(qpos, qvel)
    physics = state.pipeline_state.replace(qacc_warmstart=warm)
    state = env.step(state.replace(pipeline_state=physics), action)
    return state.obs, state.reward, state.done

  return [np.asarray(x) for x in jax.jit(jax.vmap(step))(*states)]


def _max_gap(a, b):
  return float(np.max(np.abs(a - b)))


@pytest.fixture(scope='module')
def converged(states):
  """`(obs, reward, done)` of Warp's `faithful` step from `states`, and the
  largest distance of JAX's default `gpu` step from it (observations)."""
  outputs = _one_step('warp', 'faithful', states)
  jax_gpu_obs = _one_step('jax', 'gpu', states)[0]
  return outputs, float(np.max(np.abs(jax_gpu_obs - outputs[0])))


@needs_warp
# Ids that are not the 'gpu' marker's name, which conftest.py skips on a CPU.
@pytest.mark.parametrize('solver', ['gpu', 'fast'], ids=lambda s: f'{s}_preset')
def test_truncated_solver_step_matches_jax(solver, states, converged):
  (converged_obs, _, converged_done), accepted_error = converged
  jax_obs, jax_reward, jax_done = _one_step('jax', solver, states)
  obs, reward, done = _one_step('warp', solver, states)
  np.testing.assert_array_equal(done, jax_done)
  np.testing.assert_array_equal(done, converged_done)
  # Most states: the same truncated solve.
  agree = ((np.max(np.abs(obs - jax_obs), axis=1) <= TOLERANCE) &
           (np.abs(reward - jax_reward) <= TOLERANCE))
  assert agree.mean() >= 2 / 3, agree.mean()
  # The rest: Warp stops no farther from convergence than JAX's default
  # setting already does, up to the float32 parity tolerance (on the
  # default preset the two truncated solves end equally far).
  assert np.max(np.abs(obs - converged_obs)) <= accepted_error + TOLERANCE


@needs_warp
def test_faithful_step_matches_gymnasium():
  # The Gymnasium parity of tests/test_walker2d.py: with JAX's `faithful`
  # held to the same reference, the two agree within twice the tolerance
  # (the slow test below compares them directly).
  actions = np.random.default_rng(7).uniform(-1.2, 1.2, (60, 6))
  reference = gymnasium_reference.rollout(
      gymnasium_reference.make_walker2d('v4'), actions, seed=3)
  f32 = lambda x: jnp.asarray(x, jnp.float32)
  zeros = jnp.zeros((60, 9), jnp.float32)
  obs, reward, done = _one_step(
      'warp', 'faithful', (f32(reference.qpos[:-1]), f32(reference.qvel[:-1]),
                           zeros, f32(reference.action)))
  np.testing.assert_allclose(obs, reference.obs[1:], rtol=0, atol=TOLERANCE)
  np.testing.assert_allclose(reward, reference.reward, rtol=0,
                             atol=TOLERANCE)
  np.testing.assert_array_equal(done > 0.5, reference.terminated)


@needs_warp
@pytest.mark.slow
def test_faithful_step_matches_jax(states):
  jax_obs, jax_reward, jax_done = _one_step('jax', 'faithful', states)
  obs, reward, done = _one_step('warp', 'faithful', states)
  np.testing.assert_allclose(obs, jax_obs, rtol=0, atol=TOLERANCE)
  np.testing.assert_allclose(reward, jax_reward, rtol=0, atol=TOLERANCE)
  np.testing.assert_array_equal(done, jax_done)


@needs_warp
def test_auto_reset_batch_under_vmap_over_seeds_steps_each_seed_alone():
  # Every enclosing vmap becomes one Warp call whose contact buffer must
  # cover all worlds (seeds x environments): a buffer sized for one seed's
  # environments would drop contacts and change the result.
  env = envs.wrap(envs.make('walker2d', impl='warp'), episode_length=3)

  def run(key):
    state = env.reset(jax.random.split(key, 2))
    actions = jnp.ones((4, 2, 6))
    state, rewards = jax.lax.scan(
        lambda s, a: (lambda n: (n, (n.reward, n.done)))(env.step(s, a)),
        state, actions)
    return state.obs, rewards

  keys = jax.random.split(jax.random.PRNGKey(1), 2)
  batched = jax.jit(jax.vmap(run))(keys)
  alone = jax.jit(run)(keys[1])
  for seed_batched, seed_alone in zip(jax.tree.leaves(batched),
                                      jax.tree.leaves(alone)):
    np.testing.assert_array_equal(seed_batched[1], seed_alone)
  # Auto-reset happened (episodes of 3 steps within 4) and the state kept its
  # shapes.
  assert np.asarray(batched[1][1]).any()


@needs_warp
@pytest.mark.slow
def test_shipped_expert_return_agrees_across_implementations():
  # Full 1000-step episodes from the same initial states. The returns need
  # not match episode for episode (the `gpu` solves differ at impacts, and
  # a walker's gait amplifies any difference), but their means must agree
  # within the spread of one episode's return: two standard deviations (the
  # band that holds ~95 % of single episodes) of the wider of the two.
  # Measured (4 episodes, CPU, 100 s): JAX 5074 +- 64, Warp 5140 +- 16.
  from il_jax import evaluation, experts  # pylint: disable=g-import-not-at-top
  expert = experts.load('walker2d')
  results = {}
  for impl in ('jax', 'warp'):
    start = time.perf_counter()
    results[impl] = evaluation.evaluate_in(
        expert, envs.make('walker2d', impl=impl), n_episodes=4)
    print(impl, results[impl], f'{time.perf_counter() - start:.0f} s')
  spread = 2 * max(results['jax']['return_std'],
                   results['warp']['return_std'])
  assert abs(results['jax']['return_mean'] -
             results['warp']['return_mean']) <= spread, results


@needs_warp
@pytest.mark.slow
@pytest.mark.parametrize('algo', ['bc', 'dagger'])
def test_tiny_run_on_warp(algo, tmp_path):
  from il_jax import experiment  # pylint: disable=g-import-not-at-top
  from il_jax.config import ImitationConfig  # pylint: disable=g-import-not-at-top
  config = experiment.RunConfig(
      algo=algo, env='walker2d', env_options=(('impl', 'warp'),),
      policy_options=(('size', 16),),
      imitation=ImitationConfig(
          n_iter=2, num_envs=2, expert_steps_per_env=50, steps_per_iter=100,
          train_steps_per_iter=10, train_batch_size=16, eval_episodes=2,
          episode_length=50))
  rows = experiment.run(config, str(tmp_path), verbose=False)
  assert [r['Iteration'] for r in rows] == [0, 1]
  assert all(np.isfinite(r['Eval_AverageReturn']) for r in rows)
  # The expert walks on Warp too (the 50-step demonstrations' return).
  assert rows[-1]['Expert_AverageReturn'] > 50


def test_a_sweep_over_impl_makes_one_program_per_implementation():
  from il_jax import sweep  # pylint: disable=g-import-not-at-top
  runs = sweep.expand({'base': {'env': 'walker2d'},
                       'grid': {'env_options': [{'impl': 'jax'},
                                                {'impl': 'warp'}]},
                       'seeds': 2})
  groups = sweep.group(runs)
  assert sorted(dict(g.config.env_options)['impl'] for g in groups) == [
      'jax', 'warp']


_SHARDED_SCRIPT = '''
import jax, numpy as np
from il_jax import envs, experiment
assert jax.device_count() == 4, jax.devices()
env = envs.wrap(envs.make('walker2d', impl='warp'), episode_length=20)
keys = jax.random.split(jax.random.PRNGKey(0), 8)
actions = jax.random.uniform(jax.random.PRNGKey(1), (3, 8, 6), minval=-1.0,
                             maxval=1.0)

def run(keys, actions):
  def step(state, action):
    state = env.step(state, action)
    return state, state.obs
  return jax.lax.scan(step, env.reset(keys), actions)[1]

alone = jax.jit(run)(keys, actions)
with jax.set_mesh(experiment.run_mesh(1)):
  split = jax.jit(run)(keys, actions)
assert len(split.sharding.device_set) == 4, split.sharding
np.testing.assert_array_equal(np.asarray(split), np.asarray(alone))
print('OK')
'''


@needs_warp
def test_environments_split_over_four_devices_step_as_on_one(tmp_path):
  """Each device runs `nworld = 8 / 4` Warp worlds of the batch."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = {**os.environ, 'JAX_PLATFORMS': 'cpu', 'PYTHONPATH': root,
         'XLA_FLAGS': '--xla_force_host_platform_device_count=4'}
  result = subprocess.run([sys.executable, '-c', _SHARDED_SCRIPT], env=env,
                          cwd=root, capture_output=True, text=True,
                          timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip().endswith('OK')
