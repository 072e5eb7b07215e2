"""`run(config, workdir)`: a whole imitation experiment with logs and resume.

The library's algorithms are pure (`make_train(...) -> train(key)`); this is
the driver around them that launch scripts and notebooks call: it builds the
environment, policy and expert from names, runs one jitted iteration at a
time over all seeds (vmapped), writes metrics and a checkpoint after every
iteration, and resumes from the last checkpoint of the same workdir.
"""

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from il_jax import algorithms, data, envs, logging, policies
from il_jax import workdir as workdirs
from il_jax.checkpoint import Checkpointer
from il_jax.compilation import compile_reported
from il_jax.config import ImitationConfig
from il_jax.experts import registry as experts
from il_jax.envs.validation import check_choice, check_positive
from il_jax.types import HyperParams

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
# The SHA-256 of the run's demonstrations file, for the same reason.
DEMONSTRATIONS_HASH_FILE = 'demonstrations.sha256'
# The run's id, written when it starts and into every checkpoint, so that a
# resumed run restores only checkpoints that it wrote.
RUN_ID_FILE = 'run_id'
CHECKPOINT_DIR = 'checkpoints'
# Everything a run writes in its workdir: what `overwrite` removes.
RUN_FILES = (CONFIG_FILE, EXPERT_PROBE_FILE, DEMONSTRATIONS_HASH_FILE,
             RUN_ID_FILE, CHECKPOINT_DIR,
             logging.METRICS_FILE, logging.CSV_FILE, logging.CURVE_FILE,
             logging.TENSORBOARD_DIR)


@dataclasses.dataclass(frozen=True)
class RunConfig:
  """What to run: names, options and the algorithm's config.

  `env_options` and `policy_options` are tuples of (name, value) pairs so the
  config stays hashable. `expert` is the expert that demonstrates and
  labels: None for the environment's own (`experts.load(env)`), else what
  `experts.resolve` takes (a shipped expert's name, an export directory, an
  exported NumPy policy file or `module:function`). `demonstrations` is a
  file `il_jax.data.load_demonstrations` reads, the initial dataset in place
  of the expert's own demonstrations; BC then never calls the expert.
  `imitation` is
  the algorithm's config (`algorithms.get(algo).config_class`), or the
  shared `ImitationConfig`, whose values it takes with the algorithm's own
  fields at their defaults (None: all defaults), so that one config serves
  BC and DAgger alike. `il_jax.settings.run_config` builds a `RunConfig`
  from flat settings.
  """
  algo: str = 'dagger'
  env: str = 'walker2d'
  env_options: tuple[tuple[str, Any], ...] = ()
  policy: str = 'mlp'
  policy_options: tuple[tuple[str, Any], ...] = ()
  seed: int = 0
  num_seeds: int = 1
  imitation: ImitationConfig | None = None
  expert: str | None = None
  demonstrations: str | None = None

  def __post_init__(self):
    object.__setattr__(self, 'imitation',
                       algorithms.get(self.algo).config(self.imitation))
    check_choice('env', self.env, envs.registered_names())
    check_choice('policy', self.policy, policies.registered_names())
    check_positive('num_seeds', self.num_seeds, integer=True)
    if self.expert is not None:
      experts.check_source(self.expert)
    if self.demonstrations is not None and not os.path.isfile(
        self.demonstrations):
      raise ValueError(f'demonstrations={self.demonstrations!r} is not a '
                       'file; expected demonstrations (.npz or .pkl).')

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
                       action_size: int,
                       demonstration_rows: int | None = None) -> None:
  """Raises ValueError if the datasets of all seeds cannot fit in memory.

  The dataset is preallocated at its full capacity, so this is known before
  anything runs; half the device's memory is left for everything else.
  `demonstration_rows` counts given demonstrations (None: the expert's).
  """
  rows = config.imitation.dataset_capacity(
      aggregate=algorithms.get(config.algo).aggregates,
      demonstration_rows=demonstration_rows)
  needed = rows * (observation_size + action_size) * 4 * config.num_seeds
  available = device_memory_bytes() // 2
  if needed > available:
    raise ValueError(
        f'The dataset needs {needed / 2**30:.1f} GiB ({rows} rows x '
        f'{config.num_seeds} seeds) but only {available / 2**30:.1f} GiB (half '
        'the device memory) is available: lower steps_per_iter, n_iter or '
        'num_seeds.')


