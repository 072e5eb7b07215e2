"""Behavioral cloning: fit the policy to the expert's demonstrations.

    demonstrations <- roll out the expert
    repeat n_iter times: train on the demonstrations; evaluate

Every iteration evaluates the policy, so BC's learning curve lines up with
DAgger's iteration by iteration (same gradient steps, no new data).
"""

from il_jax.algorithms import core
from il_jax.config import ImitationConfig


ALGORITHM = core.Algorithm(name='bc', config_class=ImitationConfig,
                           learner_views=True)
make_train_fns = ALGORITHM.make_train_fns
make_train = ALGORITHM.make_train
