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


# The loop with a history policy: the dataset's windows, the refusals and
# learning, on tightrope (seconds on a CPU).

import chex
import jax

from il_jax import envs, experts, policies
from il_jax.algorithms import bc, core, dagger, gail, gcbc, hg_dagger
from il_jax.config import ImitationConfig
from il_jax.data import windows as data_windows
from il_jax.envs.tightrope import Tightrope

_SMALL = dict(n_iter=3, train_steps_per_iter=300, episode_length=200,
              eval_episodes=4, num_envs=4, expert_steps_per_env=200,
              steps_per_iter=4 * 200, train_batch_size=64)


class _PositionOnlyTightrope(Tightrope):
  """Tightrope whose learner sees `[x, sway]` only (its velocity hidden),
  like walker2d's observe='positions'."""

  learner_observation_size = 2

  def learner_observation(self, obs):
    return obs[..., jnp.array([0, 2])]


def test_links_point_to_the_previous_step_of_the_same_episode():
  done = jnp.array([[False, False], [True, False], [False, True],
                    [False, False]])
  prev = data_windows.links(done, 10)
  # Rows: step (t, b) -> 10 + 2 t + b; env 0's episode restarts at t = 2,
  # env 1's at t = 3.
  np.testing.assert_array_equal(
      prev, [[10, 11], [10, 11], [14, 13], [14, 17]])


@pytest.mark.parametrize('history_length', [1, 3])
def test_training_windows_equal_the_acting_windows(history_length):
  """Steps added by `core.add_steps` (twice, to check the row offset)
  rebuild, from their links, exactly the windows the learner acted on,
  across episode ends, in the learner's view."""
  env = envs.wrap(_PositionOnlyTightrope(), episode_length=30)
  seen = rollout.LearnerInput(history_length=history_length, view_size=2,
                              observe=env.unwrapped.learner_observation)
  # A weak random policy: episodes end (falls) within the rollout.
  inner = rollout.Actor(
      act=lambda state, obs, done, key: (
          jax.random.uniform(key, (obs.full.shape[0], 1), minval=-1.),
          state, obs.learner),
      init=lambda batch_size: ())
  ctx = core.CollectContext(env=env, policy=None, expert=None, config=None,
                            demonstration_rows=0, learner_input=seen)
  dataset = core.empty_dataset(ctx, 2 * 40 * 3)
  acted = []
  for seed in range(2):
    steps, = rollout.run(env, [rollout.part(
        seen.actor(inner), jax.random.PRNGKey(seed), 3, 40)])
    assert steps.done.any()
    acted.append(steps.record.reshape(
        (-1,) + ((history_length,) if history_length > 1 else ()) + (2,)))
    dataset = core.add_steps(ctx, dataset, steps.obs, steps.action,
                             steps.done, steps.done)
  acted = jnp.concatenate(acted)
  if history_length == 1:
    assert 'prev' not in dataset.extras
    np.testing.assert_array_equal(dataset.obs, acted)
  else:
    rebuilt = data_windows.rebuild(dataset.obs, dataset.extras['prev'],
                                   jnp.arange(dataset.size), history_length)
    np.testing.assert_array_equal(rebuilt, acted)


def test_plain_learner_input_leaves_the_actor_unchanged():
  actor = rollout.stochastic(lambda obs, key: obs)
  assert rollout.LearnerInput(view_size=3).actor(actor) is actor


def _tightrope(**options):
  env = envs.make('tightrope', **options)
  return env, experts.resolve(None, 'tightrope', **options)


def test_dagger_trains_a_gru_on_tightrope_and_traces_once():
  """The iteration of a history policy is one program (traced once over
  iterations) and DAgger's relabelled windows teach it the expert's
  balance; its training loss falls."""
  env, expert = _tightrope()
  policy = policies.make('gru', env.observation_size, env.action_size,
                         history_length=3, size=32)
  config = dagger.ALGORITHM.config(ImitationConfig(**_SMALL))
  fns = dagger.make_train_fns(config, env, policy, expert)
  iteration = jax.jit(chex.assert_max_traces(fns.iteration, n=1))
  state = fns.init(jax.random.PRNGKey(0))
  assert state.dataset.extras['prev'].shape == (state.dataset.capacity,)
  returns, losses = [], []
  for i in range(config.n_iter):
    state, metrics = iteration(state, jnp.asarray(i, jnp.int32))
    returns.append(float(metrics['Eval_AverageReturn']))
    losses.append(float(metrics['Training_Loss']))
  assert returns[-1] > 150.0, returns  # The expert makes ~199.
  assert state.dataset.size == 4 * 200 + 2 * 4 * 200


def test_bc_trains_a_transformer_on_a_learner_view():
  """On a view without the velocity, the learner's dataset holds the view;
  the expert still labels from the full observation."""
  env = _PositionOnlyTightrope()
  expert = experts.resolve(None, 'tightrope')
  policy = policies.make('transformer', 2, env.action_size,
                         history_length=3, size=16, num_heads=2)
  config = ImitationConfig(**{**_SMALL, 'n_iter': 2})
  state, metrics = jax.jit(bc.make_train(config, env, policy, expert))(
      jax.random.PRNGKey(0))
  assert state.dataset.obs.shape[-1] == 2
  full = Tightrope()
  np.testing.assert_array_less(metrics['Training_Loss'][-1],
                               metrics['Training_Loss'][0] + 1e-9)
  with pytest.raises(ValueError, match='the learner sees 2 of its 3'):
    bc.make_train_fns(config, env, policies.make(
        'mlp', full.observation_size, env.action_size), expert)


@pytest.mark.parametrize('algo,config', [
    (hg_dagger, hg_dagger.HGDAggerConfig(gate='safety')),
    (gcbc, None),
])
def test_markov_algorithms_refuse_a_history_policy(algo, config):
  env, expert = ((envs.make('reach'), experts.resolve(None, 'reach'))
                 if algo is gcbc else _tightrope())
  policy = policies.make('gru', env.observation_size, env.action_size,
                         history_length=2)
  with pytest.raises(ValueError, match='cannot train a history policy'):
    algo.make_train_fns(config, env, policy, expert)


def test_markov_algorithms_refuse_a_learner_view():
  env, expert = _PositionOnlyTightrope(), experts.resolve(None, 'tightrope')
  policy = policies.make('mlp', 2, env.action_size)
  with pytest.raises(ValueError, match='learner view'):
    hg_dagger.make_train_fns(hg_dagger.HGDAggerConfig(gate='safety'), env,
                             policy, expert)
  with pytest.raises(ValueError, match='learner view'):
    gail.make_train_fns(None, env, None, expert)


def test_an_ensemble_of_history_policies_is_refused():
  with pytest.raises(ValueError, match='ensemble of history policies'):
    policies.make('ensemble', 3, 1, member='gru',
                  member_options=(('history_length', 2),))


def test_history_settings_get_clear_errors_before_compiling():
  from il_jax import experiment, settings
  with pytest.raises(ValueError, match='history_length'):
    settings.run_config({'policy': 'gru', 'history_length': 0})
  with pytest.raises(ValueError, match='option of policy family gru/'
                     'transformer'):
    settings.run_config({'policy': 'mlp', 'history_length': 3})
  config = settings.run_config({'algo': 'hg_dagger', 'env': 'tightrope',
                                'policy': 'transformer',
                                'history_length': 2})
  with pytest.raises(ValueError, match='hg_dagger cannot train a history'):
    experiment.build(config)
  config = settings.run_config({'algo': 'dagger', 'env': 'tightrope',
                                'policy': 'gru', 'history_length': 2})
  assert experiment.build(config)[1].history_length == 2
