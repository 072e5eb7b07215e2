"""Causal confusion on tightrope: Markov vs history policies, 5 seeds.

Tightrope with `show_previous_action=True` shows the learner the action
applied at the previous step. The expert ignores it, but in its
demonstrations that action is almost the one it takes next (its control is
smooth), so the cue predicts the label without causing it: the "copycat"
of de Haan et al. 2019 ("Causal Confusion in Imitation Learning") and Wen
et al. 2020 ("Fighting Copycat Agents in Behavioral Cloning from
Observation Histories"). A Markov MLP sees one step; `gru` and
`transformer` see the last 4, from which the previous actions and their
trend are easy to read (even without the cue: the velocity change between
two observations reveals the action taken). Compared under BC with and
without the cue, and under DAgger, whose relabelled learner states break
the correlation wherever the learner's own actions feed the cue.
Sized for a 2-core CPU: `tightrope_bc_vs_dagger`'s protocol (2 expert
episodes of 200 steps, 2 relabelled episodes per DAgger iteration, batch
100, learning rate 5e-3, evaluation over 16 episodes) with 6 iterations of
500 gradient steps.
"""

import dataclasses

from experiments import tightrope_bc_vs_dagger
from il_jax.experiment import RunConfig

DESCRIPTION = ('tightrope, copycat: Markov vs history policies with the '
               'previous action shown (5 seeds)')
IMITATION = dataclasses.replace(tightrope_bc_vs_dagger.IMITATION, n_iter=6,
                                train_steps_per_iter=500)
_FAMILIES = (('MLP', 'mlp', ()),
             ('GRU', 'gru', (('history_length', 4),)),
             ('transformer', 'transformer', (('history_length', 4),)))
_METHODS = (('BC', 'bc', (('show_previous_action', True),)),
            ('DAgger', 'dagger', (('show_previous_action', True),)),
            ('BC, no cue', 'bc', ()))

RUNS = {
    f'{method} {family}': RunConfig(
        algo=algo, env='tightrope', env_options=env_options, policy=policy,
        policy_options=options, num_seeds=5, imitation=IMITATION)
    for method, algo, env_options in _METHODS
    for family, policy, options in _FAMILIES
}
