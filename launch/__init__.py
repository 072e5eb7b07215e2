"""absl-flag entry points; run them as modules from the repo root: `python -m launch.train`."""

from absl import app
from absl import flags
from absl import logging


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
