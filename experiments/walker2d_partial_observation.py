"""Walker2d with the velocities hidden: Markov MLP vs history policies.

`observe='positions'` shows the learner only the joint positions
(qpos[1:], 8 numbers) while the shipped expert (5187) keeps acting and
labelling on the full observation; a single frame then lacks the
velocities that a window of 4 frames restores by differencing. The CS285
protocol (`CS285_WALKER2D`: 2 expert trajectories of 1000 steps, 1000
relabelled steps per DAgger iteration, 10 iterations of 1000 gradient
steps at batch 100, evaluation over 5 episodes), 5 seeds per run in one
program, BC and DAgger with a 2x64 MLP, a `gru` and a `transformer` over
the last 4 observations. The full-observation MLP under the same protocol
is `walker2d_stronger_expert` (BC 6 %, DAgger 84 % at iteration 9).
"""

from il_jax.config import CS285_WALKER2D
from il_jax.experiment import RunConfig

DESCRIPTION = ('Walker2d, velocities hidden: MLP vs gru vs transformer '
               '(CS285 protocol, 5 seeds)')
_ENV_OPTIONS = (('observe', 'positions'),)
_FAMILIES = (('MLP', 'mlp', ()),
             ('GRU', 'gru', (('history_length', 4),)),
             ('transformer', 'transformer', (('history_length', 4),)))

RUNS = {
    f'{method} {family}': RunConfig(
        algo=algo, env='walker2d', env_options=_ENV_OPTIONS, policy=policy,
        policy_options=options, num_seeds=5, imitation=CS285_WALKER2D)
    for method, algo in (('BC', 'bc'), ('DAgger', 'dagger'))
    for family, policy, options in _FAMILIES
}
