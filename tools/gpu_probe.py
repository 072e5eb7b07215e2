"""The four-minute GPU probe: every GPU figure the project tracks, in one go.

A lent GPU comes for minutes, so the probe is built to finish on a fresh H200
within `--budget_s` (240 s), compiles included. Its parts run as concurrent
worker processes, so that tracing and compiling (CPU work, about a minute
for a Walker2d program) overlap; the timed runs take turns on the GPU under
a file lock. Each row is printed and appended to `<out>/probe.jsonl` as soon
as it is measured; `<out>/probe.md` tabulates them at the end, and a part
still running at the deadline is killed and reported as such.

Parts, in priority order:
  warp              `impl='warp'` rows, only where `warp` imports: raw
                    stepping in the default setting and in MuJoCo
                    Playground's Walker setting, then one DAgger iteration
                    at 8192 environments
  step_playground   raw stepping (`impl='jax'`) in Playground's setting
  step_gpu          raw stepping, default `gpu` setting, XLA flags on
  step_gpu_noflags  the same without `launch.GPU_XLA_FLAGS`
  step_fast         the `fast` preset (the default before `gpu`)
  step_faithful     the `faithful` preset
  cs285             the CS285 DAgger protocol, 5 seeds in one program, end
                    to end through `il_jax.experiment.run` (compile and run
                    reported separately)
  dagger_8192       one DAgger iteration at 8192 environments, against raw
                    stepping at the same batch (from `step_gpu`)
  policies          every registered policy family (history families on
                    windows [B, k, obs]) at Walker2d's sizes (17
                    observations, 6 actions), through
                    `tools.bench_policies.measure_family`: gradient steps/s
                    at minibatch 1024 (`POLICY_TRAIN_STEPS` steps in one
                    `lax.scan`) and `mode` actions/s on 1024 observations,
                    best of `POLICY_REPEATS`; one row per family, tabulated
                    apart in probe.md
Raw stepping: the wrapped (time limit, auto-reset) environment under
uniformly random actions, at 1, 1024, 8192 and 65536 environments; one
warm-up call of a short `lax.scan`, then timed calls of it for at least
`--min_timed_s`.

On the device machine (wheels of `make wheels` carried as `.whl`):

  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \\
      --upgrade --target /tmp/site .whl/*.whl && \\
  PYTHONPATH=/tmp/site:$PWD python3 -m tools.gpu_probe --out=$OUT

  python -m tools.gpu_probe --smoke --out=/tmp/probe   # tiny, on a CPU
"""

import contextlib
import dataclasses
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

import launch

_OUT = flags.DEFINE_string('out', os.environ.get('OUT', 'bench_out/gpu_probe'),
                           'Folder for probe.jsonl, probe.md and the logs.')
_BUDGET_S = flags.DEFINE_float('budget_s', 235.0,
                               'Seconds the whole probe may take.')
_PARTS = flags.DEFINE_list('parts', None, 'Parts to run; default all.')
_SMOKE = flags.DEFINE_bool(
    'smoke', False, 'Tiny sizes (2 environments, a few steps, the loop '
    'parts on tightrope): checks the probe itself on a CPU.')
_MIN_TIMED_S = flags.DEFINE_float(
    'min_timed_s', 0.5, 'Timed calls of a stepping program go on until '
    'this many seconds have passed (at least one call).')
_WORKER = flags.DEFINE_string('worker', None, 'Internal: run this part.')
_DEADLINE = flags.DEFINE_float('deadline', None,
                               'Internal: the parent\'s deadline (epoch s).')

BATCH_SIZES = (1, 1024, 8192, 65536)
# The `policies` part: a fixed, small amount of timed work per family, so
# that all of them together take seconds of GPU time (their compiles, CPU
# work, take longer).
POLICY_BATCH = 1024
POLICY_TRAIN_STEPS = 100
POLICY_REPEATS = 2

