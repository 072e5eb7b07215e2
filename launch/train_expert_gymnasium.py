"""Trains a SAC expert for Walker2d on the CPU, in Gymnasium's C MuJoCo.

  python -m launch.train_expert_gymnasium --workdir=runs/walker2d_sac

The GPU route to an expert is `launch/train_expert.py` (PPO on MJX). Without
an accelerator MJX steps too slowly for PPO's 10^7+ steps, so this script
steps Gymnasium's `Walker2d-v4` (or `-v5`) on the host, keeps the replay
buffer in NumPy, and runs the learner (`il_jax.experts.sac`) jitted, with
`--updates_per_call` gradient steps per dispatch (one per environment step, so
the actor acting is at most that many updates stale).

Every `--eval_every` steps it evaluates the deterministic policy over
`--eval_episodes` Gymnasium episodes and, when that beats every earlier
evaluation, exports it to `<workdir>/expert` (`params/` + `card.json`, the
format `il_jax.experts.load(directory=...)` reads, plus `policy.{npz,json}`
for `launch/evaluate.py`). An interrupted run therefore still leaves its best
expert so far. Progress lines go to stdout and `<workdir>/metrics.jsonl`.

After each evaluation the whole training state is saved to
`<workdir>/resume.npz`, and running the same command again resumes from it.
The replay buffer lives in host memory, so that one NumPy file (written
atomically) holds the buffer, the learner's arrays, both random generators
and the simulator's complete `MjData`: the resumed run takes exactly the
steps and gradient updates the uninterrupted one takes. Only
`--total_env_steps` may change between the two commands (to train longer).

Every field of `sac.SACConfig` is a flag of the same name, typed and
documented by the field (`launch.config_flags`).

XLA's CPU threads gain little on these small networks; to keep a core free,
run it as `XLA_FLAGS='--xla_cpu_multi_thread_eigen=false' taskset -c 1 ...`.
"""

import dataclasses
import json
import os
import pickle
import shlex
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import app, flags

from il_jax import export
from il_jax.experts import sac
from il_jax.gymnasium_evaluation import (GYMNASIUM_IDS, make_env,
                                         run_episodes)
from launch import reporting
import launch
from launch import config_flags

_VERSION = flags.DEFINE_enum('version', 'v4', sorted(GYMNASIUM_IDS),
                             'Gymnasium Walker2d version to train in.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Metrics and the export.')
_SEED = flags.DEFINE_integer('seed', 0, 'Random seed.')
_TOTAL_ENV_STEPS = flags.DEFINE_integer('total_env_steps', 1_000_000,
                                        'Environment steps to train for.')
_LEARNING_STARTS = flags.DEFINE_integer(
    'learning_starts', 10_000, 'Uniformly random steps before learning.')
_UPDATES_PER_CALL = flags.DEFINE_integer(
    'updates_per_call', 100, 'Environment steps (and gradient steps) per '
    'compiled learner call.')
_EVAL_EVERY = flags.DEFINE_integer('eval_every', 25_000,
                                   'Evaluate every this many env steps.')
_EVAL_EPISODES = flags.DEFINE_integer(
    'eval_episodes', 10, 'Deterministic episodes per evaluation.')
_config = config_flags.define_config(sac.SACConfig)