def load_demonstrations(config: RunConfig, env) -> data.Demonstrations:
  """The run's demonstrations file, checked against `env` and, under
  `out_of_bounds_labels='error'`, against its action bounds.

  Raises:
    ValueError: in one line, naming the file.
  """
  path = config.demonstrations
  demos = data.load_demonstrations(path)
  try:
    data.demonstrations.check(demos, env.observation_size, env.action_size)
  except ValueError as error:
    raise ValueError(f'{path}: {error}') from None
  if config.imitation.out_of_bounds_labels == 'error':
    outside = int(np.sum(envs.outside_bounds(
        np.asarray(demos.expert_action), envs.action_bounds(env))))
    if outside:
      raise ValueError(
          f'{path}: {outside} of {demos.num_rows} labels are outside the '
          f'action bounds {_bounds_text(env)} '
          "(out_of_bounds_labels='error'); set out_of_bounds_labels='clip' "
          'to clip them.')
  return demos


def _check_expert(expert, env, name: str) -> None:
  """Raises ValueError unless `expert` maps `[obs_size]` to
  `[action_size]`."""
  try:
    out = jax.eval_shape(expert, jax.ShapeDtypeStruct(
        (env.observation_size,), jnp.float32))
  except Exception as error:  # pylint: disable=broad-except
    raise ValueError(f'expert={name!r} cannot be traced as a JAX function of '
                     f'the observation: {type(error).__name__}: '
                     f'{str(error).splitlines()[0] if str(error) else ""}'
                     ) from None
  if getattr(out, 'shape', None) != (env.action_size,):
    raise ValueError(
        f'expert={name!r} maps an observation [{env.observation_size}] to '
        f'{getattr(out, "shape", type(out).__name__)}; the environment '
        f'needs actions [{env.action_size}].')


def build(config: RunConfig):
  """The environment, policy (None for an algorithm with its own learner),
  expert (None when the run never calls it) and `TrainFns` of a run (no
  compile).

  Raises:
    ValueError: for any invalid name, option, file or size, before anything
      is compiled.
  """
  env_options = dict(config.env_options)
  env = envs.make(config.env, **env_options)
  spec = algorithms.get(config.algo)
  # The learner sees its view of the observation (the whole of it unless
  # the env defines one); the expert and the demonstrations see it all.
  policy = (policies.make(config.policy, envs.learner_view(env).size,
                          env.action_size, **dict(config.policy_options))
            if spec.takes_policy else None)
  demos = (None if config.demonstrations is None else
           load_demonstrations(config, env))
  check_dataset_fits(config, env.observation_size, env.action_size,
                     None if demos is None else demos.num_rows)
  expert = None
  if demos is None or spec.aggregates:
    expert = experts.resolve(config.expert, config.env, **env_options)
    _check_expert(expert, env, config.expert or config.env)
  fns = spec.make_train_fns(config.imitation, env, policy, expert, demos)
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
  # Every iteration of an aggregating algorithm collects the next one's
  # data; GAIL's rolls out its learner.
  collected = (imitation.steps_per_iter
               if algorithms.get(config.algo).collects else 0)
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
      changed = '; '.join(
          f'{name}: {_show(old)} → {_show(new)}'
          for name, old, new in _differences(saved, current))
      raise ValueError(
          f'{workdir} holds a run with another config ({changed}); use the '
          'same config to resume, overwrite=True to replace it, or a new '
          'workdir.')


_MISSING = object()


def _show(value) -> str:
  return '(unset)' if value is _MISSING else json.dumps(value)


