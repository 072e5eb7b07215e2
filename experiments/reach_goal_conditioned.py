"""Goal-conditioned BC on reach: relabelled play against expert
demonstrations, success on held-out goals (5 seeds each).

Every run starts from 300 steps of its demonstrator's data (6 episodes of
50 steps) and adds 300 every iteration, up to 3000 in the 10th; 1000
gradient steps per iteration at batch 256, learning rate 1e-3, a 2x64 tanh
MLP over the whole observation (goal included). Evaluation: 100 episodes
whose goals are drawn from the held-out disc (`goal_region='held_out'`), at
which play never aims (its waypoints lie outside the disc). Runs:
  * BC on expert demonstrations: the expert reaching the episodes' own
    goals, labelled by its actions, the same environment steps as play;
  * GCBC on play data (the expert steering to waypoints of the training
    region, a new one every 10 steps, plus N(0, 0.3^2) action noise),
    labelled by the actions it executed, goals relabelled with a future
    position of the same episode ('future'), its last one ('final'), or not
    at all (the goal observed, which play ignored).
The label-efficiency curve plots success against the rows of data.
"""

from il_jax.algorithms.gcbc import GCBCConfig
from il_jax.experiment import RunConfig

DESCRIPTION = 'reach: goal-conditioned BC on held-out goals (5 seeds)'
METRIC = 'Eval_success'
X_AXIS = 'Dataset_Size'
_LENGTH = 50
_BASE = dict(n_iter=10, num_envs=6, expert_steps_per_env=_LENGTH,
             steps_per_iter=6 * _LENGTH, train_steps_per_iter=1000,
             train_batch_size=256, learning_rate=1e-3, eval_episodes=100,
             episode_length=_LENGTH)
_HELD_OUT = (('goal_region', 'held_out'),)


def _run(**options) -> RunConfig:
  return RunConfig(algo='gcbc', env='reach', env_options=_HELD_OUT,
                   policy='mlp', num_seeds=5,
                   imitation=GCBCConfig(**_BASE, **options))


# The expert's run comes first: its return is the table's reference.
RUNS = {
    'BC, expert demonstrations': _run(demonstrator='expert', relabel='none'),
    'GCBC, play, future relabelling': _run(demo_noise=0.3, relabel='future'),
    'GCBC, play, final relabelling': _run(demo_noise=0.3, relabel='final'),
    'GCBC, play, no relabelling': _run(demo_noise=0.3, relabel='none'),
}