class ReplayBuffer:
  """Transitions in host memory, sampled uniformly with replacement."""

  def __init__(self, capacity: int, obs_size: int, action_size: int):
    self.obs = np.zeros((capacity, obs_size), np.float32)
    self.action = np.zeros((capacity, action_size), np.float32)
    self.reward = np.zeros((capacity,), np.float32)
    self.next_obs = np.zeros((capacity, obs_size), np.float32)
    self.terminated = np.zeros((capacity,), np.float32)
    self.size = 0

  def add(self, obs, action, reward, next_obs, terminated) -> None:
    i = self.size % len(self.reward)
    self.obs[i], self.action[i], self.reward[i] = obs, action, reward
    self.next_obs[i], self.terminated[i] = next_obs, terminated
    self.size += 1

  FIELDS = ('obs', 'action', 'reward', 'next_obs', 'terminated')

  def filled(self) -> dict[str, np.ndarray]:
    """The stored transitions, oldest first while the buffer has not
    wrapped: `{field: [min(size, capacity), ...]}`."""
    n = min(self.size, len(self.reward))
    return {name: getattr(self, name)[:n] for name in self.FIELDS}

  def load(self, filled: dict[str, np.ndarray], size: int) -> None:
    """Restores what `filled` returned (and the count `size`)."""
    for name in self.FIELDS:
      getattr(self, name)[:len(filled[name])] = filled[name]
    self.size = size

  def sample(self, rng: np.random.Generator, shape) -> sac.ReplayBatch:
    """`shape = (K, B)` transitions."""
    index = rng.integers(0, min(self.size, len(self.reward)), shape)
    return sac.ReplayBatch(self.obs[index], self.action[index],
                           self.reward[index], self.next_obs[index],
                           self.terminated[index])


def main(argv):
  launch.quiet_logs()
  launch.configure_jax()
  del argv
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required (metrics and the exported '
                         'expert go there).')
  for name, flag in (('total_env_steps', _TOTAL_ENV_STEPS),
                     ('updates_per_call', _UPDATES_PER_CALL),
                     ('eval_every', _EVAL_EVERY),
                     ('eval_episodes', _EVAL_EPISODES)):
    if flag.value <= 0:
      raise app.UsageError(f'--{name}={flag.value} is not valid; expected a '
                           'positive integer.')
  if _LEARNING_STARTS.value < 0:
    raise app.UsageError(f'--learning_starts={_LEARNING_STARTS.value} is not '
                         'valid; expected a non-negative integer.')
  try:
    config = _config()
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  version = _VERSION.value
  env, eval_env = make_env(version), make_env(version)
  obs_size = env.observation_space.shape[0]
  action_size = env.action_space.shape[0]
  learner = sac.make_sac(config, obs_size, action_size)
  workdir = os.path.abspath(_WORKDIR.value)
  os.makedirs(workdir, exist_ok=True)
  print(f'SAC in Gymnasium {GYMNASIUM_IDS[version]}: '
        f'{_TOTAL_ENV_STEPS.value:,} steps on {jax.devices()[0]}; '
        f'workdir {workdir}', flush=True)

  update_many = jax.jit(learner.update_many)
  act = jax.jit(lambda policy, obs, key, step: learner.act(
      policy, obs, jax.random.fold_in(key, step)))
  mode = jax.jit(learner.mode)
  state = jax.jit(learner.init)(jax.random.PRNGKey(_SEED.value))
  act_key = jax.random.PRNGKey(_SEED.value + 1)
  rng = np.random.default_rng(_SEED.value)
  buffer = ReplayBuffer(_TOTAL_ENV_STEPS.value, obs_size, action_size)
  k, batch = _UPDATES_PER_CALL.value, config.batch_size

  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  resume_path = os.path.join(workdir, 'resume.npz')
  obs, _ = env.reset(seed=_SEED.value)
  episode_return, train_returns = 0.0, []
  best = -np.inf
  first_step, wallclock_before = 0, 0.0
  learner_metrics = {}
  settings = _settings()
  if os.path.exists(resume_path):
    (state, host, filled, mjdata, obs) = _load_resume(resume_path, state)
    # A setting the saved run does not record had its default there.
    changed = sorted(k for k in settings if settings[k] != host[
        'settings'].get(k, flags.FLAGS[k].default))
    if changed:
      raise app.UsageError(
          f'{workdir} holds a run with other settings (differs in '
          f'{changed}); use a new --workdir or the same flags to resume.')
    first_step = host['step']
    buffer.load(filled, host['buffer_size'])
    rng.bit_generator.state = host['rng']
    _restore_env(env, mjdata, host['env_rng'], host['elapsed_steps'])
    episode_return, train_returns = host['episode_return'], host['train_returns']
    best, wallclock_before = host['best'], host['wallclock_s']
    learner_metrics = host['learner_metrics']
    _truncate_rows(metrics_path, first_step)
    print(f'resumed at step {first_step:,} from {resume_path}', flush=True)
  start = time.perf_counter() - wallclock_before
  last_time, last_step = time.perf_counter(), first_step
  for step in range(first_step, _TOTAL_ENV_STEPS.value):
    if step < _LEARNING_STARTS.value:
      action = rng.uniform(-1.0, 1.0, action_size).astype(np.float32)
    else:
      action = np.asarray(act(state.policy, obs.astype(np.float32), act_key,
                              step))
    next_obs, reward, terminated, truncated, _ = env.step(action)
    buffer.add(obs, action, reward, next_obs, float(terminated))
    episode_return += float(reward)
    obs = next_obs
    if terminated or truncated:
      train_returns.append(episode_return)
      episode_return = 0.0
      obs, _ = env.reset()
    if step + 1 > _LEARNING_STARTS.value and (step + 1) % k == 0:
      state, learner_metrics = update_many(
          state, buffer.sample(rng, (k, batch)))
    if (step + 1) % _EVAL_EVERY.value == 0 or step + 1 == _TOTAL_ENV_STEPS.value:
      policy = state.policy
      returns = run_episodes(
          eval_env, lambda obs: np.asarray(mode(policy,
                                                obs.astype(np.float32))),
          _EVAL_EPISODES.value, seed=10_000 + step)['return']
      now = time.perf_counter()
      row = {
          'env_steps': step + 1,
          'gradient_steps': int(state.updates),
          'wallclock_s': now - start,
          'Env_Steps_Per_Second': (step + 1 - last_step) / (now - last_time),
          'Train_AverageReturn': (float(np.mean(train_returns[-10:]))
                                  if train_returns else float('nan')),
          'Eval_AverageReturn': float(np.mean(returns)),
          'Eval_StdReturn': float(np.std(returns)),
          **{name: float(np.mean(value))
             for name, value in jax.device_get(learner_metrics).items()},
      }
      last_time, last_step = now, step + 1
      improved = row['Eval_AverageReturn'] > best
      if improved:
        best = row['Eval_AverageReturn']
        _export(workdir, learner, config, state, row, version)
      print(f"steps {step + 1:,}  {row['Env_Steps_Per_Second']:.0f} steps/s  "
            f"train return {row['Train_AverageReturn']:.1f}  eval return "
            f"{row['Eval_AverageReturn']:.1f} +- {row['Eval_StdReturn']:.1f}"
            f"{'  (exported)' if improved else ''}  "
            f"alpha {row.get('alpha', float('nan')):.3f}", flush=True)
      with open(metrics_path, 'a') as f:
        f.write(json.dumps(row) + '\n')
      mjdata, env_rng, elapsed = _env_state(env)
      _save_resume(resume_path, state, buffer, mjdata, obs, {
          'settings': settings, 'step': step + 1,
          'buffer_size': buffer.size, 'rng': rng.bit_generator.state,
          'env_rng': env_rng, 'elapsed_steps': elapsed,
          'episode_return': episode_return, 'train_returns': train_returns,
          'best': best, 'wallclock_s': row['wallclock_s'],
          'learner_metrics': {name: float(np.mean(value)) for name, value in
                              jax.device_get(learner_metrics).items()}})
  print(f'best evaluation {best:.1f}; expert in {workdir}/expert')


