"""`load(name)`: experts as pure, jittable `expert_fn(obs) -> action`."""

from il_jax import envs
from il_jax.types import Action, Observation

# Environments whose class carries an analytic `expert_action(obs)`.
_ANALYTIC = ('fork', 'tightrope')


def registered_names() -> tuple[str, ...]:
  """Names `load` accepts."""
  return _ANALYTIC


def load(name: str, **env_options):
  """The expert for environment `name`, as `expert_fn(obs [..., obs_size])
  -> action [..., action_size]`: pure, jittable and deterministic.

  Args:
    name: an environment name (see `registered_names()`).
    **env_options: the options the environment was made with; an analytic
      expert is built for exactly that environment.

  Raises:
    ValueError: if no expert exists for `name`.
  """
  if name in _ANALYTIC:
    env = envs.make(name, **env_options)

    def expert_fn(obs: Observation) -> Action:
      return env.expert_action(obs)

    return expert_fn
  if name in envs.registered_names():
    raise ValueError(
        f'No expert is shipped for environment {name!r} yet; experts exist '
        f'for: {", ".join(registered_names())}. Train one with '
        '`python -m launch.train_expert`.')
  raise ValueError(f'Unknown expert {name!r}; experts exist for: '
                   f'{", ".join(registered_names())}.')
