"""History-conditioned acting: the window resets with the episode."""

import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import rollout


def test_windowed_window_resets_at_episode_boundaries():
  """First-obs padding at the first step and after `done`, shift elsewhere."""
  actor = rollout.windowed(lambda window, key: window[:, -1], 3, 1)
  state = actor.init(2)
  obs_seq = [1., 2., 3., 4., 5.]
  done_seq = [[False, False], [False, False], [False, True], [False, False],
              [False, False]]
  windows = []
  for o, d in zip(obs_seq, done_seq):
    obs = jnp.array([[o], [10 * o]])
    action, state, window = actor.act(state, obs, jnp.array(d), None)
    np.testing.assert_array_equal(action, obs)
    windows.append(np.asarray(window[..., 0]))
  np.testing.assert_array_equal(
      [w[0] for w in windows],
      [[1, 1, 1], [1, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
  # Env 1 starts a new episode at step 3 (done at step 2).
  np.testing.assert_array_equal(
      [w[1] for w in windows],
      [[10, 10, 10], [10, 10, 20], [30, 30, 30], [30, 30, 40], [30, 40, 50]])


def test_windowed_with_history_one_is_the_markov_actor():
  actor = rollout.windowed(lambda obs, key: obs, 1, 4)
  assert actor.init(3) == ()


@pytest.mark.parametrize('k', [0, -1, 2.0])
def test_windowed_refuses_bad_history_length(k):
  with pytest.raises(ValueError, match='history_length'):
    rollout.windowed(lambda obs, key: obs, k, 4)


def test_rebuilt_windows_equal_the_acting_windows():
  """Rows stored with predecessor links rebuild the windows the actor saw."""
  from il_jax.data import windows
  actor = rollout.windowed(lambda window, key: window[:, -1], 3, 1)
  state = actor.init(2)
  done_seq = [False, False, True, False, True, True, False]
  obs_rows, prev_rows, seen = [], [], []
  for t, d in enumerate(done_seq):
    obs = jnp.array([[t + 1.], [100. + t]])
    done = jnp.array([d, False])
    _, state, window = actor.act(state, obs, done, None)
    for b in range(2):
      row = len(obs_rows)
      start = t == 0 or bool(done[b])
      prev_rows.append(row if start else row - 2)  # Rows interleave the envs.
      obs_rows.append(obs[b])
      seen.append(window[b])
  rebuilt = windows.rebuild(jnp.stack(obs_rows), jnp.array(prev_rows),
                            jnp.arange(len(obs_rows)), 3)
  np.testing.assert_array_equal(rebuilt, jnp.stack(seen))