def _settings() -> dict:
  """Every flag that shapes the run except its length, as JSON values."""
  names = ('version', 'seed', 'learning_starts', 'updates_per_call',
           'eval_every', 'eval_episodes',
           *(field.name for field in dataclasses.fields(sac.SACConfig)))
  return {name: flags.FLAGS[name].value for name in names}


def _time_limit(env):
  """The `TimeLimit` wrapper inside a `gymnasium.make` environment."""
  import gymnasium  # pylint: disable=g-import-not-at-top
  wrapper = env
  while not isinstance(wrapper, gymnasium.wrappers.TimeLimit):
    wrapper = wrapper.env
  return wrapper


def _env_state(env) -> tuple[bytes, dict, int]:
  """The simulator's whole `MjData` (warm starts included, so stepping on
  from a restored copy is bit-identical), the reset noise generator's state
  and the steps taken in the current episode."""
  return (pickle.dumps(env.unwrapped.data),
          env.unwrapped.np_random.bit_generator.state,
          _time_limit(env)._elapsed_steps)  # pylint: disable=protected-access


def _restore_env(env, mjdata: bytes, env_rng: dict, elapsed: int) -> None:
  import mujoco  # pylint: disable=g-import-not-at-top
  model = env.unwrapped.model
  mujoco.mj_copyData(env.unwrapped.data, model, pickle.loads(mjdata))
  env.unwrapped.np_random.bit_generator.state = env_rng
  _time_limit(env)._elapsed_steps = elapsed  # pylint: disable=protected-access


