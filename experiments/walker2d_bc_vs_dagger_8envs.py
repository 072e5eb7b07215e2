"""BC against DAgger on Walker2d with 8 environments per iteration.

The GPU-sized protocol of `walker2d_bc_vs_dagger_gpu` (a full episode per
environment for the demonstrations and for every DAgger iteration, 1000 Adam
steps at batch 1024 per iteration, learning rate 5e-3, 2x64 tanh MLP by
MSE), with 8 environments instead of 1024 so that it fits a CPU: 8 expert
trajectories, 8000 relabelled steps per DAgger iteration, 6 iterations,
evaluation over 5 episodes. Between the CS285 protocol (1000 labels per
iteration) and the GPU one; 5 seeds per method.
"""

import dataclasses

from experiments import FAST_PRESET, FIRST_WALKER2D_EXPERT
from experiments import walker2d_bc_vs_dagger_gpu

DESCRIPTION = 'Walker2d: BC vs DAgger, 8 environments per iteration (5 seeds)'
NUM_ENVS = 8
IMITATION = dataclasses.replace(
    walker2d_bc_vs_dagger_gpu.IMITATION, n_iter=6, num_envs=NUM_ENVS,
    steps_per_iter=NUM_ENVS * 1000, eval_episodes=5)

RUNS = {
    label: dataclasses.replace(run, imitation=IMITATION,
                               expert=FIRST_WALKER2D_EXPERT,
                               env_options=FAST_PRESET)
    for label, run in walker2d_bc_vs_dagger_gpu.RUNS.items()
}
