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

from experiments import walker2d_bc_vs_dagger

DESCRIPTION = 'Walker2d: DAgger for 15 iterations (5 seeds)'
_LONGER = dataclasses.replace(walker2d_bc_vs_dagger.IMITATION, n_iter=15)

RUNS = {
    label: dataclasses.replace(walker2d_bc_vs_dagger.RUNS[label],
                               imitation=_LONGER)
    for label in ('DAgger', 'DAgger gaussian')
}
RUNS['DAgger gaussian (normalised)'] = dataclasses.replace(
    walker2d_bc_vs_dagger.RUNS['DAgger gaussian'],
    imitation=dataclasses.replace(_LONGER, normalize_observations=True))
for _seed, _suffix in ((0, ''), (1, ', other seeds')):
  RUNS[f'DAgger gaussian (normalised, EMA 0.99{_suffix})'] = (
      dataclasses.replace(
          walker2d_bc_vs_dagger.RUNS['DAgger gaussian'], seed=_seed,
          imitation=dataclasses.replace(_LONGER, normalize_observations=True,
                                        ema_decay=0.99)))