# MuJoCo Playground's Walker solver (Euler, 2 Newton and 5 line-search
# iterations). Playground also steps 0.0025 s at a 0.025 s control period;
# ours keeps Walker2d-v4's 4 x 0.002 s, so the rows compare solvers, not
# time steps.
PLAYGROUND = {'integrator': 'euler', 'iterations': 2, 'ls_iterations': 5}


def setting_options(setting: str) -> dict:
  """Walker2d's options for a probe setting: a solver preset, or
  'playground'."""
  return dict(PLAYGROUND) if setting == 'playground' else {'solver': setting}
ROWS_FILE = 'probe.jsonl'


@dataclasses.dataclass(frozen=True)
class Part:
  """A worker: `kind` says what it measures; `setting` a Walker2d solver
  preset; `xla_flags` whether `launch.GPU_XLA_FLAGS` apply."""
  name: str
  kind: str
  setting: str = 'gpu'
  xla_flags: bool = True
  # Steps per stepping call: fewer for the settings whose steps are slow.
  steps_per_call: int = 20
  # CPU priority (`nice`) of the worker: tracing and compiling all parts at
  # once oversubscribes the machine's cores, so the parts that matter most
  # get them first.
  niceness: int = 0


PARTS = (
    Part('warp', 'warp'),
    Part('step_gpu', 'step'),
    Part('step_playground', 'step', setting='playground', niceness=10),
    Part('step_gpu_noflags', 'step', xla_flags=False, niceness=5),
    Part('step_fast', 'step', setting='fast', steps_per_call=10, niceness=5),
    Part('step_faithful', 'step', setting='faithful', steps_per_call=2,
         niceness=15),
    Part('cs285', 'cs285'),
    Part('dagger_8192', 'dagger'),
    Part('policies', 'policies', niceness=19),
)


def _part(name: str) -> Part:
  by_name = {p.name: p for p in PARTS}
  if name not in by_name:
    raise app.UsageError(f'--parts: unknown part {name!r}; expected some of '
                         f'{", ".join(by_name)}.')
  return by_name[name]


# ---------------------------------------------------------------- the worker


class _Recorder:
  """Appends rows to `<out>/probe.jsonl`; serialises GPU time with a lock."""

  def __init__(self, out: str, part: Part, deadline: float):
    self.out, self.part, self.deadline = out, part, deadline
    self._lock = open(os.path.join(out, '.gpu.lock'), 'a')

  def left_s(self) -> float:
    return self.deadline - time.time()

  @contextlib.contextmanager
  def gpu(self):
    """Holds the GPU for a timed run, at full CPU priority: the host side
    of the solver's loops must not wait behind other parts' compiles."""
    fcntl.flock(self._lock, fcntl.LOCK_EX)
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    with contextlib.suppress(PermissionError):
      os.setpriority(os.PRIO_PROCESS, 0, 0)
    try:
      yield
    finally:
      with contextlib.suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
      fcntl.flock(self._lock, fcntl.LOCK_UN)

  def write(self, **row) -> None:
    import jax  # pylint: disable=g-import-not-at-top
    row = {'part': self.part.name, **row,
           'device': jax.devices()[0].device_kind,
           'xla_flags': self.part.xla_flags and launch.has_cuda_plugin()}
    with open(os.path.join(self.out, ROWS_FILE), 'a') as f:
      fcntl.flock(f, fcntl.LOCK_EX)
      f.write(json.dumps(row) + '\n')


def _stepping_program(env_name: str, options: dict, batch: int, steps: int):
  """`(compiled, state)`: `compiled(state, key) -> (state, reward_sum)`
  steps `batch` wrapped environments `steps` times under random actions."""
  import jax  # pylint: disable=g-import-not-at-top
  from il_jax import envs  # pylint: disable=g-import-not-at-top
  env = envs.wrap(envs.make(env_name, **options),
                  episode_length=envs.env_class(env_name).default_episode_length)

  def run(state, key):
    def step(state, key):
      action = jax.random.uniform(key, (batch, env.action_size), minval=-1.0,
                                  maxval=1.0)
      state = env.step(state, action)
      return state, state.reward.sum()
    state, rewards = jax.lax.scan(step, state, jax.random.split(key, steps))
    return state, rewards.sum()

  state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))
  return jax.jit(run, donate_argnums=0).lower(
      state, jax.random.PRNGKey(1)), state


