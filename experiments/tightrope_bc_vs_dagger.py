"""BC against DAgger on tightrope, CS285-sized, 5 seeds each in one program.

2 expert demonstrations (one episode of 200 steps in each of 2 envs), 2
learner episodes relabelled per DAgger iteration, 10 iterations of 1000
gradient steps at batch 100 and learning rate 5e-3, a 2x64 tanh MLP trained
by MSE, evaluation over 16 episodes.
"""

from il_jax.config import ImitationConfig
from il_jax.experiment import RunConfig

DESCRIPTION = 'tightrope: BC vs DAgger (CS285 protocol, 5 seeds)'
_LENGTH = 200
IMITATION = ImitationConfig(
    n_iter=10, num_envs=2, expert_steps_per_env=_LENGTH,
    steps_per_iter=2 * _LENGTH, train_steps_per_iter=1000,
    train_batch_size=100, learning_rate=5e-3, eval_episodes=16,
    episode_length=_LENGTH)

RUNS = {
    algo_label: RunConfig(algo=algo, env='tightrope', policy='mlp',
                          num_seeds=5, imitation=IMITATION)
    for algo_label, algo in (('BC', 'bc'), ('DAgger', 'dagger'))
}
