"""Train a policy by BC, DAgger, HG-DAgger or GCBC, with logs, checkpoints,
resume.

  python -m launch.train --algo=dagger --env=tightrope --n_iter=10 \
      --workdir=runs/tightrope_dagger --num_seeds=5
  python -m launch.train --algo=hg_dagger --gate=safety --env=tightrope \
      --workdir=runs/tightrope_hg
  python -m launch.train --algo=bc --policy=mog --num_components=3 ...
  python -m launch.train --algo=gcbc --env=reach --relabel=future \
      --env_options=goal_region=held_out --workdir=runs/reach_gcbc
  python -m launch.train ... --resume     # continue an interrupted run
  python -m launch.train ... --overwrite  # delete the run there, start again

Every setting of `il_jax.settings` is a flag: the run's (algo, env, policy,
...), the algorithm config's fields and the policy family's options, with
the dataclasses' defaults.

Writes config.json, metrics.jsonl, metrics.csv, TensorBoard events, orbax
checkpoints and learning_curve.png to --workdir. A workdir holding a run is
refused without --resume or --overwrite; --resume on a workdir without a
checkpoint says so and starts a fresh run.
"""

from absl import app, flags

from il_jax import experiment, settings, workdir
import launch
from launch import settings_flags

settings_flags.define()
flags.adopt_module_key_flags(settings_flags)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory.')
_RESUME = flags.DEFINE_bool(
    'resume', False, 'Continue from the newest intact checkpoint in '
    '--workdir; without one, say so and start a fresh run.')
_OVERWRITE = flags.DEFINE_bool(
    'overwrite', False, 'Delete the run in --workdir (config, metrics, '
    'checkpoints) before starting a new one.')


def config_from_flags() -> experiment.RunConfig:
  """The run's config from the flags given; raises ValueError for any bad
  flag."""
  return settings.run_config(settings_flags.given_settings())


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required.')
  if _RESUME.value and _OVERWRITE.value:
    raise app.UsageError('--resume continues the run in --workdir and '
                         '--overwrite deletes it: pass one of them.')
  try:
    # Every name, option and size is validated before anything compiles.
    experiment.run(config_from_flags(), _WORKDIR.value, resume=_RESUME.value,
                   overwrite=_OVERWRITE.value)
  except workdir.WorkdirError as error:
    # The library names the argument as `workdir=PATH`; here it is a flag.
    raise app.UsageError(f'--{error}') from None
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  print(f'Results in {_WORKDIR.value}')


if __name__ == '__main__':
  launch.run_app(main)
