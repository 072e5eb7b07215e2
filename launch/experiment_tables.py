"""The tables and learning-curve plots of `launch.reproduce` experiments.

Kept apart from `launch.reproduce`, which defines command-line flags, so
that tests and other launchers can import them: absl refuses a second
module defining the same flag (`--workdir`) in one process.
"""

import numpy as np

from il_jax import logging


TABLES = ('per_iteration', 'cost', 'final')
X_AXES = ('Iteration', 'Expert_Labels', 'Dataset_Size', 'Total_EnvSteps')


def per_iteration(rows, name):
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
  curves = {label: (per_iteration(rows, x_axis).mean(1),
                    per_iteration(rows, metric))
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
  table = {label: per_iteration(rows, metric)
           for label, rows in results.items()}
  expert_labels = {label: per_iteration(rows, 'Expert_Labels').mean(1)
                   for label, rows in results.items()}
  env_steps = {label: per_iteration(rows, 'Total_EnvSteps').mean(1)
               for label, rows in results.items()}
  # Seconds of training since the start (compiling excluded): the same for
  # every seed of a program.
  seconds = {label: np.cumsum(per_iteration(rows, 'Iteration_Seconds')
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
