"""GAIL against BC on Walker2d from the shipped expert's demonstrations.

The expert (`experts.load('walker2d')`, SAC, 5187) demonstrates 4 or 16
trajectories of 1000 steps, the same ones for BC and GAIL of a seed (BC's
`num_envs` and GAIL's `demonstration_envs` are both the trajectory count).
BC is the CS285 protocol's learner (10 iterations of 1000 gradient steps at
batch 100 on a 2x64 tanh MLP, learning rate 5e-3): it never steps the
environment but to evaluate. GAIL runs PPO on the discriminator's 'gail'
reward with the recipe that trained our CPU PPO experts (128 environments,
unrolls of 20, 4 epochs of 4 minibatches, learning rate 3e-4 annealed,
dual clip 3, 256x256 networks on normalised observations): 10 iterations
of 102,400 environment steps, about 1 M in all, sized for a 2-core CPU
(2 seeds in one program). The imitation library's GAIL takes 10 M steps on
seals/Walker2d; `walker2d_gail_gpu` is this experiment at that budget, for
a GPU. Evaluation: 5 episodes of the deterministic
policy after each iteration. The table gives each iteration's return with
the environment steps and training seconds spent so far.
"""

import dataclasses

from il_jax.algorithms.gail import GAILConfig
from il_jax.config import CS285_WALKER2D
from il_jax.experiment import RunConfig

DESCRIPTION = 'Walker2d: GAIL vs BC from the shipped expert\'s demonstrations'
TABLE = 'cost'
X_AXIS = 'Total_EnvSteps'
_LENGTH = 1000
_SEEDS = 2


def _bc(trajectories: int) -> RunConfig:
  return RunConfig(
      algo='bc', env='walker2d', num_seeds=_SEEDS,
      # BC collects nothing: steps_per_iter only has to divide evenly.
      imitation=dataclasses.replace(
          CS285_WALKER2D, num_envs=trajectories, expert_steps_per_env=_LENGTH,
          steps_per_iter=trajectories * _LENGTH))


GAIL = GAILConfig(
    n_iter=10, num_envs=128, unroll_length=20, steps_per_iter=102_400,
    num_minibatches=4, update_epochs=4, learning_rate=3e-4, dual_clip=3.0,
    policy_hidden_sizes=(256, 256), value_hidden_sizes=(256, 256),
    expert_steps_per_env=_LENGTH, eval_episodes=5, episode_length=_LENGTH)


def _gail(trajectories: int, **options) -> RunConfig:
  return RunConfig(
      algo='gail', env='walker2d', num_seeds=_SEEDS,
      imitation=dataclasses.replace(GAIL, demonstration_envs=trajectories,
                                    **options))


RUNS = {
    'BC, 4 trajectories': _bc(4),
    'BC, 16 trajectories': _bc(16),
    'GAIL, 16 trajectories': _gail(16),
    # The default before `tightrope_gail` showed D overfitting with it.
    'GAIL, 16 trajectories, 5 discriminator steps': _gail(
        16, discriminator_steps=5),
}
