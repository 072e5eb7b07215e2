"""`run(config, workdir)`: a whole imitation experiment with logs and resume.

The library's algorithms are pure (`make_train(...) -> train(key)`); this is
the driver around them that launch scripts and notebooks call: it builds the
environment, policy and expert from names, runs one jitted iteration at a
time over all seeds (vmapped), writes metrics and a checkpoint after every
iteration, and resumes from the last checkpoint of the same workdir.
"""

import dataclasses
import json
import math
import os
import time
from types import MappingProxyType
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from il_jax import envs, logging, policies
from il_jax.algorithms import bc, dagger, hg_dagger
from il_jax.checkpoint import Checkpointer
from il_jax.config import HGDAggerConfig, ImitationConfig
from il_jax.experts import registry as experts
from il_jax.envs.validation import check_choice, check_positive
from il_jax.types import HyperParams

ALGORITHMS = MappingProxyType({
    'bc': bc, 'dagger': dagger, 'hg_dagger': hg_dagger})
CONFIG_FILE = 'config.json'
# The expert's actions at fixed observations, written when a run starts: a
# resumed run must be labelled by the same expert, and `RunConfig.expert`
# alone cannot promise that (None follows whichever expert the environment
# ships as its default; an export directory can be overwritten).
EXPERT_PROBE_FILE = 'expert_probe.npz'
EXPERT_PROBE_SIZE = 64
# float32 networks agree to ~1e-6 across devices and XLA's threading; a
# different expert moves its bounded actions by far more.
EXPERT_PROBE_TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class RunConfig:
  """What to run: names, options and the algorithm's config.

  `env_options` and `policy_options` are tuples of (name, value) pairs so the
  config stays hashable. `expert` is the expert that demonstrates and
  labels: None for the environment's own (`experts.load(env)`), else a
  shipped expert's name (`experts.shipped_names()`) or the directory of an
  export of `launch/train_expert.py` (`<workdir>/expert`).
  """
  algo: str = 'dagger'
  env: str = 'walker2d'
  env_options: tuple[tuple[str, Any], ...] = ()
  policy: str = 'mlp'
  policy_options: tuple[tuple[str, Any], ...] = ()
  seed: int = 0
  num_seeds: int = 1
  imitation: ImitationConfig = ImitationConfig()
  expert: str | None = None

  def __post_init__(self):
    check_choice('algo', self.algo, tuple(ALGORITHMS))
    if (self.algo == 'hg_dagger') != isinstance(self.imitation,
                                               HGDAggerConfig):
      raise ValueError(
          f'algo={self.algo!r} needs imitation to be '
          f"{'an HGDAggerConfig' if self.algo == 'hg_dagger' else 'an ImitationConfig'}"
          f', got {type(self.imitation).__name__}.')
    check_choice('env', self.env, envs.registered_names())
    check_choice('policy', self.policy, policies.registered_names())
    check_positive('num_seeds', self.num_seeds, integer=True)
    if self.expert is not None:
      experts.export_directory(self.expert)

  def to_json(self) -> dict:
    return {**dataclasses.asdict(self),
            'env_options': dict(self.env_options),
            'policy_options': dict(self.policy_options)}


def device_memory_bytes() -> int:
  """Memory of the first device (the host's RAM for a CPU)."""
  stats = jax.devices()[0].memory_stats() or {}
  if 'bytes_limit' in stats:
    return int(stats['bytes_limit'])
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def check_dataset_fits(config: RunConfig, observation_size: int,
                       action_size: int) -> None:
  """Raises ValueError if the datasets of all seeds cannot fit in memory.

  The dataset is preallocated at its full capacity, so this is known before
  anything runs; half the device's memory is left for everything else.
  """
  rows = config.imitation.dataset_capacity(aggregate=config.algo != 'bc')
  needed = rows * (observation_size + action_size) * 4 * config.num_seeds
  available = device_memory_bytes() // 2
  if needed > available:
    raise ValueError(
        f'The dataset needs {needed / 2**30:.1f} GiB ({rows} rows x '
        f'{config.num_seeds} seeds) but only {available / 2**30:.1f} GiB (half '
        'the device memory) is available: lower steps_per_iter, n_iter or '
        'num_seeds.')


def build(config: RunConfig):
  """The environment, policy, expert and `TrainFns` of a run (no compile).

  Raises:
    ValueError: for any invalid name, option or size, before anything is
      compiled.
  """
  env_options = dict(config.env_options)
  env = envs.make(config.env, **env_options)
  policy = policies.make(config.policy, env.observation_size, env.action_size,
                         **dict(config.policy_options))
  check_dataset_fits(config, env.observation_size, env.action_size)
  directory = (None if config.expert is None else
               experts.export_directory(config.expert))
  expert = experts.load(config.env, directory=directory, **env_options)
  fns = ALGORITHMS[config.algo].make_train_fns(config.imitation, env, policy,
                                               expert)
  return env, policy, expert, fns


