"""Expert demonstrations rolled out on the device (`il_jax.data.Demonstrations`
says what they are and reads and writes their files).

`collect_demonstrations` is `rollout.collect` with the expert always in
control (beta = 1), or with a noisy behaviour policy in control and the
deterministic expert labelling every step (noise injection as in DART), so
demonstrations and DAgger's aggregated data come from the same primitive.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from brax.envs.base import Env

from il_jax import data
from il_jax.data.demonstrations import Demonstrations, flatten
from il_jax import envs
from il_jax import rollout
from il_jax.types import Action, Observation, PRNGKey


def collect_demonstrations(
    expert: Callable[[Observation], Action],
    env: Env,
    key: PRNGKey,
    num_envs: int,
    num_steps: int,
    behaviour: Callable[[Observation, PRNGKey], Action] | None = None,
    episode_length: int | None = None) -> Demonstrations:
  """Rolls `expert` out in `num_envs` copies of `env` for `num_steps` steps.

  Everything runs in one jitted `lax.scan`; the result stays on the device.

  Args:
    expert: deterministic `obs [B, obs_size] -> action [B, A]`, e.g.
      `il_jax.experts.load(name)`; it labels every step.
    env: an unbatched environment from `il_jax.envs.make`; it is wrapped here
      (episode limit, vmap over `num_envs`, auto-reset).
    key: PRNG key (initial states and behaviour noise).
    num_envs: parallel environments B.
    num_steps: steps per environment T.
    behaviour: None to execute the expert's actions, or a stochastic
      `(obs [B, obs_size], key) -> action [B, A]` that chooses the executed
      actions instead (e.g. `il_jax.experts.load_stochastic(name)`).
    episode_length: time limit; None for the environment's
      `default_episode_length` (1000 if it has none).

  Returns:
    `Demonstrations` with leading dimensions `[num_steps, num_envs]`.
  """
  for name, value in (('num_envs', num_envs), ('num_steps', num_steps)):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
      raise ValueError(f'{name}={value!r} is not valid; expected a positive '
                       'integer.')
  if episode_length is None:
    episode_length = getattr(env, 'default_episode_length', 1000)
  wrapped = envs.wrap(env, episode_length=episode_length)
  if behaviour is None:
    # beta = 1: the learner's action is never executed, so it is a constant.
    beta = 1.0
    action_size = env.action_size

    def learner(obs, key):
      del key
      return jnp.zeros(obs.shape[:-1] + (action_size,), obs.dtype)
  else:
    beta, learner = 0.0, behaviour

  @jax.jit
  def run(key):
    transitions = rollout.collect(wrapped, learner, expert, jnp.float32(beta),
                                  key, num_envs, num_steps)
    return Demonstrations(
        obs=transitions.obs, action=transitions.action,
        expert_action=transitions.expert_action, reward=transitions.reward,
        done=transitions.done)

  return run(key)


def to_dataset(demos: Demonstrations, capacity: int | None = None,
               label: str = 'expert_action') -> data.Dataset:
  """An on-device `il_jax.data.Dataset` holding every step as one row.

  Args:
    demos: demonstrations `[T, B, ...]`.
    capacity: rows of the dataset (>= T * B); None for exactly T * B.
    label: the field used as the action label: 'expert_action' (the clean
      expert action) or 'action' (what was executed).
  """
  if label not in ('expert_action', 'action'):
    raise ValueError(f"label={label!r} is not valid; expected 'expert_action' "
                     "or 'action'.")
  rows = flatten(demos)
  n = rows.obs.shape[0]
  capacity = n if capacity is None else capacity
  if capacity < n:
    raise ValueError(f'capacity={capacity} is too small for the {n} steps of '
                     'the demonstrations.')
  dataset = data.create(capacity, rows.obs.shape[-1], rows.action.shape[-1])
  return data.add(dataset, rows.obs, getattr(rows, label))
