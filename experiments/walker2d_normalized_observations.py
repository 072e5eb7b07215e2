"""BC and DAgger on Walker2d with observations normalised by the dataset.

The CS285 homework feeds raw observations to its MLP. Walker2d's are badly
scaled for that: joint velocities span +-10 where heights and angles move by
hundredths. Here the policy sees every observation normalised by the mean
and std of the current dataset (recomputed after each aggregation, inside
the compiled iteration); everything else is the CS285 protocol of
`walker2d_bc_vs_dagger` (MSE MLP), whose runs are the unnormalised
baseline. Two more runs combine normalisation with the best of the other
levers: noisy demonstrations (std 0.1, `walker2d_noisy_demonstrations`) and
the Gaussian MLP. 5 seeds per method.
"""

import dataclasses

from experiments import walker2d_bc_vs_dagger

DESCRIPTION = ('Walker2d: BC and DAgger with normalised observations '
               '(5 seeds)')


def _normalized(label: str, demo_noise: float = 0.0):
  run = walker2d_bc_vs_dagger.RUNS[label]
  return dataclasses.replace(run, imitation=dataclasses.replace(
      run.imitation, normalize_observations=True, demo_noise=demo_noise))


RUNS = {
    'BC': walker2d_bc_vs_dagger.RUNS['BC'],
    'BC (normalised)': _normalized('BC'),
    'DAgger': walker2d_bc_vs_dagger.RUNS['DAgger'],
    'DAgger (normalised)': _normalized('DAgger'),
    'DAgger (normalised, demo noise 0.1)': _normalized('DAgger', 0.1),
    'DAgger gaussian': walker2d_bc_vs_dagger.RUNS['DAgger gaussian'],
    'DAgger gaussian (normalised)': _normalized('DAgger gaussian'),
    # The same run on 5 other seeds (seed=1): is its final return the method's
    # or luck?
    'DAgger gaussian (normalised, other seeds)': dataclasses.replace(
        _normalized('DAgger gaussian'), seed=1),
}
