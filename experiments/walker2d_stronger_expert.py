"""BC against DAgger on Walker2d with the 5187 expert: the CS285 protocol.

`walker2d_bc_vs_dagger`'s four runs (BC and DAgger, each with the MSE MLP
and with the Gaussian MLP behind the published numbers), unchanged but for
the expert: the default shipped one (`experts.load('walker2d')`, SAC trained
for 2,775,000 steps, 5187 on the `fast` preset) in place of the first
(`walker2d_sac_900k`, 4313). The published reference's expert returns about
5400, so this is the closer comparison. A fifth run is the best recipe on
the first expert: the Gaussian MLP on normalised observations, acting with
a 0.99 moving average of its parameters (`walker2d_parameter_averaging`),
also on seed sets 1 and 2 (15 seeds in all), and, to tell the levers
apart, DAgger on normalised observations without the average, with each of
the two MLPs (`walker2d_normalized_observations`).
"""

import dataclasses

from experiments import walker2d_bc_vs_dagger
from experiments import walker2d_normalized_observations
from experiments import walker2d_parameter_averaging

DESCRIPTION = ('Walker2d: BC vs DAgger with the 5187 expert (CS285 protocol, '
               '5 seeds)')


def _with_default_expert(run):
  return dataclasses.replace(run, expert=None)


RUNS = {
    label: _with_default_expert(run)
    for label, run in walker2d_bc_vs_dagger.RUNS.items()
}
for _label in ('DAgger (normalised)', 'DAgger gaussian (normalised)'):
  RUNS[_label] = _with_default_expert(
      walker2d_normalized_observations.RUNS[_label])
_RECIPE = 'DAgger gaussian (normalised, EMA 0.99)'
RUNS[_RECIPE] = _with_default_expert(walker2d_parameter_averaging.RUNS[_RECIPE])
for _seed in (1, 2):
  RUNS[_RECIPE.replace(')', f', seed set {_seed})')] = dataclasses.replace(
      RUNS[_RECIPE], seed=_seed)
