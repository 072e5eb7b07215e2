"""Checks shared by every environment: clear errors for bad options and actions."""

import math
from collections.abc import Collection
from typing import Any

import jax
import numpy as np


def check_choice(name: str, value: Any, choices: Collection[Any]) -> None:
  """Raises ValueError if `value` is not one of `choices`."""
  if value not in choices:
    raise ValueError(
        f'{name}={value!r} is not valid; expected one of {sorted(choices)}.')


def check_known_options(what: str, options: Collection[str],
                        accepted: Collection[str]) -> None:
  """Raises ValueError, listing the `accepted` names, if any of `options`
  is not one of them; `what` names their owner, e.g. "environment 'fork'"."""
  unknown = sorted(set(options) - set(accepted))
  if unknown:
    raise ValueError(f'Unknown option(s) {unknown} for {what}; accepted '
                     f'options: {", ".join(accepted)}.')


def check_positive(name: str, value: Any, integer: bool = False,
                   allow_inf: bool = False) -> None:
  """Raises ValueError unless `value` is a positive number (or integer),
  finite unless `allow_inf` (NaN never is: it passes `value <= 0`)."""
  kind = int if integer else (int, float)
  if (isinstance(value, bool) or not isinstance(value, kind) or
      not value > 0 or (value == math.inf and not allow_inf)):
    expected = ('a positive integer' if integer else
                'a positive number' + (' or inf' if allow_inf else
                                       ' (finite)'))
    raise ValueError(f'{name}={value!r} is not valid; expected {expected}.')


def check_non_negative(name: str, value: Any) -> None:
  """Raises ValueError unless `value` is a finite number >= 0."""
  if (isinstance(value, bool) or not isinstance(value, (int, float)) or
      not 0 <= value < math.inf):
    raise ValueError(f'{name}={value!r} is not valid; expected a finite, '
                     'non-negative number.')


def check_fraction(name: str, value: Any, include_one: bool = True) -> None:
  """Raises ValueError unless `value` is a number in [0, 1] (in [0, 1) when
  not `include_one`: e.g. a decay of 1 would never move)."""
  valid = isinstance(value, (int, float)) and 0.0 <= value and (
      value <= 1.0 if include_one else value < 1.0)
  if not valid:
    interval = '[0, 1]' if include_one else '[0, 1)'
    raise ValueError(f'{name}={value!r} is not valid; expected a number in '
                     f'{interval}.')


def check_layer_sizes(name: str, sizes: Any) -> tuple[int, ...]:
  """Returns `sizes` as a tuple, or raises ValueError unless it is a
  non-empty sequence of positive integers (hidden-layer widths)."""
  sizes = tuple(sizes)
  if not sizes or any(not is_int(s) or s <= 0 for s in sizes):
    raise ValueError(f'{name}={sizes!r} is not valid; expected a non-empty '
                     'tuple of positive integers.')
  return sizes


def is_int(value: Any) -> bool:
  """Whether `value` is a Python or NumPy integer (bools are not: `size=True`
  is always a mistake)."""
  return isinstance(value, (int, np.integer)) and not isinstance(
      value, (bool, np.bool_))


def check_positive_int(name: str, value: Any) -> int:
  """Returns `value` as an int, or raises a ValueError naming it."""
  if not is_int(value) or value <= 0:
    raise ValueError(f'{name} must be a positive integer, got {value!r}.')
  return int(value)


def check_range(name: str, value: Any) -> None:
  """Raises ValueError unless `value` is a pair (low, high) with low < high."""
  try:
    low, high = value
    valid = float(low) < float(high)
  except (TypeError, ValueError):
    valid = False
  if not valid:
    raise ValueError(
        f'{name}={value!r} is not valid; expected a pair (low, high) with '
        'low < high.')


def check_action(env_name: str, action: jax.Array, action_size: int) -> None:
  """Raises ValueError at trace time if `action` is not of shape [action_size].

  Environments step one instance at a time (batching is `vmap`), so the action
  of one instance must have exactly this shape; a batched action passed to an
  unbatched environment is caught here rather than silently broadcast.
  """
  if action.shape != (action_size,):
    raise ValueError(
        f'{env_name}: action has shape {tuple(action.shape)}, expected '
        f'({action_size},). Batched environments come from '
        'il_jax.envs.wrap(...), which vmaps the step.')
