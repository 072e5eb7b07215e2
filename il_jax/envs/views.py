"""What the learner is shown of an observation, while the expert sees it all.

An environment observes its full state (`obs [..., observation_size]`);
the expert acts on, and `expert_action` / `safety_margin` read, that full
observation. A task that tests history-conditioned policies hides part of it
from the learner (e.g. Walker2d's velocities with `observe='positions'`),
so that a Markov policy lacks what a history of observations restores.

Protocol. An environment defines a learner view with two members:

    learner_observation_size: int                # property: the size of the view
    learner_observation(obs [..., observation_size])
        -> [..., learner_observation_size]       # pure, jittable, traceable

An environment that defines neither is seen whole (the identity view). A
wrapper is looked through (`env.unwrapped`, brax's chain of `.env`), so the
view of `wrap(make(name, ...))` is that of `make(name, ...)`: wrappers here
never change the observation.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
from brax.envs.base import Env


class LearnerView(NamedTuple):
  """The learner's view of an environment's observation.

  size: the learner's observation size.
  observe: `obs [..., env.observation_size] -> [..., size]`, pure and
    jittable.
  """
  size: int
  observe: Callable[[jax.Array], jax.Array]


def _identity(obs: jax.Array) -> jax.Array:
  return obs


def learner_view(env: Env) -> LearnerView:
  """The view the learner (the imitating policy) gets of `env`'s observation.

  Args:
    env: a brax-interface environment, wrapped or not.

  Returns:
    `LearnerView(size, observe)`: the environment's `learner_observation_size`
    and `learner_observation` if its base environment defines them, else the
    identity (`size = env.observation_size`).

  Raises:
    ValueError: if the base environment defines only one of the two members.
  """
  base = getattr(env, 'unwrapped', env)
  size = getattr(base, 'learner_observation_size', None)
  observe = getattr(base, 'learner_observation', None)
  if size is None and observe is None:
    return LearnerView(size=base.observation_size, observe=_identity)
  if size is None or observe is None:
    raise ValueError(
        f'{type(base).__name__} defines only one of learner_observation_size '
        'and learner_observation; a learner view needs both.')
  return LearnerView(size=int(size), observe=observe)


def is_identity(view: LearnerView) -> bool:
  """Whether `view` shows the whole observation (no view defined)."""
  return view.observe is _identity