def _differences(saved: dict, current: dict, prefix: str = ''
                 ) -> list[tuple[str, Any, Any]]:
  """`(dotted name, saved value, current value)` of every leaf field that
  differs, e.g. `('imitation.learning_rate', 0.005, 0.001)`."""
  found = []
  for name in sorted(set(saved) | set(current)):
    old, new = saved.get(name, _MISSING), current.get(name, _MISSING)
    if isinstance(old, dict) and isinstance(new, dict):
      found += _differences(old, new, f'{prefix}{name}.')
    elif old != new:
      found.append((prefix + name, old, new))
  return found


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
        f'expert=<shipped name>, one of {experts.shipped_names()}) or use '
        'a new workdir.')


def _bounds_text(env) -> str:
  low, high = envs.action_bounds(env)
  return f'[{float(low.min()):g}, {float(high.max()):g}]'


def _file_sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(1 << 20), b''):
      digest.update(block)
  return digest.hexdigest()


def _check_same_demonstrations(workdir: str, config: RunConfig) -> None:
  """Raises ValueError if the run's demonstrations file has changed since
  it started (the config names the file, not its content)."""
  path = os.path.join(workdir, DEMONSTRATIONS_HASH_FILE)
  if config.demonstrations is None or not os.path.exists(path):
    return
  with open(path) as f:
    started_with = f.read().strip()
  if _file_sha256(config.demonstrations) != started_with:
    raise ValueError(
        f'{workdir} was started with other demonstrations: '
        f'{config.demonstrations} has changed since (its SHA-256 differs); '
        'restore the file or use a new workdir.')


def check_workdir_use(workdir: str, resume: bool, overwrite: bool) -> None:
  """Raises ValueError if `workdir` holds a run (any of `RUN_FILES`) and
  neither `resume` nor `overwrite` is given, or if both are."""
  if resume and overwrite:
    raise ValueError('resume continues the run in the workdir and '
                     'overwrite deletes it: pass one of them.')
  present = [name for name in RUN_FILES
             if os.path.exists(os.path.join(workdir, name))]
  if present and not (resume or overwrite):
    raise ValueError(
        f'{workdir} holds a run ({", ".join(present)}); resume it, '
        'overwrite it (delete it and start again), or use a new workdir.')


def _prepare_workdir(workdir: str, config: RunConfig, resume: bool,
                     overwrite: bool) -> None:
  """Refuses a workdir holding a run unless resuming it (with the same
  config) or overwriting it (removing it); gives a new run its run id."""
  check_workdir_use(workdir, resume, overwrite)
  if overwrite:
    for name in RUN_FILES:
      path = os.path.join(workdir, name)
      if os.path.isdir(path):
        shutil.rmtree(path)
      elif os.path.exists(path):
        os.remove(path)
  if resume:
    _check_same_config(workdir, config)
  has_checkpoints = resume and os.path.isdir(
      os.path.join(workdir, CHECKPOINT_DIR)) and bool(
          Checkpointer(workdir).all_steps())
  if not has_checkpoints:
    with open(os.path.join(workdir, RUN_ID_FILE), 'w') as f:
      f.write(uuid.uuid4().hex)


def _run_id(workdir: str) -> str | None:
  try:
    with open(os.path.join(workdir, RUN_ID_FILE)) as f:
      return f.read().strip()
  except FileNotFoundError:
    return None


def _divergence_message(i: int, losses: np.ndarray, rows: list[dict]) -> str:
  """One line on a non-finite training loss at iteration `i` (`losses`:
  `[num_seeds]`), with each diverged seed's last finite loss in `rows`."""
  seeds = np.flatnonzero(~np.isfinite(losses))
  last = []
  for seed in seeds:
    finite = [r for r in rows if r['Seed'] == seed and
              math.isfinite(r['Training_Loss'])]
    last.append(f"seed {seed}: {finite[-1]['Training_Loss']:.4g} at "
                f"iteration {finite[-1]['Iteration']}" if finite else
                f'seed {seed}: none')
  return (f'Training_Loss is {losses[seeds[0]]} (not finite) at iteration '
          f'{i} for seed(s) {seeds.tolist()}; last finite loss: '
          f"{', '.join(last)}. Lower learning_rate or set max_grad_norm.")


