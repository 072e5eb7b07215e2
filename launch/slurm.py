"""A sweep on Slurm with submitit: one array task per group, each requeued
with resume when it is preempted or runs out of time."""

import os
from collections.abc import Sequence

import jax

from il_jax import experiment, sweep
from launch import progress

try:
  from submitit.helpers import Checkpointable as _Checkpointable  # pylint: disable=g-import-not-at-top
except ImportError:  # submitit is only needed for Slurm.
  _Checkpointable = object


def executor(folder: str, offline: bool = False, **parameters):
  """A submitit Slurm executor writing its logs under `folder`.

  Args:
    folder: submitit's folder (pickled jobs, logs).
    offline: build it where Slurm is absent (to print or test the script it
      would submit; it cannot submit).
    **parameters: submitit's Slurm parameters (`partition`, `time` in
      minutes, `nodes`, `ntasks_per_node`, `gpus_per_node`, `cpus_per_task`,
      `array_parallelism`, `job_name`, `account`, ...).
  """
  import submitit  # pylint: disable=g-import-not-at-top
  cls = submitit.SlurmExecutor
  if offline:
    # The executor refuses to be built without `srun`; nothing else needs it.
    cls = type('OfflineSlurmExecutor', (cls,),
               {'affinity': classmethod(lambda _: 1)})
  built = cls(folder=folder)
  built.update_parameters(**parameters)
  return built


def script(slurm_executor, num_tasks: int) -> str:
  """The sbatch script `slurm_executor` submits for an array of
  `num_tasks`: submitit has no public call for it, so this uses its
  private one (checked by a test against the installed submitit)."""
  from submitit.slurm import slurm  # pylint: disable=g-import-not-at-top
  return slurm._make_sbatch_string(  # pylint: disable=protected-access
      command=slurm_executor._submitit_command_str,  # pylint: disable=protected-access
      folder=slurm_executor.folder, map_count=num_tasks,
      **slurm_executor.parameters)


def _maybe_initialize_distributed() -> None:
  """`jax.distributed.initialize()` when Slurm runs this as one of several
  tasks (multi-process / multi-node); never otherwise."""
  if int(os.environ.get('SLURM_NTASKS', '1')) > 1:
    jax.distributed.initialize()


class GroupJob(_Checkpointable):
  """A Slurm array task: runs one group; on preemption or timeout submitit
  calls `checkpoint`, which requeues it with `resume=True` (the group's last
  checkpoint makes the requeued job continue exactly)."""

  def __call__(self, g: sweep.Group, workdir: str,
               resume: bool = False) -> str:
    _maybe_initialize_distributed()
    shown = experiment.is_primary_process()
    sweep.run_group(
        g, workdir, resume=resume,
        progress=(progress.Progress(g.name, g.config.imitation.n_iter)
                  if shown else None),
        report=progress.reporter(g.name) if shown else None)
    return workdir

  def checkpoint(self, g: sweep.Group, workdir: str, resume: bool = False):
    import submitit  # pylint: disable=g-import-not-at-top
    del resume
    return submitit.helpers.DelayedSubmission(GroupJob(), g, workdir, True)


def submit(groups: Sequence[sweep.Group], workdir: str, slurm_executor,
           resume: bool = False) -> list:
  """Submits one array task per group (each in `<workdir>/<group>`)."""
  return slurm_executor.map_array(
      GroupJob(), list(groups),
      [os.path.join(workdir, g.name) for g in groups],
      [resume] * len(groups))
