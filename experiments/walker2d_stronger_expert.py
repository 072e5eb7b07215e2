"""BC against DAgger on Walker2d with the 5187 expert: the CS285 protocol.

`walker2d_bc_vs_dagger`'s four runs (BC and DAgger, each with the MSE MLP
and with the Gaussian MLP behind the published numbers), unchanged but for
the expert: the default shipped one (`experts.load('walker2d')`, SAC trained
for 2,775,000 steps, 5187 on the `fast` preset) in place of the first
(`walker2d_sac_900k`, 4313). The published reference's expert returns about
5400, so this is the closer comparison. A fifth run is the best recipe on
the first expert: the Gaussian MLP on normalised observations, acting with
a 0.99 moving average of its parameters (`walker2d_parameter_averaging`).
"""

import dataclasses

from experiments import walker2d_bc_vs_dagger
from experiments import walker2d_parameter_averaging

DESCRIPTION = ('Walker2d: BC vs DAgger with the 5187 expert (CS285 protocol, '
               '5 seeds)')


def _with_default_expert(run):
  return dataclasses.replace(run, expert=None)


RUNS = {
    label: _with_default_expert(run)
    for label, run in walker2d_bc_vs_dagger.RUNS.items()
}
RUNS['DAgger gaussian (normalised, EMA 0.99)'] = _with_default_expert(
    walker2d_parameter_averaging.RUNS['DAgger gaussian (normalised, EMA 0.99)'])
