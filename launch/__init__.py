"""absl-flag entry points: `python -m launch.train`, or after `pip install`
the console scripts `il-jax-train`, `il-jax-sweep`, `il-jax-evaluate`."""

import os
import sys

from absl import app
from absl import flags
from absl import logging

_HELP_FLAGS = ('--help', '-help', '-?', '--helpshort', '-helpshort',
               '--helpfull', '-helpfull')


def run_app(main) -> None:
  """`absl.app.run(main)`, with errors a user reads in one line.

  A usage error (`app.UsageError`) prints `<program>: error: <message>` to stderr and exits with
  status 2, without absl's page of help; a diverged run
  (FloatingPointError) prints its one line and exits with status 1;
  `--help` exits with status 0 (absl's exits with 1).
  """

  def main_with_one_line_errors(argv):
    spec = getattr(sys.modules['__main__'], '__spec__', None)
    program = spec.name if spec else os.path.basename(sys.argv[0])
    try:
      return main(argv)
    except app.UsageError as error:
      print(f'{program}: error: {error}', file=sys.stderr)
      sys.exit(2)
    except FloatingPointError as error:
      print(f'{program}: diverged: {error}', file=sys.stderr)
      sys.exit(1)

  try:
    app.run(main_with_one_line_errors)
  except SystemExit as exit_:
    asked_for_help = any(arg.split('=')[0] in _HELP_FLAGS
                         for arg in sys.argv[1:])
    if exit_.code == 1 and asked_for_help:
      sys.exit(0)
    raise


def quiet_logs() -> None:
  """Shows warnings and errors only, unless --verbosity was given.

  orbax logs every file of every checkpoint at INFO, which buries the
  progress lines. Call at the start of `main`, after flags are parsed.
  """
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)


def on_accelerator() -> bool:
  """Whether JAX's default backend is a GPU or TPU: entry points size their
  defaults (environments, seeds, steps) by it."""
  import jax  # pylint: disable=g-import-not-at-top
  return jax.default_backend() != 'cpu'


def parse_sizes(name: str, values: list[str]) -> tuple[int, ...]:
  """A list flag of layer widths (`--name=256,256`) as integers."""
  try:
    return tuple(int(v) for v in values)
  except ValueError:
    raise app.UsageError(
        f'--{name}={",".join(values)} is not valid; expected comma-separated '
        'integers, e.g. 256,256.') from None
