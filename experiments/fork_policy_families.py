"""Success rate on fork per policy family, BC and DAgger, 5 seeds each.

10 expert demonstrations (one 40-step episode in each of 10 envs; the expert
picks its side by the sign of a tiny random offset, so about half go left),
5 iterations of 1000 gradient steps at batch 100, learning rate 1e-3, 2x64
tanh networks with each family's default options; DAgger relabels 10
learner episodes per iteration. Evaluation: 64 episodes with the policy's
deterministic `mode`.
"""

from il_jax.config import ImitationConfig
from il_jax.experiment import RunConfig

DESCRIPTION = 'fork: success rate per policy family (5 seeds)'
METRIC = 'Eval_success'
TABLE = 'final'
_LENGTH = 40
_IMITATION = ImitationConfig(
    n_iter=5, num_envs=10, expert_steps_per_env=_LENGTH,
    steps_per_iter=10 * _LENGTH, train_steps_per_iter=1000,
    train_batch_size=100, learning_rate=1e-3, eval_episodes=64,
    episode_length=_LENGTH)
FAMILIES = ('mlp', 'gaussian', 'mog', 'cvae', 'diffusion', 'autoregressive',
            'ensemble')

RUNS = {
    f'{algo_label} {family}': RunConfig(
        algo=algo, env='fork', policy=family, num_seeds=5,
        imitation=_IMITATION)
    for family in FAMILIES
    for algo_label, algo in (('BC', 'bc'), ('DAgger', 'dagger'))
}
