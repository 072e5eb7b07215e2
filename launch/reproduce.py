"""Run a named experiment, then tabulate and plot it into RESULTS.md.

  python -m launch.reproduce --experiment=tightrope_bc_vs_dagger

Each run of the experiment (e.g. BC and DAgger, each over several vmapped
seeds) goes to `<workdir>/<label>`; the table of Eval_AverageReturn mean ±
std per iteration and a PNG of the learning curves are written to
`experiments/<experiment>/` and appended to RESULTS.md. A module may set
`METRIC` (default 'Eval_AverageReturn'), `X_AXIS` ('Iteration',
'Expert_Labels', 'Dataset_Size' or 'Total_EnvSteps') and `TABLE`
('per_iteration'; 'cost', which shows each iteration's environment steps
and training seconds in place of its expert labels; or 'final').
`--only=<label>` (repeated for several labels) runs part of an experiment
(e.g. half of it in each of two processes); running it again without
`--only` then only tabulates.
"""

import importlib
import os

import numpy as np
from absl import app, flags

from il_jax import experiment
from launch import experiment_tables
from launch import reporting
import launch

_EXPERIMENT = flags.DEFINE_string('experiment', 'tightrope_bc_vs_dagger',
                                  'Module name under experiments/.')
_WORKDIR = flags.DEFINE_string('workdir', 'runs', 'Where runs are written.')
_RESULTS = flags.DEFINE_string('results', 'RESULTS.md',
                               'File to append the table to ("" for none).')
_ONLY = flags.DEFINE_multi_string(
    'only', None, 'Run only this label of the experiment (repeat the flag for '
    'several; labels may hold commas) and write no table: to split an '
    'experiment over processes. A later run without it resumes the finished '
    'runs (nothing to compute) and tabulates them.')


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  module = importlib.import_module(f'experiments.{_EXPERIMENT.value}')
  out_dir = os.path.join('experiments', _EXPERIMENT.value)
  os.makedirs(out_dir, exist_ok=True)
  runs = module.RUNS
  if _ONLY.value:
    unknown = sorted(set(_ONLY.value) - set(runs))
    if unknown:
      raise app.UsageError(f'--only names unknown runs {unknown}; the '
                           f'experiment has {list(runs)}.')
    runs = {label: runs[label] for label in _ONLY.value}
  results = {}
  for label, config in runs.items():
    workdir = os.path.join(_WORKDIR.value, _EXPERIMENT.value, label)
    print(f'== {label}: {config.algo} on {config.env}, {config.num_seeds} '
          f'seeds -> {workdir}')
    results[label] = experiment.run(config, workdir, resume=True)
  if _ONLY.value:
    return

  expert = float(np.mean(experiment_tables.per_iteration(
      next(iter(results.values())), 'Expert_AverageReturn')))
  curve = os.path.join(out_dir, 'learning_curves.png')
  metric = getattr(module, 'METRIC', 'Eval_AverageReturn')
  experiment_tables.plot(results, expert, module.DESCRIPTION, curve,
                         getattr(module, 'X_AXIS', 'Iteration'), metric)
  header, rows = experiment_tables.tabulate(
      results, expert, metric, getattr(module, 'TABLE', 'per_iteration'))
  num_seeds = next(iter(module.RUNS.values())).num_seeds
  markdown = [f'Expert return: {expert:.1f}. Seeds: {num_seeds} per method. '
              f'Device: {reporting.device_name()}. Date: {reporting.today()}. '
              f'Command: {reporting.command_line()}. Plot: `{curve}`.', '']
  markdown.append('| ' + ' | '.join(header) + ' |')
  markdown.append('|' + '---|' * len(header))
  markdown += ['| ' + ' | '.join(r) + ' |' for r in rows]
  with open(os.path.join(out_dir, 'results.md'), 'w') as f:
    f.write(f'# {module.DESCRIPTION}\n\n' + '\n'.join(markdown) + '\n')
  print('\n'.join(markdown))
  if _RESULTS.value:
    reporting.append_section(_RESULTS.value, module.DESCRIPTION,
                             markdown + ['', f'![{_EXPERIMENT.value}]({curve})'])


if __name__ == '__main__':
  launch.run_app(main)
