"""absl-flag entry points: `python -m launch.train`, or after `pip install`
the console scripts `il-jax-train`, `il-jax-sweep`, `il-jax-evaluate`."""

import importlib.util
import os
import sys

from absl import app
from absl import flags
from absl import logging

# XLA flags that keep MJX's solver loops on a GPU: command buffers (CUDA
# graphs) that capture `while` loops and conditionals, with loops of known
# trip count unrolled inside the graph, so a loop trip no longer waits on
# the host. On an H200 they take a Walker2d step (Euler, two Newton
# iterations) at 8192 environments from 13.5 to 7.6 ms (BENCHMARKS.md,
# "Sequential work").
GPU_XLA_FLAGS = (
    '--xla_gpu_enable_command_buffer=+WHILE,+CONDITIONAL',
    '--xla_gpu_graph_min_graph_size=1',
    '--xla_gpu_command_buffer_unroll_loops=true',
)
_CUDA_PLUGINS = ('jax_cuda12_plugin', 'jax_cuda13_plugin')

_GPU_XLA_FLAGS = flags.DEFINE_bool(
    'gpu_xla_flags', True, 'On a GPU, add launch.GPU_XLA_FLAGS to XLA_FLAGS '
    '(never on a CPU).')
_COMPILATION_CACHE = flags.DEFINE_string(
    'compilation_cache', os.path.join(
        os.environ.get('XDG_CACHE_HOME', os.path.expanduser('~/.cache')),
        'il_jax', 'xla'),
    "JAX's persistent compilation cache: a program compiled once on this "
    'machine loads from here in later runs; "" turns it off.')

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


def has_cuda_plugin() -> bool:
  """Whether jax's CUDA plugin is installed, known before jax starts."""
  return any(importlib.util.find_spec(name) for name in _CUDA_PLUGINS)


def configure_jax() -> None:
  """Applies `--gpu_xla_flags` and `--compilation_cache`.

  Call at the start of `main`, before anything runs on a device: XLA reads
  its flags when the backend starts.
  """
  import jax  # pylint: disable=g-import-not-at-top
  if _GPU_XLA_FLAGS.value and has_cuda_plugin():
    current = os.environ.get('XLA_FLAGS', '')
    extra = [f for f in GPU_XLA_FLAGS if f.split('=')[0] not in current]
    os.environ['XLA_FLAGS'] = ' '.join([current] + extra).strip()
  if _COMPILATION_CACHE.value:
    os.makedirs(_COMPILATION_CACHE.value, exist_ok=True)
    jax.config.update('jax_compilation_cache_dir', _COMPILATION_CACHE.value)
    jax.config.update('jax_persistent_cache_min_compile_time_secs', 1.0)


def on_accelerator() -> bool:
  """Whether JAX's default backend is a GPU or TPU: entry points size their
  defaults (environments, seeds, steps) by it."""
  import jax  # pylint: disable=g-import-not-at-top
  return jax.default_backend() != 'cpu'
