"""How far our MJX Walker2d is from Gymnasium's, per solver setting.

Drift: starting from Gymnasium's seeded initial states, both simulators run
the same uniformly random actions for `--num_steps` steps; we report the
observation error after one step and along the trajectory, and the
difference in summed reward.

Behaviour (`--episodes` > 0): each shipped Walker2d expert acts for
`--episodes` full episodes in our MJX Walker2d under the setting and in
Gymnasium (its NumPy policy file, the same initial-state seeds); we report
both returns, the falls (episodes that end before the time limit), the
setting's sequential solver loop trips per step (the GPU's cost) and the
batched step's CPU latency. A setting is fit for use when every expert stays
within 3 % of its Gymnasium return and falls no more often.

Appends a row per setting to BENCHMARKS.md.

  python -m tools.fidelity                    # the presets, v4
  python -m tools.fidelity --settings=euler/2/4,euler/1/4 --episodes=16
"""

import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from il_jax import envs, evaluation, experts
from il_jax.envs import gymnasium_reference
from il_jax.envs.walker2d import SOLVER_PRESETS
from il_jax.gymnasium_evaluation import evaluate_gymnasium
from launch import reporting
import launch

_SETTINGS = flags.DEFINE_list(
    'settings', list(SOLVER_PRESETS),
    'Solver presets, or integrator/iterations/ls_iterations triples such as '
    'rk4/1/4.')
_VERSION = flags.DEFINE_enum('version', 'v4', ['v4', 'v5'], 'Walker2d version.')
_NUM_TRAJECTORIES = flags.DEFINE_integer('num_trajectories', 8,
                                         'Trajectories (Gymnasium seeds).')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 100, 'Steps per trajectory.')
_EPISODES = flags.DEFINE_integer(
    'episodes', 64, 'Episodes per shipped expert and setting for the '
    'behavioural comparison (0: drift only).')
_EXPERTS = flags.DEFINE_list(
    'experts', None, 'Shipped Walker2d experts to act with; default all.')
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


def _falls(summary: dict) -> int:
  """Episodes that ended by termination, not at the time limit."""
  return round(summary['num_episodes'] * (1.0 - summary['truncated_fraction']))


def _behaviour(setting: str, expert_names, episodes: int) -> dict:
  """Each expert's MJX returns and falls under `setting`, and the batched
  step's CPU latency (the run after compilation)."""
  env = envs.make('walker2d', version=_VERSION.value, **_env_options(setting))
  wrapped = envs.wrap(env, episode_length=env.default_episode_length)
  result = {'loop_trips_per_step': env.loop_trips_per_step, 'experts': {}}
  for name in expert_names:
    act = experts.load(name)
    run = jax.jit(lambda key, act=act: evaluation.evaluate(
        act, wrapped, key, episodes, env.default_episode_length))
    compiled = run.lower(jax.random.PRNGKey(0)).compile()
    start = time.perf_counter()
    summary = jax.device_get(compiled(jax.random.PRNGKey(0)))
    seconds = time.perf_counter() - start
    result['experts'][name] = {
        'return_mean': float(summary['return_mean']),
        'return_std': float(summary['return_std']),
        'falls': _falls(summary),
        'ms_per_step': 1e3 * seconds / env.default_episode_length,
    }
  return result


def _behaviour_cell(mjx: dict, gym: dict) -> str:
  change = 100.0 * (mjx['return_mean'] / gym['return_mean'] - 1.0)
  return (f"{mjx['return_mean']:.0f} ± {mjx['return_std']:.0f} "
          f"({mjx['falls']}) / {gym['return_mean']:.0f} ({gym['falls']}): "
          f'{change:+.1f} %')


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  gym_env = gymnasium_reference.make_walker2d(_VERSION.value)
  references = []
  for seed in range(_NUM_TRAJECTORIES.value):
    actions = np.random.default_rng(seed).uniform(
        -1.0, 1.0, (_NUM_STEPS.value, 6))
    references.append(gymnasium_reference.rollout(gym_env, actions, seed))

  episodes = _EPISODES.value
  expert_names = _EXPERTS.value or experts.shipped_names('walker2d')
  gymnasium = {}
  if episodes > 0:
    for name in expert_names:
      runs = evaluate_gymnasium(
          os.path.join(experts.registry.shipped_directory(name), 'policy'),
          _VERSION.value, episodes, seed=0)
      gymnasium[name] = {
          'return_mean': float(np.mean(runs['return'])),
          'return_std': float(np.std(runs['return'])),
          'falls': int(np.sum(runs['length'] < 1000))}
      print(name, 'gymnasium', json.dumps(gymnasium[name]), flush=True)

  results = []
  for setting in _SETTINGS.value:
    result = _measure(setting, references)
    result.update(version=_VERSION.value, num_steps=_NUM_STEPS.value,
                  num_trajectories=_NUM_TRAJECTORIES.value)
    if episodes > 0:
      result.update(_behaviour(setting, expert_names, episodes))
    print(json.dumps(result), flush=True)
    results.append(result)
    os.makedirs(os.path.dirname(_OUT.value) or '.', exist_ok=True)
    with open(_OUT.value, 'w') as f:
      json.dump(results, f, indent=2)
    if _MARKDOWN.value:
      _append_rows(result, expert_names, gymnasium)


def _append_rows(r: dict, expert_names, gymnasium: dict) -> None:
  """Appends `r`'s drift row and, if measured, its behaviour row."""
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
        reporting.today(), reporting.command_line()]])
  if 'experts' not in r:
    return
  reporting.append_rows(
      _MARKDOWN.value, reporting.SOLVER_SETTINGS,
      ['setting', 'loop trips / step'] +
      [f'{name}: MJX return ± std (falls) / Gymnasium (falls)'
       for name in expert_names] +
      ['obs drift @10 steps', 'CPU ms / step (batched)', 'device', 'date',
       'command'],
      [[r['setting'], r['loop_trips_per_step']] +
       [_behaviour_cell(r['experts'][name], gymnasium[name])
        for name in expert_names] +
       [f"{r['drift_at_10_median']:.1e}",
        f"{max(e['ms_per_step'] for e in r['experts'].values()):.1f}",
        reporting.device_name(), reporting.today(),
        reporting.command_line()]])


if __name__ == '__main__':
  launch.run_app(main)
