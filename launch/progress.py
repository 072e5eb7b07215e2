"""A sweep group's terminal output: a live progress line and its one-line
messages, each prefixed with the group's name."""

import math
import sys
from collections.abc import Callable, Mapping

import numpy as np


class Progress:
  """A live line per group: iteration, best return so far, env-steps/s and
  ETA (rewritten in place on a terminal, one line per iteration otherwise);
  `sweep.run_group`'s `progress` callback."""

  def __init__(self, name: str, n_iter: int, stream=None):
    self._name = name
    self._n_iter = n_iter
    self._stream = stream or sys.stdout
    self._best = -math.inf
    self._seconds = []

  def line(self, i: int, metrics: Mapping[str, np.ndarray]) -> str:
    self._best = max(self._best,
                     float(np.max(metrics['Eval_AverageReturn'])))
    self._seconds.append(float(np.asarray(metrics['Iteration_Seconds'])[0]))
    # The first iteration of a call includes compilation.
    recent = self._seconds[1:] or self._seconds
    eta = int(round(np.mean(recent) * (self._n_iter - i - 1)))
    speed = float(np.asarray(metrics['Env_Steps_Per_Second'])[0])
    return (f'[{self._name}] iter {i + 1}/{self._n_iter}  best return '
            f'{self._best:.1f}  {speed:,.0f} env-steps/s  ETA '
            f'{eta // 3600}:{eta // 60 % 60:02d}:{eta % 60:02d}')

  def __call__(self, i: int, metrics: Mapping[str, np.ndarray]) -> None:
    text = self.line(i, metrics)
    if self._stream.isatty():
      end = '\n' if i + 1 == self._n_iter else ''
      self._stream.write('\r' + text + end)
    else:
      self._stream.write(text + '\n')
    self._stream.flush()


def reporter(name: str) -> Callable[[str], None]:
  """Prints a group's one-line messages, prefixed with its name."""
  return lambda message: print(f'[{name}] {message}', flush=True)
