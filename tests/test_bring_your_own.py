"""A user's own demonstrations and expert: files in and out, BC from data
alone, DAgger from given data, experts named on the command line, and the
action contract."""

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments.walker2d_bc_vs_dagger
from il_jax import data, envs, evaluation, experiment, numpy_policy, policies
from il_jax.algorithms import bc, dagger, hg_dagger
from il_jax.config import CS285_WALKER2D, ImitationConfig
from il_jax.experts import collect_demonstrations, registry
from launch_scripts import REPO, run_module

SMALL = ImitationConfig(n_iter=2, num_envs=2, expert_steps_per_env=30,
                        steps_per_iter=40, train_steps_per_iter=20,
                        train_batch_size=16, eval_episodes=2,
                        episode_length=30)
KEY = jax.random.PRNGKey(3)


def _never_called(obs):
  raise AssertionError('the expert was called')


@pytest.fixture(scope='module')
def tightrope():
  env = envs.make('tightrope')
  policy = policies.make('mlp', env.observation_size, env.action_size)
  return env, policy, registry.load('tightrope')


@pytest.fixture(scope='module')
def demos(tightrope):
  """What `make_train` with `KEY` would have its expert demonstrate."""
  env, _, expert = tightrope
  demo_key = jax.random.split(KEY, 3)[0]
  return collect_demonstrations(expert, env, demo_key, SMALL.num_envs,
                                SMALL.expert_steps_per_env,
                                episode_length=SMALL.episode_length)


def _train(algo, tightrope, config=SMALL, **kwargs):
  env, policy, _ = tightrope
  return jax.jit(algo.make_train(config, env, policy, **kwargs))(KEY)


def _assert_same_metrics(got, want):
  assert got.keys() == want.keys()
  for name in want:
    np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6,
                               err_msg=name)


def test_npz_and_cs285_pickle_round_trips(demos, tmp_path):
  npz = str(tmp_path / 'demos.npz')
  data.save_demonstrations(demos, npz)
  loaded = data.load_demonstrations(npz)
  for name in data.demonstrations.FIELDS:
    np.testing.assert_array_equal(getattr(loaded, name), getattr(demos, name))

  pkl = str(tmp_path / 'demos.pkl')
  data.save_demonstrations(demos, pkl)
  with open(pkl, 'rb') as f:
    trajectories = pickle.load(f)
  # 2 streams of 30 steps with episodes of 30: one whole episode each.
  assert [len(t['reward']) for t in trajectories] == [30, 30]
  assert set(trajectories[0]) == {'observation', 'action', 'reward',
                                  'terminal'}
  assert trajectories[1]['terminal'][-1] == 1.0
  back = data.load_demonstrations(pkl)
  assert back.obs.shape == (60, 1, 3)
  np.testing.assert_array_equal(back.obs[:30, 0], np.asarray(demos.obs)[:, 0])
  np.testing.assert_array_equal(back.reward[30:, 0],
                                np.asarray(demos.reward)[:, 1])
  np.testing.assert_array_equal(np.flatnonzero(back.done[:, 0]), [29, 59])


def test_cs285_trajectories_of_any_lengths_end_an_episode_each():
  trajectories = [
      {'observation': np.ones((n, 3)), 'action': np.zeros((n, 1)),
       'reward': np.full(n, 2.0), 'terminal': np.zeros(n)}
      for n in (5, 3)]
  demos = data.demonstrations.trajectories_to_demonstrations(trajectories)
  stats = data.demonstrations.episode_stats(demos)
  summary = envs.summarize_episodes(stats)
  assert int(summary['num_episodes']) == 2
  assert float(summary['return_mean']) == 8.0  # (10 + 6) / 2
  assert float(summary['length_mean']) == 4.0


def test_bad_demonstration_files_are_refused_naming_them(tmp_path):
  with open(tmp_path / 'no_reward.pkl', 'wb') as f:
    pickle.dump([{'observation': np.ones((2, 3)), 'action': np.ones((2, 1)),
                  'terminal': np.zeros(2)}], f)
  with pytest.raises(ValueError, match=r"no_reward.pkl: trajectory 0 lacks "
                     r"\['reward'\]"):
    data.load_demonstrations(str(tmp_path / 'no_reward.pkl'))
  (tmp_path / 'demos.hdf5').write_bytes(b'')
  with pytest.raises(ValueError, match='unknown demonstrations format.*'
                     'Minari'):
    data.load_demonstrations(str(tmp_path / 'demos.hdf5'))
  with pytest.raises(FileNotFoundError, match='none.npz does not exist'):
    data.load_demonstrations(str(tmp_path / 'none.npz'))


def test_bc_from_given_demonstrations_equals_bc_from_the_expert(
    tightrope, demos):
  _, want = _train(bc, tightrope, expert=tightrope[2])
  # The expert is never called: not for data, not for anything else.
  _, got = _train(bc, tightrope, expert=_never_called, demonstrations=demos)
  _assert_same_metrics(got, want)
  _, alone = _train(bc, tightrope, demonstrations=demos)
  _assert_same_metrics(alone, want)