def _time_stepping(rec: _Recorder, compiled, state, steps: int):
  """Seconds of one warm-up call, then ms per step over timed calls."""
  import jax  # pylint: disable=g-import-not-at-top
  with rec.gpu():
    start = time.perf_counter()
    state, total = compiled(state, jax.random.PRNGKey(2))
    jax.block_until_ready(total)
    warm_s = time.perf_counter() - start
    calls, start = 0, time.perf_counter()
    while True:
      state, total = compiled(state, jax.random.PRNGKey(3 + calls))
      jax.block_until_ready(total)
      calls += 1
      elapsed = time.perf_counter() - start
      if elapsed >= _MIN_TIMED_S.value or elapsed * (calls + 1) / calls > (
          rec.left_s() - 5):
        break
  return warm_s, 1e3 * elapsed / (calls * steps)


def _run_step_part(rec: _Recorder, env_name: str, options: dict,
                   batches, steps: int, **labels) -> None:
  """Lowers each batch's program in turn while earlier ones compile in
  threads, then times them in order."""
  from concurrent.futures import ThreadPoolExecutor  # pylint: disable=g-import-not-at-top
  from il_jax import envs  # pylint: disable=g-import-not-at-top
  trips = getattr(envs.make(env_name, **options), 'loop_trips_per_step', None)

  def compile_one(lowered, began):
    return lowered.compile(), time.perf_counter() - began

  with ThreadPoolExecutor(len(batches)) as pool:
    pending = []
    for batch in batches:
      began = time.perf_counter()
      lowered, state = _stepping_program(env_name, options, batch, steps)
      pending.append((batch, state, pool.submit(compile_one, lowered, began)))
    for batch, state, future in pending:
      compiled, compile_s = future.result()
      if rec.left_s() < 10:
        rec.write(batch=batch, status='skipped: out of time', **labels)
        continue
      warm_s, ms = _time_stepping(rec, compiled, state, steps)
      rec.write(batch=batch, status='ok', compile_s=round(compile_s, 1),
                warmup_s=round(warm_s, 3), ms_per_step=round(ms, 3),
                env_steps_per_s=round(batch * 1e3 / ms),
                loop_trips_per_step=trips, **labels)
      del compiled, state


def _cs285_config(smoke: bool):
  from il_jax.config import ImitationConfig  # pylint: disable=g-import-not-at-top
  from il_jax.experiment import RunConfig  # pylint: disable=g-import-not-at-top
  if smoke:
    imitation = ImitationConfig(
        n_iter=2, num_envs=1, expert_steps_per_env=20, steps_per_iter=10,
        train_steps_per_iter=10, train_batch_size=8, eval_episodes=2,
        episode_length=10)
    return RunConfig(algo='dagger', env='tightrope', num_seeds=2,
                     imitation=imitation)
  from experiments import walker2d_bc_vs_dagger  # pylint: disable=g-import-not-at-top
  return RunConfig(algo='dagger', env='walker2d', policy='mlp', num_seeds=5,
                   imitation=walker2d_bc_vs_dagger.IMITATION)


def _run_cs285(rec: _Recorder, smoke: bool) -> None:
  import numpy as np  # pylint: disable=g-import-not-at-top
  from il_jax import experiment  # pylint: disable=g-import-not-at-top
  config = _cs285_config(smoke)
  start = time.perf_counter()
  with tempfile.TemporaryDirectory() as workdir:
    rows = experiment.run(config, workdir, verbose=False)
  total_s = time.perf_counter() - start
  last = [r for r in rows if r['Iteration'] == config.imitation.n_iter - 1]
  first_seed = [r for r in rows if r.get('Seed', 0) == 0] or rows
  rec.write(env=config.env, seeds=config.num_seeds,
            n_iter=config.imitation.n_iter, status='ok',
            end_to_end_s=round(total_s, 3),
            compile_s=round(sum(r.get('Compile_Seconds', 0.0)
                                for r in first_seed), 3),
            run_s=round(sum(r['Iteration_Seconds'] for r in first_seed), 4),
            final_eval_return=round(float(np.mean(
                [r['Eval_AverageReturn'] for r in last])), 1),
            expert_return=round(float(np.mean(
                [r['Expert_AverageReturn'] for r in last])), 1))