def run(config: RunConfig, workdir: str, resume: bool = False,
        stop_after: int | None = None, verbose: bool = True,
        keys: jax.Array | None = None,
        hparams: HyperParams | None = None,
        progress: Callable[[int, dict], None] | None = None,
        overwrite: bool = False,
        report: Callable[[str], None] | None = None) -> list[dict]:
  """Runs (or resumes) an experiment in `workdir`.

  A workdir holding a run is refused unless `resume` (continue it, with the
  same config) or `overwrite` (delete it and start again). Resuming restores
  the newest intact checkpoint that this run wrote: a corrupt one is
  reported and skipped for the one before it; with none at all a fresh run
  starts, saying so. One process at a time may run in a workdir (see
  `il_jax.workdir.lock`).

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
    verbose: print, on the primary process, a progress line per iteration
      when `progress` is None and the messages when `report` is None.
    keys: `[num_seeds, 2]` PRNG keys of the members; by default
      `jax.random.split(PRNGKey(config.seed), num_seeds)`.
    hparams: `HyperParams` with leaves `[num_seeds]`; by default the config's
      values for every member. Ignored when resuming (the checkpoint holds
      them).
    progress: called as `progress(i, metrics)` after every iteration, with
      the host metrics (each `[num_seeds]`), like brax's `progress_fn`.
    overwrite: delete the run in `workdir` (every file a run writes) first.
    report: called with one-line messages (compiling, resuming, a skipped
      checkpoint).

  Returns:
    The metric rows written so far (one per iteration and seed), on every
    process; only process 0 writes files other than checkpoints.

  Raises:
    ValueError: for invalid configs; a workdir that cannot be written, is
      in use, or holds a run (another config's, when resuming); or when no
      checkpoint is intact (`il_jax.checkpoint.CheckpointError`). Each
      message is one line.
    FloatingPointError: when the training loss is NaN or infinite, naming
      the iteration, the seeds and their last finite loss.
  """
  if resume and overwrite:
    check_workdir_use(workdir, resume, overwrite)  # refuses both
  built = build(config)  # every name and value is checked first
  primary = is_primary_process()
  if report is None:
    report = ((lambda message: print(message, flush=True))
              if verbose and primary else (lambda message: None))
  if progress is None and verbose and primary:
    progress = lambda i, metrics: print(logging.progress_line(metrics),
                                        flush=True)
  if primary:
    workdirs.check_writable(workdir)
  else:
    os.makedirs(workdir, exist_ok=True)
  with workdirs.lock(workdir) if primary else contextlib.nullcontext():
    return _run(config, workdir, built, resume, overwrite, stop_after,
                keys, hparams, progress, report)