MEMBER_AXIS = 'members'


def is_primary_process() -> bool:
  """Whether this process writes a run's files (process 0 of a multi-host
  run; always true on one host)."""
  return jax.process_index() == 0


def run_mesh(num_members: int) -> Mesh:
  """The 2-D mesh `('members', 'envs')` of every device of every host.

  Members (seed x hyper-parameter) are independent, so they are split first:
  over `gcd(num_members, devices)` groups of devices, with no communication.
  Each group then splits the environments of its members over its devices
  (`envs.ShardEnvsWrapper`), so one seed with thousands of environments
  uses every device too; the members' datasets and training steps are
  replicated within a group.
  """
  devices = np.asarray(jax.devices())
  groups = math.gcd(num_members, devices.size)
  return Mesh(devices.reshape(groups, devices.size // groups),
              (MEMBER_AXIS, envs.ENV_AXIS))


def member_sharding(num_members: int) -> NamedSharding:
  """How the leading member axis of a run's state is laid out on
  `run_mesh(num_members)`."""
  return NamedSharding(run_mesh(num_members), PartitionSpec(MEMBER_AXIS))


def _to_host(tree):
  """A (possibly multi-host) sharded pytree as numpy arrays on this host."""
  if jax.process_count() > 1:
    return multihost_utils.process_allgather(tree, tiled=True)
  return jax.device_get(tree)


def _steps_per_iteration(config: RunConfig) -> int:
  imitation = config.imitation
  # Every iteration of an aggregating algorithm collects the next one's data.
  collected = imitation.steps_per_iter if config.algo != 'bc' else 0
  evaluated = imitation.eval_episodes * imitation.episode_length
  return (collected + evaluated) * config.num_seeds


def _fill_defaults(saved: dict, current: dict, default_config) -> None:
  """Adds to `saved` each field of `current` that it lacks and that has its
  value in `default_config`."""
  defaults = json.loads(json.dumps(dataclasses.asdict(default_config)))
  for name, value in current.items():
    if name not in saved and value == defaults.get(name, object()):
      saved[name] = value


def _check_same_config(workdir: str, config: RunConfig) -> None:
  path = os.path.join(workdir, CONFIG_FILE)
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    current = json.loads(json.dumps(config.to_json()))
    # A config field added since the run was written, at its default, asks
    # for what the code did before it existed: the same run.
    _fill_defaults(saved, current, RunConfig())
    _fill_defaults(saved.setdefault('imitation', {}), current['imitation'],
                   type(config.imitation)())
    if saved != current:
      changed = sorted(k for k in current if saved.get(k) != current[k])
      raise ValueError(
          f'{workdir} holds a run with another config (differs in '
          f'{changed}); use a new --workdir or the same flags to resume.')


def expert_probe(expert: Callable, observation_size: int
                 ) -> tuple[np.ndarray, np.ndarray]:
  """`(obs [EXPERT_PROBE_SIZE, obs_dim], actions [EXPERT_PROBE_SIZE,
  act_dim])`: the expert's actions at fixed standard-normal observations."""
  obs = jax.random.normal(jax.random.PRNGKey(0),
                          (EXPERT_PROBE_SIZE, observation_size))
  return np.asarray(obs), np.asarray(jax.jit(expert)(obs))


def _check_same_expert(workdir: str, expert: Callable) -> None:
  path = os.path.join(workdir, EXPERT_PROBE_FILE)
  if not os.path.exists(path):  # a run written before the probe existed
    return
  with np.load(path) as saved:
    obs, actions = saved['obs'], saved['actions']
  now = np.asarray(jax.jit(expert)(obs))
  gap = (float(np.max(np.abs(now - actions))) if now.shape == actions.shape
         else math.inf)
  if not gap <= EXPERT_PROBE_TOLERANCE:
    raise ValueError(
        f'{workdir} was started with another expert: at {len(obs)} probe '
        f'observations its actions differ by up to {gap:.3g}. With expert='
        'None a run follows the environment\'s default expert, which may '
        'have changed since; name the expert it started with (e.g. '
        f'--expert=<shipped name>, one of {experts.shipped_names()}) or use '
        'a new --workdir.')


def run(config: RunConfig, workdir: str, resume: bool = False,
        stop_after: int | None = None, verbose: bool = True,
        keys: jax.Array | None = None,
        hparams: HyperParams | None = None,
        progress: Callable[[int, dict], None] | None = None) -> list[dict]:
  """Runs (or resumes) an experiment in `workdir`.

  The run has `config.num_seeds` members, vmapped in one program and split
  over all devices (see `member_sharding`). By default member m is seed m of
  `config.seed` with the config's hyper-parameters; a sweep passes its own
  `keys` and `hparams` to run different hyper-parameters as members.

  Args:
    config: what to run.
    workdir: directory for config.json, metrics (JSONL, CSV, TensorBoard),
      checkpoints and the learning-curve PNG.
    resume: continue from the last checkpoint in `workdir` if there is one.
    stop_after: stop after this many iterations of this call (simulates an
      interruption; the run can be resumed).
    verbose: print a progress line per iteration.
    keys: `[num_seeds, 2]` PRNG keys of the members; by default
      `jax.random.split(PRNGKey(config.seed), num_seeds)`.
    hparams: `HyperParams` with leaves `[num_seeds]`; by default the config's
      values for every member. Ignored when resuming (the checkpoint holds
      them).
    progress: called as `progress(i, metrics)` after every iteration, with
      the host metrics (each `[num_seeds]`).

  Returns:
    The metric rows written so far (one per iteration and seed), on every
    process; only process 0 writes files other than checkpoints.

  Raises:
    ValueError: for invalid configs, or a workdir holding another run.
    FloatingPointError: when the training loss becomes NaN, naming the
      iteration.
  """
  env, _, expert, fns = build(config)
  os.makedirs(workdir, exist_ok=True)
  checkpointer = Checkpointer(workdir)
  start = checkpointer.latest_step() if resume else None
  if start is not None:
    _check_same_config(workdir, config)
    _check_same_expert(workdir, expert)
  # On several hosts every process computes, checkpoints (orbax coordinates
  # them) and gathers the metrics; only process 0 writes the other files.
  primary = is_primary_process()
  if primary:
    with open(os.path.join(workdir, CONFIG_FILE), 'w') as f:
      json.dump(config.to_json(), f, indent=2)
    if start is None:
      obs, actions = expert_probe(expert, env.observation_size)
      np.savez(os.path.join(workdir, EXPERT_PROBE_FILE), obs=obs,
               actions=actions)

  num = config.num_seeds
  if keys is None:
    keys = jax.random.split(jax.random.PRNGKey(config.seed), num)
  if hparams is None:
    hparams = jax.tree.map(
        lambda x: jnp.broadcast_to(x, (num,)),
        HyperParams.from_config(config.imitation))
  sharding = member_sharding(num)
  mesh = sharding.mesh
  if verbose and primary and mesh.shape[envs.ENV_AXIS] > 1:
    print(f'{num} members over {mesh.shape[MEMBER_AXIS]} device group(s); '
          f'each member\'s environments split over '
          f'{mesh.shape[envs.ENV_AXIS]} devices.')
  keys, hparams = jax.device_put((keys, hparams), sharding)
  init = jax.jit(jax.vmap(fns.init, spmd_axis_name=MEMBER_AXIS),
                 out_shardings=sharding)
  iteration = jax.jit(
      jax.vmap(fns.iteration, in_axes=(0, None), spmd_axis_name=MEMBER_AXIS),
      out_shardings=sharding)
  if start is None:
    with jax.set_mesh(mesh):  # traces the environments' split
      state = init(keys, hparams)
    start = 0
  else:
    state = checkpointer.restore(start, jax.eval_shape(init, keys, hparams))
    state = jax.device_put(state, sharding)
    if verbose and primary:
      print(f'Resumed from iteration {start} in {workdir}')
  writer = logging.MetricsWriter(workdir, resume_iteration=start,
                                 primary=primary)

  stop = config.imitation.n_iter
  if stop_after is not None:
    stop = min(stop, start + stop_after)
  for i in range(start, stop):
    began = time.perf_counter()
    with jax.set_mesh(mesh):
      state, metrics = iteration(state, np.int32(i))
    metrics = _to_host(metrics)
    seconds = time.perf_counter() - began
    metrics['Env_Steps_Per_Second'] = np.full(
        config.num_seeds, _steps_per_iteration(config) / seconds)
    metrics['Iteration_Seconds'] = np.full(config.num_seeds, seconds)
    if not np.all(np.isfinite(metrics['Training_Loss'])):
      raise FloatingPointError(
          f'Training_Loss is NaN at iteration {i} '
          f'(seeds {np.flatnonzero(~np.isfinite(metrics["Training_Loss"]))}).')
    writer.write(metrics)
    checkpointer.save(i + 1, state)
    if verbose and primary:
      print(logging.progress_line(metrics), flush=True)
    if progress is not None:
      progress(i, metrics)
  writer.close()
  checkpointer.close()
  if not primary:
    return writer.rows
  if stop == config.imitation.n_iter:
    curve = logging.plot_learning_curve(
        workdir, f'{config.algo} on {config.env} ({config.policy} policy)')
    if verbose and curve:
      print(f'Learning curve: {curve}')
  return logging.read_metrics(workdir)
