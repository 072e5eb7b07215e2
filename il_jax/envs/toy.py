"""What the toy environments share: pure JAX, one action in [-1, 1]."""

from brax.envs.base import Env


class ToyEnv(Env):
  """A toy MDP stepped in pure JAX, whose one action its step clips to
  [-1, 1]."""

  @property
  def action_size(self) -> int:
    return 1

  @property
  def action_bounds(self) -> tuple[float, float]:
    return (-1.0, 1.0)

  @property
  def backend(self) -> str:
    return 'jax'
