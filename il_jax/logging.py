"""Per-iteration metrics to stdout, JSONL, CSV, TensorBoard and a PNG curve.

Metrics arrive as a dict of arrays with a leading seed axis `[S]` (S >= 1):
one JSONL/CSV row per (iteration, seed), TensorBoard scalars per seed, and a
progress line with the mean and std over seeds.
"""

import csv
import json
import os
import warnings
from collections.abc import Mapping

import numpy as np

METRICS_FILE = 'metrics.jsonl'
CSV_FILE = 'metrics.csv'
CURVE_FILE = 'learning_curve.png'
TENSORBOARD_DIR = 'tensorboard'


def _rows(metrics: Mapping[str, np.ndarray]) -> list[dict]:
  """One flat dict per seed from `metrics` with leading axis `[S]`."""
  num_seeds = len(next(iter(metrics.values())))
  return [{'Seed': seed, **{k: np.asarray(v)[seed].item()
                            for k, v in metrics.items()}}
          for seed in range(num_seeds)]


def read_metrics(workdir: str) -> list[dict]:
  """The rows of `<workdir>/metrics.jsonl`, in order."""
  path = os.path.join(workdir, METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


class MetricsWriter:
  """Writes metrics of a run in `workdir`; continues a resumed run's files.

  Args:
    workdir: the run's directory.
    resume_iteration: iterations already completed by a resumed run; rows of
      later iterations (written after the last checkpoint of an interrupted
      run) are dropped so the files match the restored state.
    primary: whether this process writes the files. In a multi-host run
      every process holds the same gathered metrics and keeps its rows in
      memory (`rows`), but only process 0 writes, so that hosts sharing a
      file system do not write the same files at once.
  """

  def __init__(self, workdir: str, resume_iteration: int = 0,
               primary: bool = True):
    self._workdir = workdir
    self._primary = primary
    rows = [r for r in read_metrics(workdir)
            if r['Iteration'] < resume_iteration]
    self._rows = rows
    self._tensorboard = None
    if not primary:
      return
    with open(os.path.join(workdir, METRICS_FILE), 'w') as f:
      f.writelines(json.dumps(r) + '\n' for r in rows)
    self._rewrite_csv()
    try:
      import tensorboardX  # pylint: disable=g-import-not-at-top
      self._tensorboard = tensorboardX.SummaryWriter(
          os.path.join(workdir, TENSORBOARD_DIR))
    except ImportError:
      pass

  @property
  def rows(self) -> list[dict]:
    """Every row of the run so far, resumed ones included."""
    return list(self._rows)

  def _rewrite_csv(self) -> None:
    if not self._rows:
      return
    with open(os.path.join(self._workdir, CSV_FILE), 'w', newline='') as f:
      writer = csv.DictWriter(f, fieldnames=list(self._rows[0]))
      writer.writeheader()
      writer.writerows(self._rows)

  def write(self, metrics: Mapping[str, np.ndarray]) -> None:
    """Appends one iteration's metrics (each `[S]`) to every output."""
    rows = _rows(metrics)
    first = not self._rows
    self._rows += rows
    if not self._primary:
      return
    with open(os.path.join(self._workdir, METRICS_FILE), 'a') as f:
      f.writelines(json.dumps(r) + '\n' for r in rows)
    if first:
      self._rewrite_csv()
    else:
      with open(os.path.join(self._workdir, CSV_FILE), 'a', newline='') as f:
        csv.DictWriter(f, fieldnames=list(rows[0])).writerows(rows)
    if self._tensorboard is not None:
      for row in rows:
        step = row['Iteration']
        for name, value in row.items():
          # TensorBoard cannot plot NaN (e.g. a threshold not yet set).
          if name not in ('Iteration', 'Seed') and np.isfinite(value):
            self._tensorboard.add_scalar(f'seed_{row["Seed"]}/{name}', value,
                                         step)
      self._tensorboard.flush()

  def close(self) -> None:
    if self._tensorboard is not None:
      self._tensorboard.close()


# Returns averaged over the episodes that ended, with the metric that counts
# them (None where the algorithms report no count).
_RETURNS = (('eval return', 'Eval_AverageReturn', 'Eval_NumEpisodes'),
            ('train return', 'Train_AverageReturn', 'Train_NumEpisodes'),
            ('expert', 'Expert_AverageReturn', None))


def progress_line(metrics: Mapping[str, np.ndarray]) -> str:
  """A one-line summary: mean (and std over seeds, if several).

  A return is NaN for a seed in which no episode ended; it is left out of
  the mean, and a return no seed has shows as `-`. The number of episodes
  that ended (summed over seeds) follows in brackets where it is reported,
  else the number of seeds with one when some have none.
  """

  def stat(name, fmt='.1f'):
    values = np.asarray(metrics[name], np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
      return '-'
    if np.asarray(metrics[name]).size == 1:
      return format(values.item(), fmt)
    return f'{values.mean():{fmt}}±{values.std():{fmt}}'

  def ended(name, count):
    if count in metrics:
      return f' ({int(np.sum(metrics[count]))} ep)'
    values = np.asarray(metrics[name], np.float64).ravel()
    finite = int(np.sum(np.isfinite(values)))
    return '' if finite == values.size else (
        f' ({finite}/{values.size} seeds)')

  iteration = int(np.asarray(metrics['Iteration']).flat[0])
  returns = '  '.join(f'{label} {stat(name)}{ended(name, count)}'
                      for label, name, count in _RETURNS)
  line = (f'iter {iteration:3d}  {returns}  '
          f'loss {stat("Training_Loss", ".4f")}  '
          f'data {int(np.asarray(metrics["Dataset_Size"]).flat[0])}')
  if 'Intervention_Rate' in metrics:
    line += f'  interventions {stat("Intervention_Rate", ".3f")}'
  if 'Env_Steps_Per_Second' in metrics:
    # One figure for the program: all seeds' env steps per second together.
    speed = float(np.asarray(metrics['Env_Steps_Per_Second']).flat[0])
    seeds = np.asarray(metrics['Env_Steps_Per_Second']).size
    line += f'  {speed:,.0f} env-steps/s' + (
        f' ({seeds} seeds)' if seeds > 1 else '')
  return line


def per_iteration(rows: list[dict], name: str) -> tuple[list[int], np.ndarray]:
  """Iterations (sorted) and the values of metric `name`, `[n_iter, seeds]`."""
  iterations = sorted({r['Iteration'] for r in rows})
  values = np.array([[r[name] for r in rows if r['Iteration'] == i]
                     for i in iterations], np.float64)
  return iterations, values


def plot_bands(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str,
               ylabel: str, title: str = '', xlabel: str = 'iteration',
               reference: float | None = None, log_x: bool = False
               ) -> str | None:
  """Curves with mean ± std bands over seeds, saved as a PNG at `path`.

  Args:
    curves: label -> (x `[n]`, values `[n, seeds]`); NaN values are ignored.
    path: where the PNG goes.
    ylabel, title, xlabel: axis labels and title.
    reference: a horizontal dashed line (e.g. the expert's return), if any.
    log_x: logarithmic x axis.

  Returns:
    `path`, or None if matplotlib is missing.
  """
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
    import matplotlib.ticker  # pylint: disable=g-import-not-at-top
  except ImportError:
    return None
  fig, ax = plt.subplots(figsize=(8, 4.5))
  colors = plt.get_cmap('tab20' if len(curves) > 10 else 'tab10').colors
  for color, (label, (x, values)) in zip(colors, curves.items()):
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', RuntimeWarning)  # all-NaN iterations
      mean = np.nanmean(values, axis=1)
      std = np.nanstd(values, axis=1)
    ax.plot(x, mean, marker='o', label=label, color=color)
    ax.fill_between(x, mean - std, mean + std, alpha=0.15, color=color)
  if reference is not None:
    ax.axhline(reference, color='k', linestyle='--', label='expert')
  if log_x:
    ax.set_xscale('log')
  elif all(np.all(np.equal(np.mod(x, 1), 0)) for x, _ in curves.values()):
    # Iterations are whole numbers: no tick at 2.5.
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  fig.suptitle(title)  # over the figure: a long title overflows the axes
  ax.legend(bbox_to_anchor=(1.02, 1.0), loc='upper left', fontsize='small')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def plot_learning_curve(workdir: str, title: str) -> str | None:
  """Eval (and train) return per iteration, mean ± std over seeds, with the
  expert's return, saved as `<workdir>/learning_curve.png`; None if
  matplotlib is missing or there is nothing to plot."""
  rows = read_metrics(workdir)
  if not rows:
    return None
  curves = {}
  for name, label in (('Eval_AverageReturn', 'eval'),
                      ('Train_AverageReturn', 'train (collected data)')):
    curves[label] = per_iteration(rows, name)
  _, expert = per_iteration(rows, 'Expert_AverageReturn')
  return plot_bands(curves, os.path.join(workdir, CURVE_FILE),
                    ylabel='average return', title=title,
                    reference=float(np.mean(expert)))