def _save_resume(path: str, state: sac.SACState, buffer: ReplayBuffer,
                 mjdata: bytes, obs: np.ndarray, host: dict) -> None:
  """Writes the training state to `path` atomically (a crash mid-write
  leaves the previous file)."""
  leaves = {f'learner_{i}': np.asarray(leaf) for i, leaf in
            enumerate(jax.tree.leaves(jax.device_get(state)))}
  buffers = {f'buffer_{name}': value
             for name, value in buffer.filled().items()}
  temporary = path + '.tmp.npz'
  np.savez(temporary, host=np.array(json.dumps(host)), obs=obs,
           mjdata=np.frombuffer(mjdata, np.uint8), **leaves, **buffers)
  os.replace(temporary, path)


def _load_resume(path: str, like: sac.SACState):
  """`(learner state shaped like `like`, host dict, buffer transitions,
  MjData bytes, current observation)` from `_save_resume`'s file."""
  with np.load(path) as saved:
    leaves, treedef = jax.tree.flatten(like)
    state = jax.tree.unflatten(
        treedef, [jax.numpy.asarray(saved[f'learner_{i}'], leaf.dtype)
                  for i, leaf in enumerate(leaves)])
    filled = {name: saved[f'buffer_{name}'] for name in ReplayBuffer.FIELDS}
    return (state, json.loads(str(saved['host'])), filled,
            saved['mjdata'].tobytes(), saved['obs'])


def _truncate_rows(metrics_path: str, step: int) -> None:
  """Drops rows a killed run wrote after its last saved state."""
  if not os.path.exists(metrics_path):
    return
  with open(metrics_path) as f:
    rows = [line for line in f if json.loads(line)['env_steps'] <= step]
  with open(metrics_path, 'w') as f:
    f.writelines(rows)


def _export(workdir, learner, config, state, row, version):
  """Writes the expert (actor + identity normaliser), its card and a NumPy
  policy file."""
  expert_dir = os.path.join(workdir, 'expert')
  params = jax.device_get(sac.export(state, learner.policy_spec.
                                     observation_size))
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(os.path.join(expert_dir, 'params'), params, force=True)
  checkpointer.wait_until_finished()
  card = {
      'algorithm': 'sac',
      'env': 'walker2d',
      'env_options': {'version': version},
      'simulator': f'gymnasium {GYMNASIUM_IDS[version]} (C MuJoCo)',
      'policy_spec': learner.policy_spec.to_dict(),
      'eval': {
          'Eval_AverageReturn': row['Eval_AverageReturn'],
          'Eval_StdReturn': row['Eval_StdReturn'],
          'Eval_NumEpisodes': _EVAL_EPISODES.value,
      },
      'env_steps': row['env_steps'],
      'gradient_steps': row['gradient_steps'],
      'wallclock_s': row['wallclock_s'],
      'device': reporting.device_name(),
      'seed': _SEED.value,
      'config': dataclasses.asdict(config),
      'learning_starts': _LEARNING_STARTS.value,
      'command': 'python -m launch.train_expert_gymnasium ' +
                 shlex.join(sys.argv[1:]),
  }
  with open(os.path.join(expert_dir, 'card.json'), 'w') as f:
    json.dump(card, f, indent=2)
  export.export_ppo_expert(
      os.path.join(expert_dir, 'policy'), learner.policy_spec, params,
      env={'name': 'walker2d', 'version': version},
      metadata={'algorithm': 'sac', 'env_steps': row['env_steps']})


if __name__ == '__main__':
  launch.run_app(main)
