"""Expert labels needed on tightrope: BC, DAgger and HG-DAgger with each gate.

The CS285-sized tightrope protocol of `tightrope_bc_vs_dagger` (2
demonstrations, 2 learner episodes of 200 steps per iteration, 10
iterations, 5 seeds). HG-DAgger aggregates only the steps the expert drove
(see `experiments.label_efficiency_runs`).
"""

from experiments import label_efficiency_runs
from experiments.tightrope_bc_vs_dagger import IMITATION

DESCRIPTION = 'tightrope: return against expert labels (5 seeds)'
X_AXIS = 'Expert_Labels'

RUNS = label_efficiency_runs('tightrope', IMITATION, num_seeds=5)
