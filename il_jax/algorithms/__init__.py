"""Imitation algorithms, each one module exporting its `core.Algorithm`
spec (`ALGORITHM`): its config class, traced hyper-parameters, whether it
aggregates, and its collector (`gcbc`'s aggregates its demonstrator's data,
goals relabelled in hindsight; GAIL has its own loop on PPO's rollouts and
updates). The driver (`experiment.run`), sweeps and `launch.train` run
those in `ALGORITHMS`."""

from types import MappingProxyType

from il_jax.algorithms import bc, dagger, gail, gcbc, hg_dagger
from il_jax.algorithms.core import Algorithm
from il_jax.envs.validation import check_choice

ALGORITHMS = MappingProxyType({
    spec.name: spec for spec in (bc.ALGORITHM, dagger.ALGORITHM,
                                 hg_dagger.ALGORITHM, gcbc.ALGORITHM,
                                 gail.ALGORITHM)})


def get(name: str) -> Algorithm:
  """The algorithm registered as `name`.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  check_choice('algo', name, tuple(ALGORITHMS))
  return ALGORITHMS[name]


__all__ = ['ALGORITHMS', 'Algorithm', 'get']
