"""Behavioral cloning: fit the policy to the expert's demonstrations.

    demonstrations <- roll out the expert
    repeat n_iter times: train on the demonstrations; evaluate

Every iteration evaluates the policy, so BC's learning curve lines up with
DAgger's iteration by iteration (same gradient steps, no new data).
"""

from il_jax.algorithms import core
from il_jax.config import ImitationConfig
from il_jax.policies.base import Policy


def make_train_fns(config: ImitationConfig, env, policy: Policy,
                   expert: core.ExpertFn) -> core.TrainFns:
  """`init(key)` and `iteration(state, i)`, for a driver that checkpoints."""
  return core.make_train_fns(config, env, policy, expert, collector=None)


def make_train(config: ImitationConfig, env, policy: Policy,
               expert: core.ExpertFn):
  """`train(key) -> (TrainState, metrics [n_iter])`, one compiled program."""
  return core.scan_train(make_train_fns(config, env, policy, expert),
                         config.n_iter)