def _run(config, workdir, built, resume, overwrite, stop_after, keys,
         hparams, progress, report) -> list[dict]:
  """`run` in a locked workdir."""
  env, _, expert, fns = built
  # On several hosts every process computes, checkpoints (orbax coordinates
  # them) and gathers the metrics; only process 0 writes the other files.
  primary = is_primary_process()
  if primary:
    _prepare_workdir(workdir, config, resume, overwrite)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(f'il_jax: {workdir} prepared')
  checkpointer = Checkpointer(workdir, run_id=_run_id(workdir))

  num = config.num_seeds
  if keys is None:
    keys = jax.random.split(jax.random.PRNGKey(config.seed), num)
  if hparams is None:
    hparams = jax.tree.map(lambda x: jnp.broadcast_to(x, (num,)),
                           config.imitation.hyperparams())
  sharding = member_sharding(num)
  mesh = sharding.mesh
  if mesh.shape[envs.ENV_AXIS] > 1:
    report(f'{num} members over {mesh.shape[MEMBER_AXIS]} device group(s); '
           f'each member\'s environments split over '
           f'{mesh.shape[envs.ENV_AXIS]} devices.')
  keys, hparams = jax.device_put((keys, hparams), sharding)
  init = jax.jit(jax.vmap(fns.init, spmd_axis_name=MEMBER_AXIS),
                 out_shardings=sharding)
  iteration = jax.jit(
      jax.vmap(fns.iteration, in_axes=(0, None), spmd_axis_name=MEMBER_AXIS),
      out_shardings=sharding)
  # Programs are compiled ahead of time, so that the first iteration's
  # timing is the iteration's alone; `Compile_Seconds` reports the rest.
  compile_seconds = 0.0
  if resume:
    _check_same_demonstrations(workdir, config)
  restored = (checkpointer.restore_latest(
      jax.eval_shape(init, keys, hparams), report) if resume else None)
  if restored is not None and expert is not None:
    _check_same_expert(workdir, expert)
  if primary:
    with open(os.path.join(workdir, CONFIG_FILE), 'w') as f:
      json.dump(config.to_json(), f, indent=2)
  if restored is None:
    if resume:
      report(f'No checkpoint in {workdir}: starting a fresh run.')
    if primary and expert is not None:
      obs, actions = expert_probe(expert, env.observation_size)
      np.savez(os.path.join(workdir, EXPERT_PROBE_FILE), obs=obs,
               actions=actions)
    if primary and config.demonstrations is not None:
      with open(os.path.join(workdir, DEMONSTRATIONS_HASH_FILE), 'w') as f:
        f.write(_file_sha256(config.demonstrations))
    with jax.set_mesh(mesh):  # traces the environments' split
      init, compile_seconds = compile_reported(
          init, keys, hparams, report=report,
          name='the demonstrations and initial state')
      state = init(keys, hparams)
    start = 0
  else:
    start, state = restored
    state = jax.device_put(state, sharding)
    report(f'Resumed from iteration {start} in {workdir}')
  stop = config.imitation.n_iter
  if stop_after is not None:
    stop = min(stop, start + stop_after)
  if start < stop:
    with jax.set_mesh(mesh):
      iteration, seconds = compile_reported(
          iteration, state, np.int32(start),
          name=f'the {config.algo} iteration', report=report)
    compile_seconds += seconds
  writer = logging.MetricsWriter(workdir, resume_iteration=start,
                                 primary=primary)
  for i in range(start, stop):
    began = time.perf_counter()
    with jax.set_mesh(mesh):
      state, metrics = iteration(state, np.int32(i))
    metrics = _to_host(metrics)
    seconds = time.perf_counter() - began
    # All members together: the program's throughput, not one seed's.
    metrics['Env_Steps_Per_Second'] = np.full(
        config.num_seeds, _steps_per_iteration(config) / seconds)
    metrics['Iteration_Seconds'] = np.full(config.num_seeds, seconds)
    metrics['Compile_Seconds'] = np.full(config.num_seeds, compile_seconds)
    compile_seconds = 0.0
    if not np.all(np.isfinite(metrics['Training_Loss'])):
      raise FloatingPointError(_divergence_message(
          i, metrics['Training_Loss'], writer.rows))
    if (config.imitation.out_of_bounds_labels == 'error' and
        np.any(metrics['Labels_OutOfBounds'] > 0)):
      count = int(np.max(metrics['Labels_OutOfBounds']))
      raise ValueError(
          f'Iteration {i} trained on {count} expert labels outside the '
          f"action bounds {_bounds_text(env)} (out_of_bounds_labels='error'"
          "); out_of_bounds_labels='clip' clips them.")
    writer.write(metrics)
    checkpointer.save(i + 1, state)
    if progress is not None:
      progress(i, metrics)
  writer.close()
  checkpointer.close()
  if not primary:
    return writer.rows
  if stop == config.imitation.n_iter:
    curve = logging.plot_learning_curve(
        workdir, f'{config.algo} on {config.env} ({config.policy} policy)')
    if curve:
      report(f'Learning curve: {curve}')
  return logging.read_metrics(workdir)
