"""Comparing metric rows of two runs (helpers for the tests, not a test)."""

import numpy as np

# Wall-clock measurements differ between any two runs.
TIMING = ('Env_Steps_Per_Second', 'Iteration_Seconds', 'Compile_Seconds')


def without_timing(rows: list[dict]) -> list[dict]:
  return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def assert_rows_close(got: list[dict], want: list[dict]) -> float:
  """Integers equal, floats within float32 rounding; timing ignored.

  Returns the largest absolute difference of a float metric.
  """
  got, want = without_timing(got), without_timing(want)
  assert len(got) == len(want), (len(got), len(want))
  worst = 0.0
  for g, w in zip(got, want):
    assert g.keys() == w.keys()
    for name, value in w.items():
      if isinstance(value, int):
        assert g[name] == value, name
      else:
        np.testing.assert_allclose(g[name], value, rtol=1e-4, atol=1e-5,
                                   err_msg=name)
        if np.isfinite(value):
          worst = max(worst, abs(g[name] - value))
  return worst
