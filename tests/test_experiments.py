"""The named experiments of `experiments/` are well formed for
`launch.reproduce`."""

import importlib
import pkgutil

import pytest

import experiments
from il_jax.experiment import RunConfig
from launch import experiment_tables

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


@pytest.mark.parametrize('name', NAMES)
def test_experiment_asks_for_a_table_and_axis_reproduce_draws(name):
  module = importlib.import_module(f'experiments.{name}')
  assert getattr(module, 'TABLE', 'per_iteration') in experiment_tables.TABLES
  assert getattr(module, 'X_AXIS', 'Iteration') in experiment_tables.X_AXES


def _rows(returns, env_steps, seconds):
  """Metric rows of a run: `returns[i][s]` of seed s at iteration i."""
  return [{'Iteration': i, 'Seed': s, 'Eval_AverageReturn': r,
           'Expert_Labels': 400, 'Total_EnvSteps': env_steps[i],
           'Iteration_Seconds': seconds[i]}
          for i, per_seed in enumerate(returns) for s, r in enumerate(per_seed)]


def test_the_cost_table_shows_the_steps_and_seconds_spent_so_far():
  results = {'GAIL': _rows([[10, 30], [100, 200]], [1000, 2000], [5, 7]),
             'BC': _rows([[50, 50], [60, 60]], [10, 20], [1, 1])}
  header, rows = experiment_tables.tabulate(results, expert=200.0, layout='cost')
  assert header[1] == ('GAIL: Eval_AverageReturn (% of expert) '
                       '[environment steps (evaluations included), seconds]')
  assert rows[1][1] == '150.0 ± 50.0 (75 %) [2,000, 12 s]'
  assert rows[1][2] == '60.0 ± 0.0 (30 %) [20, 2 s]'
  _, final = experiment_tables.tabulate(results, expert=200.0, layout='final')
  assert final[0] == ['GAIL', '150.00 ± 50.00', '75 %', '400', '2000', '12']
  with pytest.raises(ValueError, match='TABLE'):
    experiment_tables.tabulate(results, expert=200.0, layout='curve')
