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
from il_jax import logging
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


TABLES = ('per_iteration', 'cost', 'final')
X_AXES = ('Iteration', 'Expert_Labels', 'Dataset_Size', 'Total_EnvSteps')


def _per_iteration(rows, name):
  """`[n_iter, num_seeds]` values of metric `name`."""
  return logging.per_iteration(rows, name)[1]


def _labels_to_reach(returns, labels, target) -> str:
  """Expert labels at the first iteration whose mean return >= target."""
  reached = np.flatnonzero(returns >= target)
  return f'{labels[reached[0]]:.0f}' if reached.size else 'not reached'


def plot(results: dict, expert_return: float, title: str, path: str,
         x_axis: str, metric: str = 'Eval_AverageReturn') -> None:
  """`metric` (mean ± std over seeds) against `x_axis` (one of `X_AXES`;
  all but 'Iteration' averaged over seeds)."""
  curves = {label: (_per_iteration(rows, x_axis).mean(1),
                    _per_iteration(rows, metric))
            for label, rows in results.items()}
  logging.plot_bands(
      curves, path, ylabel=f'{metric} (mean ± std over seeds)', title=title,
      xlabel={'Iteration': 'iteration',
              'Expert_Labels': 'expert labels (cumulative)',
              'Dataset_Size': 'dataset rows (environment steps of data)',
              'Total_EnvSteps': 'environment steps (cumulative)'}[x_axis],
      reference=expert_return, log_x=x_axis != 'Iteration')


def tabulate(results: dict, expert: float, metric: str = 'Eval_AverageReturn',
             layout: str = 'per_iteration'
             ) -> tuple[list[str], list[list[str]]]:
  """The header and rows of an experiment's table.

  Args:
    results: each run's label -> its metric rows (`experiment.run`).
    expert: the expert's return, for the "% of expert" figures.
    metric: the metric tabulated (mean ± std over seeds).
    layout: one of `TABLES`: 'per_iteration' (a row per iteration, each cell
      with the expert labels so far), 'cost' (the same with the
      environment steps and training seconds so far) or 'final' (a row per
      run: its last iteration, labels, environment steps and seconds).
  """
  if layout not in TABLES:
    raise ValueError(f'TABLE={layout!r} is not valid; expected one of '
                     f'{TABLES}.')
  labels = list(results)
  table = {label: _per_iteration(rows, metric)
           for label, rows in results.items()}
  expert_labels = {label: _per_iteration(rows, 'Expert_Labels').mean(1)
                   for label, rows in results.items()}
  env_steps = {label: _per_iteration(rows, 'Total_EnvSteps').mean(1)
               for label, rows in results.items()}
  # Seconds of training since the start (compiling excluded): the same for
  # every seed of a program.
  seconds = {label: np.cumsum(_per_iteration(rows, 'Iteration_Seconds')
                              .mean(1))
             for label, rows in results.items()}
  if layout == 'final':
    header = ['run', f'final {metric} (mean ± std over seeds)',
              '% of expert', 'expert labels',
              'environment steps (evaluations included)', 'training seconds']
    rows = [[l, f'{table[l][-1].mean():.2f} ± {table[l][-1].std():.2f}',
             f'{100 * table[l][-1].mean() / expert:.0f} %',
             f'{expert_labels[l][-1]:.0f}', f'{env_steps[l][-1]:.0f}',
             f'{seconds[l][-1]:.0f}'] for l in labels]
  else:
    # 'cost' puts each iteration's environment steps and training seconds
    # beside its value, for methods that spend different amounts of both.
    bracket = ('environment steps (evaluations included), seconds'
               if layout == 'cost' else 'labels')
    header = (['iteration'] +
              [f'{label}: {metric} (% of expert) [{bracket}]'
               for label in labels])

    def cost(l, i):
      if layout == 'cost':
        return f'{env_steps[l][i]:,.0f}, {seconds[l][i]:.0f} s'
      return f'{expert_labels[l][i]:.0f}'

    rows = []
    for i in range(max(len(v) for v in table.values())):
      rows.append([str(i)] + [
          f'{table[l][i].mean():.1f} ± {table[l][i].std():.1f} '
          f'({100 * table[l][i].mean() / expert:.0f} %) '
          f'[{cost(l, i)}]' if i < len(table[l]) else ''
          for l in labels])
    rows.append(['labels to reach 90 % of expert'] + [
        _labels_to_reach(table[l].mean(1), expert_labels[l], 0.9 * expert)
        for l in labels])
  return header, rows


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

  expert = float(np.mean(_per_iteration(next(iter(results.values())),
                                        'Expert_AverageReturn')))
  curve = os.path.join(out_dir, 'learning_curves.png')
  metric = getattr(module, 'METRIC', 'Eval_AverageReturn')
  plot(results, expert, module.DESCRIPTION, curve,
       getattr(module, 'X_AXIS', 'Iteration'), metric)
  header, rows = tabulate(results, expert, metric,
                          getattr(module, 'TABLE', 'per_iteration'))
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