def _run_dagger(rec: _Recorder, smoke: bool, env_options=(), **labels
                ) -> None:
  """One DAgger iteration (train, then the evaluation beside the next
  collection, aggregate) at `num_envs` environments, timed after an AOT
  compile; its env-steps/s is set against raw stepping at that batch.
  `env_options` are Walker2d's (e.g. `(('impl', 'warp'),)`)."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from il_jax import experiment  # pylint: disable=g-import-not-at-top
  from il_jax.config import ImitationConfig  # pylint: disable=g-import-not-at-top
  num_envs, length, env_name = (8, 10, 'tightrope') if smoke else (
      8192, 1000, 'walker2d')
  imitation = ImitationConfig(
      n_iter=2, num_envs=num_envs, expert_steps_per_env=10,
      steps_per_iter=num_envs * length, train_steps_per_iter=1000,
      train_batch_size=1024, learning_rate=5e-3, eval_episodes=64,
      episode_length=length)
  config = experiment.RunConfig(
      algo='dagger', env=env_name, policy='mlp', imitation=imitation,
      env_options=() if smoke else tuple(env_options))
  _, _, _, fns = experiment.build(config)
  began = time.perf_counter()
  init = jax.jit(fns.init).lower(jax.random.PRNGKey(0)).compile()
  state = init(jax.random.PRNGKey(0))
  iteration = jax.jit(fns.iteration).lower(state, np.int32(0)).compile()
  compile_s = time.perf_counter() - began
  with rec.gpu():
    start = time.perf_counter()
    state, metrics = iteration(state, np.int32(0))
    jax.block_until_ready(metrics)
    seconds = time.perf_counter() - start
  env_steps = num_envs * length + imitation.eval_episodes * length
  rec.write(env=env_name, batch=num_envs, status='ok',
            compile_s=round(compile_s, 1), iteration_s=round(seconds, 2),
            env_steps=env_steps, env_steps_per_s=round(env_steps / seconds),
            train_steps=imitation.train_steps_per_iter, **labels)


def _run_warp(rec: _Recorder, batches, steps: int, smoke: bool) -> None:
  """Raw stepping on `impl='warp'` in the default and Playground settings
  (their `impl='jax'` rows come from `step_gpu` and `step_playground`), then
  one DAgger iteration on it."""
  from il_jax.envs import mjx_warp  # pylint: disable=g-import-not-at-top
  try:
    mjx_warp.require_warp()
  except ImportError as error:
    rec.write(impl='warp', status=f'skipped: {error}')
    return
  for setting in ('gpu', 'playground'):
    _run_step_part(rec, 'walker2d',
                   {**setting_options(setting), 'impl': 'warp'}, batches,
                   steps, env='walker2d', setting=setting, impl='warp',
                   steps_per_call=steps)
  if smoke:
    # The smoke DAgger runs on tightrope, which has no `impl`; the
    # `dagger_8192` part already checks that path on the CPU.
    rec.write(impl='warp', status='skipped: DAgger on Warp is not smoked')
    return
  _run_dagger(rec, smoke, env_options=(('impl', 'warp'),), impl='warp',
              setting='gpu')


def _run_policies(rec: _Recorder, smoke: bool) -> None:
  """Training and acting cost of every registered policy family, one row
  each, timed under the GPU lock (compiles outside it)."""
  from il_jax import policies  # pylint: disable=g-import-not-at-top
  from tools import bench_policies  # pylint: disable=g-import-not-at-top
  if smoke:
    sizes = dict(batch_size=8, train_steps=2, act_batch=8, repeats=1,
                 dataset_size=64)
  else:
    sizes = dict(batch_size=POLICY_BATCH, train_steps=POLICY_TRAIN_STEPS,
                 act_batch=POLICY_BATCH, repeats=POLICY_REPEATS)
  batch_size = sizes.pop('batch_size')
  for family in policies.registered_names():
    if rec.left_s() < 10:
      rec.write(family=family, batch=batch_size,
                status='skipped: out of time')
      continue
    began = time.perf_counter()
    r = bench_policies.measure_family(family, batch_size, timing=rec.gpu,
                                      **sizes)
    rec.write(family=family, batch=batch_size, status='ok',
              train_steps=sizes['train_steps'],
              grad_steps_per_s=round(r['grad_steps_per_s'], 1),
              act_batch=r['act_batch'],
              actions_per_s=round(r['actions_per_s']),
              total_s=round(time.perf_counter() - began, 1))


def _worker(part: Part) -> None:
  os.makedirs(_OUT.value, exist_ok=True)
  rec = _Recorder(_OUT.value, part, _DEADLINE.value or time.time() + 1e9)
  smoke = _SMOKE.value
  if part.kind == 'step':
    batches = (2,) if smoke else BATCH_SIZES
    steps = 2 if smoke else part.steps_per_call
    _run_step_part(rec, 'walker2d', setting_options(part.setting), batches,
                   steps, env='walker2d', setting=part.setting, impl='jax',
                   steps_per_call=steps)
  elif part.kind == 'cs285':
    _run_cs285(rec, smoke)
  elif part.kind == 'dagger':
    _run_dagger(rec, smoke, impl='jax')
  elif part.kind == 'policies':
    _run_policies(rec, smoke)
  else:
    _run_warp(rec, (2,) if smoke else BATCH_SIZES,
              2 if smoke else part.steps_per_call, smoke)


# ---------------------------------------------------------------- the parent


def _spawn(part: Part, deadline: float, out: str) -> subprocess.Popen:
  # Workers share the GPU: each allocates what it uses, not 75 % of it.
  env = dict(os.environ, PYTHONUNBUFFERED='1',
             XLA_PYTHON_CLIENT_PREALLOCATE='false')
  if not part.xla_flags:
    env['XLA_FLAGS'] = ' '.join(
        f for f in env.get('XLA_FLAGS', '').split()
        if f.split('=')[0] not in {g.split('=')[0]
                                   for g in launch.GPU_XLA_FLAGS})
  argv = [sys.executable, '-m', 'tools.gpu_probe', f'--worker={part.name}',
          f'--deadline={deadline}', f'--out={out}',
          f'--gpu_xla_flags={part.xla_flags}',
          f'--min_timed_s={_MIN_TIMED_S.value}']
  if _SMOKE.value:
    argv.append('--smoke')
  log = open(os.path.join(out, f'{part.name}.log'), 'w')
  return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                          preexec_fn=lambda: os.nice(part.niceness))


def read_rows(out: str) -> list[dict]:
  """The rows written so far (a line still being written is left out)."""
  path = os.path.join(out, ROWS_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.endswith('\n')]


def _policy_table(rows: list[dict]) -> str:
  """The `policies` part's family rows as markdown."""
  lines = ['| family | batch | gradient steps/s | mode actions/s | act batch '
           '| status | device |', '|' + '---|' * 7]
  for r in rows:
    lines.append('| ' + ' | '.join(str(c) for c in (
        r['family'], r.get('batch', '-'),
        f"{r['grad_steps_per_s']:,}" if 'grad_steps_per_s' in r else '-',
        f"{r['actions_per_s']:,}" if 'actions_per_s' in r else '-',
        r.get('act_batch', '-'), r.get('status', '-'),
        r.get('device', '-'))) + ' |')
  return '\n'.join(lines) + '\n'


