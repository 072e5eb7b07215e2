"""What makes an environment goal-reaching, and the checks that need one.

A goal-reaching environment (e.g. `reach`) writes its episode's goal into
the observation and declares:
  * `goal_slice`: a static `slice` of the observation holding the goal;
  * `achieved_goal(obs [..., obs_size]) -> [..., G]`: what an observation has
    achieved, in the goal's coordinates (for `reach`, the position);
  * `sample_play_goal(key) -> [G]`: a goal of its training region, at which
    a play behaviour policy may aim.
"""

from brax.envs.base import Env

GOAL_ATTRIBUTES = ('goal_slice', 'achieved_goal', 'sample_play_goal')


def has_goal(env: Env) -> bool:
  """Whether `env` (or the environment it wraps) declares a goal."""
  return all(hasattr(env, name) for name in GOAL_ATTRIBUTES)


def goal_size(env: Env) -> int:
  """G, the number of goal dimensions of `env`'s observation."""
  return len(range(env.observation_size)[env.goal_slice])


def check_goal_env(env: Env, what: str) -> None:
  """Raises ValueError, in one line, unless `env` declares a goal; `what`
  says what needs it, e.g. "relabel='future'"."""
  if not has_goal(env):
    raise ValueError(
        f'{what} needs a goal-reaching environment (one that declares '
        f'{", ".join(GOAL_ATTRIBUTES)}, e.g. reach); '
        f'{type(env).__name__} has no goal.')


def check_sees_goal(env: Env, observation_size: int) -> None:
  """Raises ValueError, in one line, if `env` has a goal and a policy over
  `observation_size` dimensions does not see all of its observation, the
  goal included.

  Every policy family conditions on the whole observation it is given, so a
  policy built for the environment's `observation_size` is goal-conditioned;
  one built for fewer dimensions (the state without the goal) is not.
  """
  if has_goal(env) and observation_size != env.observation_size:
    goal = env.goal_slice
    raise ValueError(
        f'The policy sees {observation_size} observation dimensions, but '
        f'{type(env).__name__} is goal-reaching: its observation has '
        f'{env.observation_size}, with the goal in [{goal.start}:'
        f'{goal.stop}]; a goal-conditioned policy is built for the whole '
        'observation.')
