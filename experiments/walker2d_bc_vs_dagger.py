"""BC against DAgger on Walker2d with the shipped expert: the CS285 protocol.

As in the CS285 homework: expert data of 2 trajectories x 1000 steps, 1000
learner steps relabelled per DAgger iteration (one environment, so a full
episode when the learner stays up), 10 iterations of 1000 gradient steps at
batch 100 and learning rate 5e-3, a 2x64 tanh MLP, and evaluation over 5
episodes of 1000 steps (5000 steps) with the policy's deterministic `mode`.
Walker2d-v4 dynamics on the `fast` preset (pinned); 5 seeds per method, vmapped in
one program.

Each algorithm runs with both of the homework's policies: the MLP trained by
MSE (`BC`, `DAgger`), and the Gaussian MLP with a learned state-independent
log-std trained by negative log-likelihood, the one behind the published
numbers (`... gaussian`).
"""

from experiments import FAST_PRESET, FIRST_WALKER2D_EXPERT
from il_jax.config import CS285_WALKER2D
from il_jax.experiment import RunConfig

DESCRIPTION = 'Walker2d: BC vs DAgger (CS285 protocol, 5 seeds)'
IMITATION = CS285_WALKER2D

RUNS = {
    f'{algo_label}{suffix}': RunConfig(algo=algo, env='walker2d',
                                       env_options=FAST_PRESET,
                                       policy=policy, num_seeds=5,
                                       imitation=IMITATION,
                                       expert=FIRST_WALKER2D_EXPERT)
    for policy, suffix in (('mlp', ''), ('gaussian', ' gaussian'))
    for algo_label, algo in (('BC', 'bc'), ('DAgger', 'dagger'))
}
