"""How far our MJX Walker2d drifts from Gymnasium's under the same actions.

For each solver setting, starting from Gymnasium's seeded initial states, both
simulators run the same uniformly random actions for `--num_steps` steps; we
report the observation error after one step and along the trajectory, and the
difference in summed reward. Appends a row per setting to BENCHMARKS.md.

  python -m launch.fidelity                    # both presets, v4
  python -m launch.fidelity --settings=rk4/2/4,euler/1/4 --version=v5
"""

import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from il_jax import envs
from il_jax.envs import gymnasium_reference
from launch import reporting
import launch

_SETTINGS = flags.DEFINE_list(
    'settings', ['faithful', 'fast'],
    'Solver presets, or integrator/iterations/ls_iterations triples such as '
    'rk4/1/4.')
_VERSION = flags.DEFINE_enum('version', 'v4', ['v4', 'v5'], 'Walker2d version.')
_NUM_TRAJECTORIES = flags.DEFINE_integer('num_trajectories', 8,
                                         'Trajectories (Gymnasium seeds).')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 100, 'Steps per trajectory.')
_OUT = flags.DEFINE_string('out', 'bench_out/fidelity.json', 'JSON results.')
_MARKDOWN = flags.DEFINE_string('markdown', 'BENCHMARKS.md',
                                'File to append result rows to ("" for none).')


def _env_options(setting: str) -> dict:
  if '/' not in setting:
    return {'solver': setting}
  integrator, iterations, ls_iterations = setting.split('/')
  return {'integrator': integrator, 'iterations': int(iterations),
          'ls_iterations': int(ls_iterations)}


def _measure(setting, references):
  """Errors of our env (under `setting`) against Gymnasium's trajectories."""
  env = envs.make('walker2d', version=_VERSION.value, **_env_options(setting))

  def trajectory(qpos0, qvel0, actions):
    def step(state, action):
      state = env.step(state, action)
      return state, (state.obs, state.reward)
    _, (obs, reward) = jax.lax.scan(step, env.reset_to(qpos0, qvel0), actions)
    return obs, reward

  def one_step(qpos, qvel, action):
    return env.step(env.reset_to(qpos, qvel), action).obs

  as_f32 = lambda x: jnp.asarray(np.stack(x), jnp.float32)
  qpos = as_f32([r.qpos for r in references])
  qvel = as_f32([r.qvel for r in references])
  actions = as_f32([r.action for r in references])
  start = time.perf_counter()
  obs, reward = jax.jit(jax.vmap(trajectory))(qpos[:, 0], qvel[:, 0], actions)
  stepped = jax.jit(jax.vmap(jax.vmap(one_step)))(qpos[:, :-1], qvel[:, :-1],
                                                  actions)
  jax.block_until_ready((obs, stepped))
  seconds = time.perf_counter() - start

  ref_obs = np.stack([r.obs[1:] for r in references])
  ref_reward = np.stack([r.reward for r in references])
  drift = np.max(np.abs(np.asarray(obs) - ref_obs), axis=-1)  # [N, T]
  step_error = np.max(np.abs(np.asarray(stepped) - ref_obs), axis=-1)
  return {
      'setting': setting,
      'solver_settings': dict(env.solver_settings),
      'one_step_obs_error_median': float(np.median(step_error)),
      'one_step_obs_error_max': float(np.max(step_error)),
      'drift_at_10_median': float(np.median(drift[:, 9])),
      'drift_at_end_median': float(np.median(drift[:, -1])),
      'return_error_median': float(
          np.median(np.abs(np.sum(np.asarray(reward), 1) - ref_reward.sum(1)))),
      'reference_return_median': float(np.median(ref_reward.sum(1))),
      'compile_and_run_s': seconds,
  }


def main(_):
  launch.quiet_logs()
  gym_env = gymnasium_reference.make_walker2d(_VERSION.value)
  references = []
  for seed in range(_NUM_TRAJECTORIES.value):
    actions = np.random.default_rng(seed).uniform(
        -1.0, 1.0, (_NUM_STEPS.value, 6))
    references.append(gymnasium_reference.rollout(gym_env, actions, seed))

  results = []
  for setting in _SETTINGS.value:
    result = _measure(setting, references)
    result.update(version=_VERSION.value, num_steps=_NUM_STEPS.value,
                  num_trajectories=_NUM_TRAJECTORIES.value)
    print(json.dumps(result))
    results.append(result)

  os.makedirs(os.path.dirname(_OUT.value) or '.', exist_ok=True)
  with open(_OUT.value, 'w') as f:
    json.dump(results, f, indent=2)
  if _MARKDOWN.value:
    reporting.append_rows(
        _MARKDOWN.value, reporting.FIDELITY,
        ['setting', 'version', 'one-step obs err (median / max)',
         'obs drift @10 steps (median)', f'obs drift @{_NUM_STEPS.value}',
         'return err (median)', 'device', 'date', 'command'],
        [[r['setting'], r['version'],
          f"{r['one_step_obs_error_median']:.1e} / "
          f"{r['one_step_obs_error_max']:.1e}",
          f"{r['drift_at_10_median']:.1e}", f"{r['drift_at_end_median']:.1e}",
          f"{r['return_error_median']:.1e} (of "
          f"{r['reference_return_median']:.1f})", reporting.device_name(),
          reporting.today(), reporting.command_line()] for r in results])


if __name__ == '__main__':
  launch.run_app(main)