def _table(rows: list[dict]) -> str:
  """The rows as markdown, with the DAgger iteration set against raw
  stepping at its batch; the policy families' rows in a table of their
  own below."""
  families = [r for r in rows if r['part'] == 'policies' and 'family' in r]
  rows = [r for r in rows if not (r['part'] == 'policies' and 'family' in r)]
  raw = {(r.get('impl'), r['batch']): r['env_steps_per_s'] for r in rows
         if r['part'] in ('step_gpu', 'warp') and r.get('setting') == 'gpu'
         and 'ms_per_step' in r}
  lines = ['| part | setting | XLA flags | envs | compile s | ms / step | '
           'env-steps/s | other | device |', '|' + '---|' * 9]
  for r in rows:
    other = {k: v for k, v in r.items() if k not in {
        'part', 'setting', 'xla_flags', 'batch', 'compile_s', 'ms_per_step',
        'env_steps_per_s', 'device', 'env', 'impl'}}
    key = (r.get('impl'), r.get('batch'))
    if 'iteration_s' in r and key in raw:
      other['of_raw_stepping'] = f"{r['env_steps_per_s'] / raw[key]:.0%}"
    steps_per_s = r.get('env_steps_per_s')
    lines.append('| ' + ' | '.join(str(c) for c in (
        r['part'], r.get('setting', '-') + (
            f" ({r['impl']})" if 'impl' in r else ''), r.get('xla_flags', '-'),
        r.get('batch', '-'), r.get('compile_s', '-'),
        r.get('ms_per_step', '-'),
        f'{steps_per_s:,}' if steps_per_s else '-',
        ', '.join(f'{k}={v}' for k, v in other.items()),
        r.get('device', '-'))) + ' |')
  main_table = '\n'.join(lines) + '\n' if rows or not families else ''
  if not families:
    return main_table
  return (main_table + ('\n' if main_table else '') +
          'Policy families at Walker2d\'s sizes (17 observations, 6 '
          'actions):\n\n' + _policy_table(families))


