"""Console scripts installed by `pip install` (see setup.py): each runs its
launch module as `python -m launch.<name>` would, from any directory."""

import os
import runpy
import sys


def _run(module: str) -> None:
  # `python -m` puts the working directory on the path, where a user's
  # `--expert=module:function` lives.
  if os.getcwd() not in sys.path:
    sys.path.insert(0, os.getcwd())
  runpy.run_module(module, run_name='__main__', alter_sys=True)


def train() -> None:
  """`il-jax-train`: `python -m launch.train`."""
  _run('launch.train')


def sweep() -> None:
  """`il-jax-sweep`: `python -m launch.sweep`."""
  _run('launch.sweep')


def evaluate() -> None:
  """`il-jax-evaluate`: `python -m launch.evaluate`."""
  _run('launch.evaluate')