@pytest.mark.parametrize('algo', [dagger, hg_dagger],
                         ids=['dagger', 'hg_dagger'])
def test_interactive_algorithms_start_from_the_given_demonstrations(
    algo, tightrope, demos):
  state, want = _train(algo, tightrope, expert=tightrope[2])
  given, got = _train(algo, tightrope, expert=tightrope[2],
                      demonstrations=demos)
  _assert_same_metrics(got, want)
  np.testing.assert_allclose(given.dataset.obs, state.dataset.obs, rtol=1e-6)
  # Half the demonstrations: the dataset starts smaller by as many rows.
  half = jax.tree.map(lambda x: x[:, :1], demos)
  _, fewer = _train(algo, tightrope, expert=tightrope[2],
                    demonstrations=half)
  np.testing.assert_array_equal(np.asarray(fewer['Dataset_Size'])[0], 30)
  if algo is dagger:  # which collects as many rows whatever it starts from
    np.testing.assert_array_equal(fewer['Dataset_Size'],
                                  np.asarray(want['Dataset_Size']) - 30)


def test_what_cannot_run_is_refused_in_one_line(tightrope, demos):
  env, policy, expert = tightrope
  with pytest.raises(ValueError, match='dagger needs an expert: it labels'):
    dagger.make_train(SMALL, env, policy, demonstrations=demos)
  with pytest.raises(ValueError, match='bc needs an expert: it has no '
                     'demonstrations'):
    bc.make_train(SMALL, env, policy)
  wrong = demos._replace(obs=demos.obs[..., :2])
  with pytest.raises(ValueError, match=r'demonstrations.obs has shape '
                     r'\(30, 2, 2\); the environment \(obs 3, action 1\) '
                     r'needs \(30, 2, 3\)'):
    bc.make_train(SMALL, env, policy, expert, demonstrations=wrong)


def _amplified(obs):
  """Tightrope's expert, scaled past the action bounds."""
  return 10.0 * envs.make('tightrope').expert_action(obs)


def test_out_of_bounds_labels_are_clipped_and_counted(tightrope):
  state, metrics = _train(dagger, tightrope, expert=_amplified)
  labels = np.asarray(state.dataset.action[:int(state.dataset.size)])
  assert np.abs(labels).max() == 1.0
  # Iteration 0 trains on the demonstrations, iteration 1 on them and the
  # first collection: each counts the labels it clipped.
  outside = np.asarray(metrics['Labels_OutOfBounds'])
  assert np.all(outside > 0)
  _, in_bounds = _train(dagger, tightrope, expert=tightrope[2])
  np.testing.assert_array_equal(in_bounds['Labels_OutOfBounds'], [0, 0])
  kept, _ = _train(dagger, tightrope,
                   config=dataclasses.replace(SMALL,
                                              out_of_bounds_labels='error'),
                   expert=_amplified)
  assert np.abs(np.asarray(kept.dataset.action)).max() > 1.0


def test_evaluation_reports_actions_at_the_bounds(tightrope):
  env = tightrope[0]
  wrapped = envs.wrap(env, episode_length=10)
  saturated = evaluation.evaluate(lambda obs: jnp.full(obs.shape[:-1] + (1,),
                                                       3.0),
                                  wrapped, KEY, 2, 10)
  assert float(saturated['action_at_bounds']) == 1.0
  centred = evaluation.evaluate(lambda obs: jnp.zeros(obs.shape[:-1] + (1,)),
                                wrapped, KEY, 2, 10)
  assert float(centred['action_at_bounds']) == 0.0
  assert 'Eval_ActionAtBounds' in evaluation.eval_metrics(saturated)


def test_every_environment_declares_its_action_bounds():
  for name in ('tightrope', 'fork'):
    low, high = envs.action_bounds(envs.make(name))
    np.testing.assert_array_equal(low, [-1.0])
    np.testing.assert_array_equal(high, [1.0])


def _write_policy_file(prefix, rng):
  kernels = [rng.standard_normal((3, 8)), rng.standard_normal((8, 1))]
  arrays = {'layer_0_kernel': kernels[0], 'layer_0_bias': np.zeros(8),
            'layer_1_kernel': kernels[1], 'layer_1_bias': np.full(1, 0.1),
            'obs_mean': np.full(3, 0.5), 'obs_std': np.full(3, 2.0)}
  np.savez(prefix + '.npz', **arrays)
  with open(prefix + '.json', 'w') as f:
    json.dump({'format': numpy_policy.FORMAT,
               'format_version': numpy_policy.FORMAT_VERSION,
               'observation_size': 3, 'action_size': 1, 'hidden_sizes': [8],
               'activation': 'swish', 'output_transform': 'tanh',
               'normalizer': {'mean': 'obs_mean', 'std': 'obs_std'},
               'env': None, 'metadata': {}}, f)


