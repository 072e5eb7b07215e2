"""Run a sweep (grid x seeds) locally or on Slurm, then aggregate it.

  python -m launch.sweep --spec=experiments/sweeps/tightrope_tiny.py \
      --workdir=runs/sweep --dry_run            # print the plan
  python -m launch.sweep --spec=... --workdir=runs/sweep    # run it here
  python -m launch.sweep --spec=... --workdir=runs/sweep --backend=slurm \
      --slurm_partition=gpu --slurm_gpus_per_node=1      # array jobs
  python -m launch.sweep --spec=... --workdir=runs/sweep --aggregate_only

The spec is a Python file defining `SWEEP = {'base': {...}, 'grid': {...},
'seeds': n}` (or a .json/.yaml file with the same keys); names are settings
(`il_jax.settings`), which are also `launch/train.py`'s flags. Runs that differ only in seed and continuous
hyper-parameters (learning rate, beta, beta decay, gate threshold and
quantile) share one program: `--backend=local` runs each program once,
vmapped over its members and sharded over all devices; `--backend=slurm`
submits one array task per program, each with its own workdir and requeued
with resume on preemption. The results (CSV, markdown, plot) go to
`--workdir`.
"""

import json
import os
import runpy
import time
from collections.abc import Sequence

from absl import app, flags

from il_jax import experiment, sweep
import launch
from launch import progress, slurm

_SPEC = flags.DEFINE_string('spec', None, 'Sweep spec (.py, .json or .yaml).')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory.')
_BACKEND = flags.DEFINE_enum('backend', 'local', ['local', 'slurm'],
                             'Where the programs run.')
_DRY_RUN = flags.DEFINE_bool('dry_run', False, 'Print the plan and stop.')
_RESUME = flags.DEFINE_bool('resume', False,
                            'Continue every group from its last checkpoint.')
_OVERWRITE = flags.DEFINE_bool(
    'overwrite', False, "Delete every group's run in --workdir first.")
_AGGREGATE_ONLY = flags.DEFINE_bool(
    'aggregate_only', False, 'Only gather the metrics under --workdir.')
_MAX_MEMBERS = flags.DEFINE_integer(
    'max_members', None, 'Split programs into at most this many members (1: '
    'one run per program and workdir).')
_PARTITION = flags.DEFINE_string('slurm_partition', None, 'Slurm partition.')
_ACCOUNT = flags.DEFINE_string('slurm_account', None, 'Slurm account.')
_TIME = flags.DEFINE_integer('slurm_timeout_min', 60,
                             'Time limit per array task, minutes.')
_NODES = flags.DEFINE_integer('slurm_nodes', 1, 'Nodes per array task.')
_GPUS = flags.DEFINE_integer('slurm_gpus_per_node', 1, 'GPUs per node.')
_CPUS = flags.DEFINE_integer('slurm_cpus_per_task', 8, 'CPUs per task.')
_PARALLELISM = flags.DEFINE_integer('slurm_array_parallelism', 64,
                                    'Array tasks running at once.')
_WAIT = flags.DEFINE_bool('slurm_wait', False,
                          'Wait for the array and aggregate its results.')


def load_spec(path: str) -> dict:
  """The sweep spec in `path`: `SWEEP` of a .py file, or a .json/.yaml."""
  if not os.path.exists(path):
    raise ValueError(f'--spec={path!r} does not exist.')
  if path.endswith('.py'):
    namespace = runpy.run_path(path)
    if 'SWEEP' not in namespace:
      raise ValueError(f'{path} defines no SWEEP dict.')
    return namespace['SWEEP']
  with open(path) as f:
    if path.endswith('.json'):
      return json.load(f)
    if path.endswith(('.yaml', '.yml')):
      import yaml  # pylint: disable=g-import-not-at-top
      return yaml.safe_load(f)
  raise ValueError(f'--spec={path!r}: expected a .py, .json or .yaml file.')


def slurm_parameters(num_groups: int) -> dict:
  """submitit's Slurm parameters from the flags. On one node one process
  drives all its GPUs; on several, one process per GPU, joined by
  `jax.distributed.initialize()`."""
  parameters = dict(
      time=_TIME.value, nodes=_NODES.value, gpus_per_node=_GPUS.value,
      ntasks_per_node=1 if _NODES.value == 1 else max(_GPUS.value, 1),
      cpus_per_task=_CPUS.value,
      array_parallelism=min(_PARALLELISM.value, num_groups),
      job_name='il_jax_sweep')
  if _PARTITION.value:
    parameters['partition'] = _PARTITION.value
  if _ACCOUNT.value:
    parameters['account'] = _ACCOUNT.value
  return parameters


def run_local(groups: Sequence[sweep.Group], workdir: str,
              resume: bool = False, overwrite: bool = False) -> None:
  """Runs the groups one after the other on this machine's devices, with a
  progress line per group."""
  shown = experiment.is_primary_process()
  for g in groups:
    began = time.perf_counter()
    sweep.run_group(
        g, os.path.join(workdir, g.name), resume=resume, overwrite=overwrite,
        progress=(progress.Progress(g.name, g.config.imitation.n_iter)
                  if shown else None),
        report=progress.reporter(g.name) if shown else None)
    if shown:
      print(f'[{g.name}] done in {time.perf_counter() - began:.0f} s',
            flush=True)


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required.')
  workdir = _WORKDIR.value
  if _AGGREGATE_ONLY.value:
    _print_results(sweep.aggregate(workdir))
    return
  if not _SPEC.value:
    raise app.UsageError('--spec is required.')
  try:
    groups = sweep.group(sweep.expand(load_spec(_SPEC.value)),
                         _MAX_MEMBERS.value)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  print(sweep.plan_text(groups))
  if _DRY_RUN.value:
    if _BACKEND.value == 'slurm':
      executor = slurm.executor(os.path.join(workdir, 'slurm'),
                                offline=True,
                                **slurm_parameters(len(groups)))
      print(slurm.script(executor, len(groups)))
    return
  sweep.write_plan(groups, workdir)
  if _BACKEND.value == 'local':
    try:
      run_local(groups, workdir, resume=_RESUME.value,
                overwrite=_OVERWRITE.value)
    except ValueError as error:
      raise app.UsageError(str(error)) from None
  else:
    executor = slurm.executor(os.path.join(workdir, 'slurm'),
                              **slurm_parameters(len(groups)))
    jobs = slurm.submit(groups, workdir, executor, resume=_RESUME.value)
    print(f'Submitted array {jobs[0].job_id.split("_")[0]} '
          f'({len(jobs)} tasks); logs in {workdir}/slurm. Aggregate with '
          '--aggregate_only once they finish.')
    if not _WAIT.value:
      return
    for job in jobs:
      job.result()
  _print_results(sweep.aggregate(workdir))


def _print_results(paths: dict) -> None:
  with open(paths['markdown']) as f:
    print(f.read())
  print('Results: ' + ', '.join(paths.values()))


if __name__ == '__main__':
  launch.run_app(main)
