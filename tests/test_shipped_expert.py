"""The shipped Walker2d experts load on the CPU and walk.

Over a short horizon on the `fast` preset each must keep every walker
upright and carry it forward, where uniformly random and zero actions fall
or stand still. All policies run in one compiled rollout (the policy is
selected by a traced index), so Walker2d compiles once.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import envs, experts

_HORIZON = 150  # 1.2 s of simulated time
_NUM_ENVS = 4
# The default expert and every other shipped one.
_EXPERTS = ('walker2d', 'walker2d_sac_900k')


@pytest.fixture(scope='module')
def outcomes():
  missing = set(_EXPERTS) - set(experts.shipped_names())
  if missing:
    pytest.fail(f'Walker2d experts {sorted(missing)} do not ship in '
                'il_jax/experts/assets/.')
  fns = [experts.load(name) for name in _EXPERTS]
  env = envs.wrap(envs.make('walker2d', solver='fast'),
                  episode_length=_HORIZON, auto_reset=False)

  def act(which, obs, key):
    random = jax.random.uniform(key, obs.shape[:-1] + (6,), minval=-1.0,
                                maxval=1.0)
    return jnp.select([which == i for i in range(len(fns) + 1)],
                      [fn(obs) for fn in fns] + [random],
                      jnp.zeros_like(random))

  @jax.jit
  def run(which, key):
    state = env.reset(jax.random.split(key, _NUM_ENVS))

    def step(carry, step_key):
      state, alive, forward = carry
      state = env.step(state, act(which, state.obs, step_key))
      # Distance walked while upright: x velocity times the step time (8 ms).
      forward = forward + alive * state.metrics['x_velocity'] * 0.008
      # `done` includes the time limit at the last step; only falls count.
      fell = state.done * (1.0 - state.info['truncation'])
      alive = alive * (1.0 - fell)
      return (state, alive, forward), None

    init = (state, jnp.ones(_NUM_ENVS), jnp.zeros(_NUM_ENVS))
    (_, alive, forward), _ = jax.lax.scan(
        step, init, jax.random.split(key, _HORIZON))
    return alive, forward

  key = jax.random.PRNGKey(0)
  return {name: jax.device_get(run(i, key))
          for i, name in enumerate(_EXPERTS + ('random', 'zero'))}


def test_every_shipped_walker2d_expert_is_tested():
  assert experts.shipped_names('walker2d') == tuple(sorted(_EXPERTS))


@pytest.mark.parametrize('name', _EXPERTS)
def test_expert_stays_upright_and_walks_forward(outcomes, name):
  alive, forward = outcomes[name]
  np.testing.assert_array_equal(alive, 1.0)
  assert np.min(forward) > 1.0, forward


@pytest.mark.parametrize('name', _EXPERTS)
def test_expert_is_far_better_than_random_or_zero_actions(outcomes, name):
  expert_forward = np.mean(outcomes[name][1])
  for baseline in ('random', 'zero'):
    _, forward = outcomes[baseline]
    assert np.mean(forward) < 0.3 * expert_forward, (baseline, forward)
