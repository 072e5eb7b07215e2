"""Trains a PPO expert on device, with progress output and resumable checkpoints.

  python -m launch.train_expert --workdir=runs/walker2d_expert
  python -m launch.train_expert --env=tightrope --total_env_steps=2000000 \
      --num_envs=256 --workdir=runs/tightrope_expert

The flags of `il_jax.experts.ppo_run.run` (the host loop: compiled calls of
`--iterations_per_call` iterations, evaluations every `--eval_every`,
checkpoints every `--checkpoint_every`, the export of `--export=best|last`
to `<workdir>/expert`, a `--max_wallclock_s` stop) and one flag per field
of `PPOConfig`, named, typed and documented by the field. After
each call it prints steps, steps/s, losses and any evaluation; running the
same command again resumes where it stopped.
"""

import inspect
import shlex
import sys
from collections.abc import Callable

from absl import app, flags

from il_jax import envs
from il_jax.experts import ppo
from il_jax.experts import ppo_run
import launch
from launch import config_flags

_ENV = flags.DEFINE_string('env', 'walker2d', 'Registered environment name.')
_SOLVER = flags.DEFINE_string(
    'solver', None, "Walker2d solver preset ('fast' or 'faithful'); only for "
    'environments that take a `solver` option.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Checkpoints, metrics, export.')
# The defaults of `ppo_run.run`'s settings are its own.
_RUN_DEFAULTS = {name: parameter.default for name, parameter in
                 inspect.signature(ppo_run.run).parameters.items()}

_SEED = flags.DEFINE_integer('seed', _RUN_DEFAULTS['seed'], 'Random seed.')
_ITERATIONS_PER_CALL = flags.DEFINE_integer(
    'iterations_per_call', _RUN_DEFAULTS['iterations_per_call'], 'PPO iterations per compiled call (and per '
    'progress line).')
_EVAL_EVERY = flags.DEFINE_integer(
    'eval_every', _RUN_DEFAULTS['eval_every'], 'Evaluate every this many iterations (rounded up to '
    'whole calls); 0: only at the end.')
_MAX_WALLCLOCK_S = flags.DEFINE_float(
    'max_wallclock_s', _RUN_DEFAULTS['max_wallclock_s'], 'Stop after the call during which this '
    'invocation has run this many seconds: checkpoint, evaluate and export '
    'as at the end (the learning rate has not finished annealing then); '
    'running the command again without it resumes. For time-limited '
    'machines.')
_EXPORT = flags.DEFINE_enum(
    'export', _RUN_DEFAULTS['export'], list(ppo_run.EXPORTS),
    'The policy to export: the one whose evaluation (every --eval_every '
    'iterations, at the end and at a --max_wallclock_s stop) beat every '
    'other, or the last one.')
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    'checkpoint_every', _RUN_DEFAULTS['checkpoint_every'], 'Checkpoint every this many iterations (rounded '
    'up to whole calls).')

_config = config_flags.define_config(ppo.PPOConfig)


def _printer(num_iterations: int) -> Callable[[dict[str, float]], None]:
  """`ppo_run.run`'s `progress_fn`: one line per call."""
  first_call = True

  def progress(row: dict[str, float]) -> None:
    nonlocal first_call
    print(f"it {row['iteration']}/{num_iterations}  "
          f"steps {row['env_steps']:,}  "
          f"{row['Env_Steps_Per_Second']:,.0f} steps/s"
          f"{' (with compile)' if first_call else ''}  "
          f"train return {row['Train_AverageReturn']:.1f}  "
          f"entropy {row['entropy']:.2f}  kl {row['approx_kl']:.4f}" +
          (f"  eval return {row['Eval_AverageReturn']:.1f} +- "
           f"{row['Eval_StdReturn']:.1f}" if 'Eval_AverageReturn' in row
           else ''), flush=True)
    first_call = False

  return progress


def main(argv):
  launch.quiet_logs()
  launch.configure_jax()
  del argv
  if not _WORKDIR.value:
    raise app.UsageError('--workdir is required (checkpoints, metrics and the '
                         'exported expert go there).')
  env_options = {} if _SOLVER.value is None else {'solver': _SOLVER.value}
  try:
    env = envs.make(_ENV.value, **env_options)
    config = _config()
    ppo_run.run(
        config, env, _WORKDIR.value, env_name=_ENV.value,
        env_options=env_options, seed=_SEED.value,
        iterations_per_call=_ITERATIONS_PER_CALL.value,
        eval_every=_EVAL_EVERY.value,
        checkpoint_every=_CHECKPOINT_EVERY.value,
        max_wallclock_s=_MAX_WALLCLOCK_S.value, export=_EXPORT.value,
        command='python -m launch.train_expert ' + shlex.join(sys.argv[1:]),
        progress_fn=_printer(config.num_iterations),
        report=lambda message: print(message, flush=True))
  except ValueError as error:
    # Library messages name the argument; here each is a flag.
    raise app.UsageError(str(error)) from None


if __name__ == '__main__':
  launch.run_app(main)
