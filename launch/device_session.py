"""Every GPU-only measurement the open issues ask for, as one prepared command.

A lent GPU comes with a fixed, short allowance of device time (15 minutes a
session, a machine's start included, at most 10 minutes a command), so the
measurements run as one plan: steps in priority order, each a subprocess
(`python -m launch.<module> ...`) whose timeout is what the budget has left.
A step that cannot start with its minimum time is skipped and said so, and
so is a step whose results an accelerator already wrote (unless
`--remeasure`): the same command on the next lent machine goes on. After
every step the files that carry results back (at most eight, flat) are
refreshed under `--out`, so a call killed at its limit still returns all
that finished:

  BENCHMARKS.md, RESULTS.md   as the steps left them (rows appended by the
                              measuring scripts themselves, with the device)
  session.log                 every step's output
  summary.json                the plan, each step's status and seconds, the
                              versions and devices it ran with
  artifacts.tar.gz            experiment tables and plots, the PPO expert's
                              export, card and metrics

On the device machine (wheels from `make wheels`, carried as `.whl`):

  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \\
      --upgrade --target /tmp/site .whl/*.whl && \\
  export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 && \\
  python3 -m launch.device_session --out=$OUT --budget_s=540

  python -m launch.device_session --dry_run            # the plan, here
  python -m launch.device_session --steps=ppo_expert --budget_s=540
"""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

from absl import app, flags

from experiments import walker2d_bc_vs_dagger_gpu
from launch import reporting

_OUT = flags.DEFINE_string(
    'out', os.environ.get('OUT', 'bench_out/device_session'),
    'Folder for the files that come back (default $OUT).')
_BUDGET_S = flags.DEFINE_float(
    'budget_s', 540.0, 'Seconds the whole plan may take; keep it under the '
    "command's timeout.")
_STEPS = flags.DEFINE_list('steps', None, 'Steps to run, in this order; '
                           'default every step in priority order.')
_DRY_RUN = flags.DEFINE_bool('dry_run', False, 'Print the plan and exit.')
_REMEASURE = flags.DEFINE_bool(
    'remeasure', False, 'Also run steps whose results an accelerator has '
    'already written to BENCHMARKS.md or RESULTS.md.')

# Left to the plan after a step's timeout: copying results, killing stragglers.
_MARGIN_S = 10.0


@dataclasses.dataclass(frozen=True)
class Step:
  """One measurement: `python -m <module> <args>`.

  `min_s`: do not start with less of the budget left (a step cut off before
  its first row is written is time wasted). `wallclock_flag`: a flag of the
  module that receives the budget left minus `wallclock_reserve_s`, for steps
  that stop themselves in time and still write their results.
  """
  name: str
  issue: int
  module: str
  args: tuple[str, ...]
  min_s: float
  what: str
  wallclock_flag: str | None = None
  wallclock_reserve_s: float = 0.0
  # `(file, section)` whose accelerator rows mean the step has been measured
  # (for a section without a device column, its presence does).
  measured_in: tuple[str, str] | None = None


PPO_WORKDIR = 'runs/device_ppo_walker2d'
GPU_EXPERIMENT = walker2d_bc_vs_dagger_gpu.__name__.split('.')[-1]

# Priority order: the rows several issues wait for and that take least time
# first; the PPO expert (which can use any time it is given) last.
STEPS = (
    Step('env_throughput', 2, 'launch.bench',
         ('--batch_sizes=1024,8192,65536', '--loop_batch_sizes=8192',
          '--num_steps=1000', '--repeats=2'),
         min_s=180,
         what='raw Walker2d stepping, fast and faithful, and the DAgger loop '
         'against it',
         measured_in=('BENCHMARKS.md', reporting.LOOP_THROUGHPUT)),
    Step('seed_scaling', 7, 'launch.bench_seeds',
         ('--seeds=1,64,8,256,5', '--max_sequential=4'), min_s=150,
         what="the CS285-sized Walker2d DAgger run at 1-256 vmapped seeds "
         'against one after another, compile included',
         measured_in=('BENCHMARKS.md', reporting.SEED_SCALING)),
    Step('policy_families', 5, 'launch.bench_policies', ('--repeats=2',),
         min_s=90, what='gradient steps/s and actions/s per policy family',
         measured_in=('BENCHMARKS.md', reporting.POLICY_COST)),
    Step('gpu_experiment', 4, 'launch.reproduce',
         (f'--experiment={GPU_EXPERIMENT}', '--workdir=runs/device'),
         min_s=240, what='BC vs DAgger at 1024 environments, 5 seeds each',
         measured_in=('RESULTS.md', walker2d_bc_vs_dagger_gpu.DESCRIPTION)),
    Step('ppo_expert', 3, 'launch.train_expert',
         (f'--workdir={PPO_WORKDIR}', '--total_env_steps=200000000',
          '--iterations_per_call=20', '--eval_every=100',
          '--checkpoint_every=100',
          # The guard against the runaway sample RESULTS.md traced a CPU
          # run's collapse to ("PPO's late collapse").
          '--dual_clip=3'),
         min_s=150, what='a PPO Walker2d expert on the fast preset',
         wallclock_flag='--max_wallclock_s', wallclock_reserve_s=60.0),
)

# What artifacts.tar.gz holds, when present.
ARTIFACTS = (f'experiments/{GPU_EXPERIMENT}', f'{PPO_WORKDIR}/expert',
             f'{PPO_WORKDIR}/metrics.jsonl', 'bench_out')
RETURNED_FILES = ('BENCHMARKS.md', 'RESULTS.md')


