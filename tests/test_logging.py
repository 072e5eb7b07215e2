"""The progress line and the learning-curve plot."""

import numpy as np

from il_jax import logging


def _metrics(**overrides):
  metrics = {
      'Iteration': np.array([3, 3]),
      'Eval_AverageReturn': np.array([10.0, 12.0]),
      'Eval_NumEpisodes': np.array([4, 5]),
      'Train_AverageReturn': np.array([np.nan, np.nan]),
      'Expert_AverageReturn': np.array([np.nan, 30.0]),
      'Training_Loss': np.array([0.25, 0.75]),
      'Dataset_Size': np.array([200, 200]),
  }
  metrics.update(overrides)
  return metrics


def test_a_return_no_episode_gave_shows_as_a_dash_with_the_counts():
  line = logging.progress_line(_metrics())
  assert 'nan' not in line
  assert 'eval return 11.0±1.0 (9 ep)' in line
  assert 'train return - (0/2 seeds)' in line
  assert 'expert 30.0±0.0 (1/2 seeds)' in line


def test_hg_dagger_shows_its_intervention_rate():
  line = logging.progress_line(
      _metrics(Intervention_Rate=np.array([0.1, 0.3])))
  assert line.endswith('interventions 0.200±0.100')


def test_learning_curves_have_integer_iteration_ticks(tmp_path,
                                                      monkeypatch):
  import matplotlib.figure  # pylint: disable=g-import-not-at-top
  ticks = []
  save = matplotlib.figure.Figure.savefig

  def record(fig, *args, **kwargs):
    fig.canvas.draw()
    ticks.extend(t for ax in fig.axes for t in ax.get_xticks())
    return save(fig, *args, **kwargs)

  monkeypatch.setattr(matplotlib.figure.Figure, 'savefig', record)
  x = np.arange(4)
  logging.plot_bands({'eval': (x, np.ones((4, 2)))},
                     str(tmp_path / 'curve.png'), ylabel='return')
  assert ticks and all(float(t).is_integer() for t in ticks), ticks
