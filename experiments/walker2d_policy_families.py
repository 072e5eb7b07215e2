"""Walker2d return per policy family, BC and DAgger (the CS285 protocol).

2 expert trajectories of 1000 steps, 1000 learner steps relabelled per
DAgger iteration, 1000 gradient steps per iteration at batch 100, 2x64 tanh
networks with each family's default options; 10 iterations, 5 seeds,
evaluation over 5 episodes of 1000 steps with the policy's deterministic
`mode`. The learning rate is 1e-3 for every family, as on fork (CS285's
5e-3 was chosen for the MSE regressor).
"""

import dataclasses

from experiments import FAST_PRESET, FIRST_WALKER2D_EXPERT
from experiments import walker2d_bc_vs_dagger
from il_jax.experiment import RunConfig

DESCRIPTION = 'Walker2d: return per policy family (5 seeds)'
TABLE = 'final'
_IMITATION = dataclasses.replace(walker2d_bc_vs_dagger.IMITATION,
                                 learning_rate=1e-3)
FAMILIES = ('mlp', 'gaussian', 'mog', 'cvae', 'diffusion', 'autoregressive',
            'ensemble')

RUNS = {
    f'{algo_label} {family}': RunConfig(
        algo=algo, env='walker2d', env_options=FAST_PRESET, policy=family,
        num_seeds=5,
        imitation=_IMITATION, expert=FIRST_WALKER2D_EXPERT)
    for family in FAMILIES
    for algo_label, algo in (('BC', 'bc'), ('DAgger', 'dagger'))
}