def test_an_exported_policy_file_is_an_expert(tmp_path):
  prefix = str(tmp_path / 'policy')
  _write_policy_file(prefix, np.random.default_rng(0))
  expert = registry.resolve(prefix + '.npz', 'tightrope')
  obs = np.random.default_rng(1).standard_normal((16, 3))
  want = numpy_policy.load_numpy_policy(prefix)(obs)
  np.testing.assert_allclose(jax.jit(expert)(obs), want, rtol=1e-5,
                             atol=1e-6)
  np.savez(str(tmp_path / 'alone.npz'), x=np.zeros(1))
  with pytest.raises(ValueError, match='alone.json does not exist'):
    registry.check_source(str(tmp_path / 'alone.npz'))


def test_a_function_is_an_expert_and_a_bad_one_is_named(monkeypatch,
                                                        tmp_path):
  (tmp_path / 'my_experts.py').write_text(textwrap.dedent('''
      import jax.numpy as jnp
      def push(obs):
        return jnp.ones(obs.shape[:-1] + (1,))
      def wide(obs):
        return jnp.ones(obs.shape[:-1] + (4,))
      '''))
  monkeypatch.syspath_prepend(str(tmp_path))
  expert = registry.resolve('my_experts:push', 'tightrope')
  np.testing.assert_array_equal(expert(np.zeros((2, 3))), np.ones((2, 1)))
  with pytest.raises(ValueError, match="my_experts has no function 'pull'"):
    registry.resolve('my_experts:pull', 'tightrope')
  with pytest.raises(ValueError, match="cannot import 'no_such_module'"):
    experiment.RunConfig(env='tightrope', expert='no_such_module:push')
  config = experiment.RunConfig(algo='dagger', env='tightrope',
                                expert='my_experts:wide', imitation=SMALL)
  with pytest.raises(ValueError, match=r"expert='my_experts:wide' maps an "
                     r'observation \[3\] to \(4,\); the environment needs '
                     r'actions \[1\]'):
    experiment.build(config)


def test_the_command_line_takes_demonstrations_and_an_expert_function(
    demos, tmp_path):
  path = str(tmp_path / 'demos.pkl')
  data.save_demonstrations(demos, path)
  (tmp_path / 'user_expert.py').write_text(textwrap.dedent('''
      from il_jax import envs
      def label(obs):
        return envs.make('tightrope').expert_action(obs)
      '''))
  tiny = ('--env=tightrope', '--n_iter=2', '--num_envs=2',
          '--steps_per_iter=40', '--train_steps_per_iter=5',
          '--eval_episodes=2', '--episode_length=30')
  env = {**os.environ, 'PYTHONPATH': os.pathsep.join(
      [str(tmp_path)] + sys.path)}
  result = run_module('launch.train', *tiny, '--algo=dagger',
                      '--expert=user_expert:label',
                      f'--demonstrations={path}',
                      f'--workdir={tmp_path / "run"}', env=env)
  assert result.returncode == 0, result.stderr
  rows = [json.loads(line) for line in
          open(tmp_path / 'run' / 'metrics.jsonl')]
  # The dataset starts with the file's 60 rows, then grows by 40.
  assert [r['Dataset_Size'] for r in rows] == [60, 100]

  # The file is part of the run: a changed one is not resumed.
  data.save_demonstrations(demos._replace(reward=demos.reward + 1.0), path)
  resumed = run_module('launch.train', *tiny, '--algo=dagger',
                       '--expert=user_expert:label',
                       f'--demonstrations={path}',
                       f'--workdir={tmp_path / "run"}', '--resume', env=env)
  assert resumed.returncode == 2
  assert 'was started with other demonstrations' in resumed.stderr


def test_error_policy_refuses_out_of_bounds_demonstrations(demos, tmp_path):
  path = str(tmp_path / 'wide.npz')
  data.save_demonstrations(demos._replace(
      expert_action=10.0 * demos.expert_action), path)
  config = experiment.RunConfig(
      algo='bc', env='tightrope', demonstrations=path,
      imitation=dataclasses.replace(SMALL, out_of_bounds_labels='error'))
  with pytest.raises(ValueError, match=r'wide.npz: \d+ of 60 labels are '
                     r'outside the action bounds \[-1, 1\]'):
    experiment.build(config)


def test_the_cs285_protocol_is_one_importable_config():
  assert experiments.walker2d_bc_vs_dagger.IMITATION is CS285_WALKER2D
  assert (CS285_WALKER2D.num_envs, CS285_WALKER2D.expert_steps_per_env,
          CS285_WALKER2D.steps_per_iter) == (1, 2000, 1000)


def test_the_readme_example_runs_and_dagger_beats_bc(tmp_path):
  with open(os.path.join(REPO, 'README.md')) as f:
    section = f.read().split('## Bring your own expert and data', 1)[1]
  code = section.split('```python\n', 1)[1].split('```', 1)[0]
  result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600,
                          check=False)
  assert result.returncode == 0, result.stderr
  bc_return, dagger_return = map(float, result.stdout.split())
  # Tightrope's episodes are worth at most 200: BC falls mid-span, DAgger
  # stays up.
  assert bc_return < 100 < 190 < dagger_return
