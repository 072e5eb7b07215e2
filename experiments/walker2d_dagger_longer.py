"""DAgger on Walker2d past the CS285 protocol's 10 iterations.

`walker2d_bc_vs_dagger` ends below the published 96 % with both of the
homework's policies, still rising. The same protocol run for 15 iterations
asks whether the gap is one of speed (more iterations close it) or of
ceiling. The Gaussian MLP also runs with observations normalised by the
dataset (`walker2d_normalized_observations`), and with a moving average
of its parameters as well (`walker2d_parameter_averaging`, on both of its
seed sets), to see whether what they reach by iteration 9 holds. 5 seeds
per run.
"""

import dataclasses

from experiments import walker2d_bc_vs_dagger, walker2d_parameter_averaging

DESCRIPTION = 'Walker2d: DAgger for 15 iterations (5 seeds)'
N_ITER = 15


def _longer(run):
  """`run` with `N_ITER` iterations: its first 10 are the 10-iteration run's."""
  return dataclasses.replace(run, imitation=dataclasses.replace(
      run.imitation, n_iter=N_ITER))


RUNS = {
    **{label: _longer(walker2d_bc_vs_dagger.RUNS[label])
       for label in ('DAgger', 'DAgger gaussian')},
    **{label: _longer(walker2d_parameter_averaging.RUNS[label])
       for label in ('DAgger gaussian (normalised)',
                     'DAgger gaussian (normalised, EMA 0.99)',
                     'DAgger gaussian (normalised, EMA 0.99, other seeds)')},
}
