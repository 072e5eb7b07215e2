"""GAIL against BC on Walker2d at the imitation library's budget, for a GPU.

`walker2d_gail` scaled to the peer's 10 M environment steps: 2048 PPO
environments, 10 iterations of 1,024,000 steps (25 rounds of unrolls of
20, each trained for 4 epochs of 32 minibatches of 1280), 16 demonstrated
trajectories, 5 seeds per method in one program; BC is the CS285 learner
on the same 16 trajectories. On a 2-core CPU it would take about two days.
Expected on one H200 (not yet measured): about 5 minutes after compiling,
from the probe's cost of a Walker2d step at this batch (~6-8 ms for
10,240 environments, 5,000 sequential steps of rollouts) plus PPO's 250
updates and 10 evaluations of 1000 sequential steps.
"""

import dataclasses

from experiments import walker2d_gail
from il_jax.experiment import RunConfig

DESCRIPTION = ('Walker2d: GAIL vs BC at 10 M steps, GPU-sized (2048 '
               'environments, 5 seeds)')
TABLE = walker2d_gail.TABLE
X_AXIS = walker2d_gail.X_AXIS
_GAIL = dataclasses.replace(walker2d_gail.GAIL, num_envs=2048,
                            steps_per_iter=1_024_000, num_minibatches=32,
                            demonstration_envs=16)

RUNS = {
    'BC, 16 trajectories': dataclasses.replace(
        walker2d_gail.RUNS['BC, 16 trajectories'], num_seeds=5),
    'GAIL, 16 trajectories': RunConfig(algo='gail', env='walker2d',
                                       num_seeds=5, imitation=_GAIL),
}
