"""Drops the lines mujoco-mjx prints when its optional Warp backend is absent.

`mujoco.mjx.warp` prints `Failed to import warp: No module named 'warp'` (and
the same for `mujoco_warp`) to stdout when it is imported without NVIDIA
Warp, which il_jax does not use. An import hook runs that one module with
its stdout captured and passes on every other line it prints; nothing else
(our warnings, other modules' output) is touched.
"""

import contextlib
import importlib.abc
import importlib.machinery
import io
import sys

_MODULE = 'mujoco.mjx.warp'
_DROPPED = ('Failed to import warp:', 'Failed to import mujoco_warp:')


class _QuietWarpFinder(importlib.abc.MetaPathFinder):
  """Finds `mujoco.mjx.warp` as usual, with a loader that drops `_DROPPED`
  lines from what the module prints while it runs."""

  def find_spec(self, name, path, target=None):
    if name != _MODULE:
      return None
    spec = importlib.machinery.PathFinder.find_spec(name, path, target)
    if spec is None or spec.loader is None:
      return spec
    exec_module = spec.loader.exec_module

    def quiet_exec_module(module):
      printed = io.StringIO()
      try:
        with contextlib.redirect_stdout(printed):
          exec_module(module)
      finally:
        sys.stdout.write(''.join(
            line for line in printed.getvalue().splitlines(keepends=True)
            if not line.startswith(_DROPPED)))

    spec.loader.exec_module = quiet_exec_module
    return spec


def install() -> None:
  """Installs the hook (once); without effect if mjx was imported already."""
  if not any(isinstance(f, _QuietWarpFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _QuietWarpFinder())
