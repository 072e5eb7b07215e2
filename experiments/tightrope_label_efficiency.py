"""Expert labels needed on tightrope: BC, DAgger and HG-DAgger with each gate.

The CS285-sized tightrope protocol of `tightrope_bc_vs_dagger` (2
demonstrations, 2 learner episodes of 200 steps per iteration, 10
iterations, 5 seeds). HG-DAgger aggregates only the steps the expert drove
(see `experiments.label_efficiency_runs`).
"""

from experiments import label_efficiency_runs
from il_jax.config import ImitationConfig

DESCRIPTION = 'tightrope: return against expert labels (5 seeds)'
X_AXIS = 'Expert_Labels'
_LENGTH = 200
_IMITATION = ImitationConfig(
    n_iter=10, num_envs=2, expert_steps_per_env=_LENGTH,
    steps_per_iter=2 * _LENGTH, train_steps_per_iter=1000,
    train_batch_size=100, learning_rate=5e-3, eval_episodes=16,
    episode_length=_LENGTH)

RUNS = label_efficiency_runs('tightrope', _IMITATION, num_seeds=5)
