"""The named experiments of `experiments/` are well formed for
`launch.reproduce`."""

import importlib
import pkgutil

import pytest

import experiments
from il_jax.experiment import RunConfig

NAMES = sorted(m.name for m in pkgutil.iter_modules(experiments.__path__)
               if not m.ispkg)


def test_experiments_are_found():
  assert {'walker2d_bc_vs_dagger', 'tightrope_bc_vs_dagger'} <= set(NAMES)


@pytest.mark.parametrize('name', NAMES)
def test_experiment_has_a_description_and_runs(name):
  module = importlib.import_module(f'experiments.{name}')
  assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
  assert module.RUNS
  for label, run in module.RUNS.items():
    assert isinstance(run, RunConfig), label
    # The label names the run's directory under the experiment's workdir.
    assert label and '/' not in label and label.strip() == label, label