def main(argv):
  del argv
  if _WORKER.value:
    launch.quiet_logs()
    launch.configure_jax()
    _worker(_part(_WORKER.value))
    return
  parts = [_part(n) for n in _PARTS.value] if _PARTS.value else list(PARTS)
  out = _OUT.value
  os.makedirs(out, exist_ok=True)
  began = time.time()
  deadline = began + _BUDGET_S.value - 5
  print(f'GPU probe: {len(parts)} parts, budget {_BUDGET_S.value:.0f} s, '
        f'rows in {out}/{ROWS_FILE}', flush=True)
  workers = {p.name: _spawn(p, deadline, out) for p in parts}
  printed = 0
  while True:
    running = [p for p in workers.values() if p.poll() is None]
    rows = read_rows(out)
    for row in rows[printed:]:
      print(json.dumps(row), flush=True)
    printed = len(rows)
    if not running or time.time() > deadline + 3:
      break
    time.sleep(0.5)
  ended = []
  for name, proc in workers.items():
    if proc.poll() is None:
      proc.kill()
      proc.wait()
      ended.append({'part': name, 'status': 'killed at the deadline'})
    elif proc.returncode != 0:
      ended.append({'part': name, 'status': f'failed (exit '
                    f'{proc.returncode}, see {name}.log)'})
  with open(os.path.join(out, ROWS_FILE), 'a') as f:
    for row in ended:
      f.write(json.dumps(row) + '\n')
      print(json.dumps(row), flush=True)
  table = _table(read_rows(out))
  with open(os.path.join(out, 'probe.md'), 'w') as f:
    f.write(f'GPU probe, {time.time() - began:.0f} s, '
            f'{time.strftime("%Y-%m-%d")}: '
            f'`python -m tools.gpu_probe {" ".join(sys.argv[1:])}`\n\n')
    f.write(table)
  print(table, flush=True)


if __name__ == '__main__':
  launch.run_app(main)
