"""Ahead-of-time compilation that says what it compiles and how long it took.

Compiling a run's programs takes seconds on a GPU and minutes for MJX on a
CPU; a user watching a silent terminal cannot tell compiling from hanging.
"""

import time
from collections.abc import Callable
from typing import Any


def compile_reported(jitted, *args, name: str,
                     report: Callable[[str], None] | None = None, **kwargs
                     ) -> tuple[Any, float]:
  """`jitted.lower(*args, **kwargs).compile()`, reported through `report`.

  Args:
    jitted: a `jax.jit`-ted function.
    *args, **kwargs: arguments (or `jax.ShapeDtypeStruct`s) to compile for.
    name: what is compiled, e.g. 'dagger iteration'.
    report: called with `compiling <name> (first call)...` before and
      `compiled <name> in <s> s` after; None to stay silent.

  Returns:
    `(compiled, seconds)`: the compiled executable, called like `jitted`
    with arguments of the same shapes, dtypes and shardings, and the seconds
    lowering and compiling took.
  """
  if report is not None:
    report(f'compiling {name} (first call)...')
  began = time.perf_counter()
  compiled = jitted.lower(*args, **kwargs).compile()
  seconds = time.perf_counter() - began
  if report is not None:
    report(f'compiled {name} in {seconds:.1f} s')
  return compiled, seconds
