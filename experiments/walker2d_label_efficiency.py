"""Expert labels needed on Walker2d: BC, DAgger and HG-DAgger with each gate.

The CS285 Walker2d protocol of `walker2d_bc_vs_dagger` (2 expert
trajectories of 1000 steps, 1000 learner steps per iteration, 1000 gradient
steps per iteration at batch 100 and learning rate 5e-3, a 2x64 MLP, 10
iterations, evaluation over 5 episodes), 5 seeds per method. Its BC and
DAgger runs are the same programs as `walker2d_bc_vs_dagger`'s. HG-DAgger
aggregates only the steps the expert drove (see
`experiments.label_efficiency_runs`); its safety gate measures Walker2d's
distance to the torso height and angle limits.
"""

from experiments import FAST_PRESET, FIRST_WALKER2D_EXPERT
from experiments import label_efficiency_runs
from experiments import walker2d_bc_vs_dagger

DESCRIPTION = 'Walker2d: return against expert labels (5 seeds)'
X_AXIS = 'Expert_Labels'

RUNS = label_efficiency_runs('walker2d', walker2d_bc_vs_dagger.IMITATION,
                             num_seeds=5, expert=FIRST_WALKER2D_EXPERT,
                             env_options=FAST_PRESET)
