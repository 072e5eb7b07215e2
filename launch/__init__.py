"""absl-flag entry points; run them as modules from the repo root: `python -m launch.train`."""

from absl import flags
from absl import logging


def quiet_logs() -> None:
  """Shows warnings and errors only, unless --verbosity was given.

  orbax logs every file of every checkpoint at INFO, which buries the
  progress lines. Call at the start of `main`, after flags are parsed.
  """
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
