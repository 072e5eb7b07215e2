"""GAIL against BC and DAgger on tightrope, the same demonstrations, 5 seeds.

Every method starts from the expert's same 400 labelled steps (one episode
of 200 steps in each of 2 environments, the same for a given seed: BC's
demonstrations, which GAIL's `demonstration_envs=2` reproduces). BC and
DAgger are `tightrope_bc_vs_dagger`'s CS285 protocol: 10 iterations of 1000
gradient steps at batch 100 on a 2x64 tanh MLP; DAgger relabels 400 learner
steps per iteration, so its expert labels grow to 4000 while BC's and
GAIL's stay at 400. GAIL never calls the expert after the demonstrations:
it spends environment steps instead, 10 iterations of 40,960 (GAIL's
default recipe, PPO with 64 environments, the 'gail' reward and one
discriminator step per round), and with the 5 steps per round that were
the default before this experiment, alone and with two remedies. The table
gives, after the last iteration, the return of the deterministic policy
over 16 episodes, the expert labels and the environment steps each used.
"""

from il_jax.algorithms.gail import GAILConfig
from il_jax.config import ImitationConfig
from il_jax.experiment import RunConfig

DESCRIPTION = 'tightrope: GAIL vs BC vs DAgger on the same demonstrations (5 seeds)'
TABLE = 'final'
X_AXIS = 'Total_EnvSteps'
_LENGTH = 200
_SHARED = dict(n_iter=10, expert_steps_per_env=_LENGTH, eval_episodes=16,
               episode_length=_LENGTH)
_IMITATION = ImitationConfig(
    **_SHARED, num_envs=2, steps_per_iter=2 * _LENGTH,
    train_steps_per_iter=1000, train_batch_size=100, learning_rate=5e-3)


def _gail(**options) -> RunConfig:
  return RunConfig(algo='gail', env='tightrope', num_seeds=5,
                   imitation=GAILConfig(**_SHARED, demonstration_envs=2,
                                        **options))


RUNS = {
    'BC': RunConfig(algo='bc', env='tightrope', num_seeds=5,
                    imitation=_IMITATION),
    'DAgger': RunConfig(algo='dagger', env='tightrope', num_seeds=5,
                        imitation=_IMITATION),
    'GAIL': _gail(),
    # The default until this experiment: 5 discriminator steps per round,
    # alone and with two remedies for the seeds whose D overfits.
    'GAIL, 5 discriminator steps': _gail(discriminator_steps=5),
    # DAC's penalty weight (Kostrikov et al. 2019): a smoother D.
    'GAIL, 5 discriminator steps, gradient penalty 10': _gail(
        discriminator_steps=5, gradient_penalty=10.0),
    # More exploration for PPO against a sharp D.
    'GAIL, 5 discriminator steps, entropy 0.01': _gail(
        discriminator_steps=5, entropy_coef=1e-2),
}
