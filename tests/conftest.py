"""Shared pytest options: `--runslow` and GPU-only tests."""

import tempfile

import jax
import pytest

# Several tests compile the same program (e.g. a run and its resumed twin);
# a compilation cache shared by the session compiles each once.
jax.config.update('jax_compilation_cache_dir',
                  tempfile.mkdtemp(prefix='il_jax_test_xla_cache_'))
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.5)


def pytest_addoption(parser):
  parser.addoption('--runslow', action='store_true', default=False,
                   help='also run tests marked slow')


def pytest_configure(config):
  config.addinivalue_line('markers', 'slow: long test, run with --runslow')
  config.addinivalue_line('markers', 'gpu: needs a GPU, skipped without one')


def pytest_collection_modifyitems(config, items):
  has_gpu = jax.default_backend() == 'gpu'
  skip_slow = pytest.mark.skip(reason='slow: run with --runslow')
  skip_gpu = pytest.mark.skip(reason='needs a GPU')
  for item in items:
    if 'slow' in item.keywords and not config.getoption('--runslow'):
      item.add_marker(skip_slow)
    if 'gpu' in item.keywords and not has_gpu:
      item.add_marker(skip_gpu)
