"""BC against DAgger on Walker2d, sized for a GPU: thousands of environments.

The CS285 protocol of `walker2d_bc_vs_dagger` collects 1000 steps per
iteration from one environment. Here 1024 environments demonstrate one full
episode each, and every DAgger iteration rolls out 1024 learners for a full
episode (about a million relabelled steps per iteration); training takes
1000 Adam steps at batch 1024 per iteration, so an iteration sees as many
samples as it collects from a fifth of the environments; evaluation runs 64
episodes. 2x64 tanh MLP (MSE) as in the homework, the default solver
preset, 5 seeds per method in one program. `make run` runs these two runs on a GPU.

The dataset holds up to 10.2 M rows (about 0.9 GiB per seed); on a CPU this
experiment would take days.
"""

from il_jax.config import ImitationConfig
from il_jax.experiment import RunConfig

DESCRIPTION = 'Walker2d: BC vs DAgger, GPU-sized (1024 environments, 5 seeds)'
NUM_ENVS = 1024
IMITATION = ImitationConfig(
    n_iter=10, num_envs=NUM_ENVS, expert_steps_per_env=1000,
    steps_per_iter=NUM_ENVS * 1000, train_steps_per_iter=1000,
    train_batch_size=1024, learning_rate=5e-3, eval_episodes=64,
    episode_length=1000)

RUNS = {
    label: RunConfig(algo=algo, env='walker2d', policy='mlp', num_seeds=5,
                     imitation=IMITATION)
    for label, algo in (('BC', 'bc'), ('DAgger', 'dagger'))
}