def select(names: list[str] | None, steps=STEPS) -> tuple[Step, ...]:
  """The steps named, in the order given; all of them for None."""
  if names is None:
    return tuple(steps)
  by_name = {s.name: s for s in steps}
  unknown = [n for n in names if n not in by_name]
  if unknown:
    raise ValueError(f'Unknown step(s) {unknown}; the steps are '
                     f'{sorted(by_name)}.')
  return tuple(by_name[n] for n in names)


def already_measured(step: Step) -> bool:
  """Whether `step.measured_in` holds results from an accelerator."""
  if step.measured_in is None:
    return False
  path, section = step.measured_in
  if not os.path.exists(path) or f'## {section}' not in open(path).read(
      ).splitlines():
    return False
  table = reporting.read_table(path, section)
  if not table or 'device' not in table[0]:
    return True  # a section without a device column: its presence counts
  column = table[0].index('device')
  return any(len(row) > column and not row[column].startswith('cpu')
             for row in table[1:])


def command(step: Step, left_s: float, python: str = sys.executable,
            margin_s: float = _MARGIN_S) -> list[str]:
  """The step's command line with `left_s` seconds of budget left."""
  argv = [python, '-m', step.module, *step.args]
  if step.wallclock_flag:
    seconds = max(left_s - margin_s - step.wallclock_reserve_s, 1.0)
    argv.append(f'{step.wallclock_flag}={seconds:.0f}')
  return argv


def _environment() -> dict:
  """Versions and devices, from a subprocess so this process holds no GPU."""
  probe = ('import json, jax, flax, optax, mujoco, brax; print(json.dumps({'
           '"jax": jax.__version__, "flax": flax.__version__, "optax": '
           'optax.__version__, "mujoco": mujoco.__version__, "brax": '
           'brax.__version__, "devices": [str(d) for d in jax.devices()]}))')
  try:
    done = subprocess.run([sys.executable, '-c', probe], capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
  except (subprocess.SubprocessError, ValueError, IndexError) as error:
    return {'error': str(error)}


def _collect(out: str, summary: dict) -> None:
  """Refreshes the returned files under `out`."""
  for name in RETURNED_FILES:
    if os.path.exists(name):
      shutil.copyfile(name, os.path.join(out, name))
  with tarfile.open(os.path.join(out, 'artifacts.tar.gz'), 'w:gz') as tar:
    for path in ARTIFACTS:
      if os.path.exists(path):
        tar.add(path)
  with open(os.path.join(out, 'summary.json'), 'w') as f:
    json.dump(summary, f, indent=2)


def _run(argv: list[str], timeout_s: float, log) -> tuple[str, int | None]:
  """`(status, returncode)` of `argv`, killed with its children at timeout."""
  process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
  try:
    code = process.wait(timeout=timeout_s)
  except subprocess.TimeoutExpired:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return 'timed out', None
  return ('done' if code == 0 else 'failed'), code


def run_plan(steps: tuple[Step, ...], budget_s: float, out: str,
             python: str = sys.executable, environment: dict | None = None,
             margin_s: float = _MARGIN_S, remeasure: bool = False) -> dict:
  """Runs `steps` in order within `budget_s` seconds; returns the summary.

  Each step gets the budget left (less a margin) as its timeout; a step with
  less than its `min_s` left is skipped, and so is every later one that no
  longer fits, while shorter later steps still run. Unless `remeasure`, a
  step whose results an accelerator already wrote is skipped, so the same
  command on the next lent machine goes on where the last one stopped.
  """
  os.makedirs(out, exist_ok=True)
  start = time.monotonic()
  summary = {'budget_s': budget_s, 'environment': environment or {},
             'steps': []}
  with open(os.path.join(out, 'session.log'), 'a') as log:
    for step in steps:
      left = budget_s - (time.monotonic() - start)
      record = {'name': step.name, 'issue': step.issue, 'what': step.what}
      if not remeasure and already_measured(step):
        record.update(status='skipped', reason='already measured on an '
                      f'accelerator in {step.measured_in[0]}')
      elif left < max(step.min_s, margin_s):
        record.update(status='skipped', reason=f'{left:.0f} s left, needs '
                      f'{step.min_s:.0f} s')
      else:
        argv = command(step, left, python, margin_s)
        print(f'[{step.name}] {" ".join(argv[1:])}  ({left:.0f} s left)',
              flush=True)
        log.write(f'\n==== {step.name}: {" ".join(argv[1:])}\n')
        log.flush()
        began = time.monotonic()
        status, code = _run(argv, left - margin_s, log)
        record.update(status=status, returncode=code,
                      seconds=round(time.monotonic() - began, 1),
                      command=argv[1:])
      print(f'[{step.name}] {record["status"]}', flush=True)
      summary['steps'].append(record)
      summary['elapsed_s'] = round(time.monotonic() - start, 1)
      log.flush()
      _collect(out, summary)
  return summary


def main(argv):
  del argv
  try:
    steps = select(_STEPS.value)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  if _BUDGET_S.value <= 0:
    raise app.UsageError(f'--budget_s={_BUDGET_S.value} is not valid; '
                         'expected a positive number of seconds.')
  if _DRY_RUN.value:
    for step in steps:
      skip = ('  (skipped: already measured)'
              if not _REMEASURE.value and already_measured(step) else '')
      print(f'{step.name:16s} issue {step.issue}  needs >= {step.min_s:.0f} s'
            f'{skip}'
            f'  {" ".join(command(step, _BUDGET_S.value)[1:])}\n'
            f'{"":16s} {step.what}')
    return
  start = time.monotonic()
  environment = _environment()
  summary = run_plan(steps, _BUDGET_S.value - (time.monotonic() - start),
                     _OUT.value, environment=environment,
                     remeasure=_REMEASURE.value)
  print(json.dumps([(s['name'], s['status']) for s in summary['steps']]))


if __name__ == '__main__':
  app.run(main)
