"""PPO expert training: GAE, normaliser, learning, exported policy, launcher."""

import dataclasses
import json
import math
import os
import shutil
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import experts
from absl import app
from absl import flags
from absl.testing import flagsaver

from il_jax import envs
from il_jax import evaluation
from il_jax import numpy_policy
from il_jax.experts import ppo
from il_jax.experts import ppo_networks
from il_jax.experts import ppo_run
from launch import config_flags

_TOY_ENV = 'tightrope'
# A gentler rope than the default (whose mid-span instability needs far more
# PPO steps than a unit test can afford): PPO must learn to balance an
# unstable system from scratch within ~80k steps.
_TOY_ENV_OPTIONS = {'sway_instability': 1.0}

# Small enough to compile and train in seconds on a 2-core CPU.
_TOY_CONFIG = ppo.PPOConfig(
    total_env_steps=64 * 16 * 80,
    num_envs=64,
    unroll_length=16,
    num_minibatches=4,
    update_epochs=4,
    learning_rate=3e-3,
    policy_hidden_sizes=(32, 32),
    value_hidden_sizes=(32, 32),
    num_eval_envs=32)


def _gae_reference(rewards, values, next_values, terminations, dones,
                   discount, lam):
  """GAE as the explicit forward sum of discounted TD errors per episode."""
  rewards, values, next_values = map(np.asarray, (rewards, values, next_values))
  deltas = rewards + discount * (1 - terminations) * next_values - values
  advantages = np.zeros_like(deltas)
  for t in range(deltas.shape[0]):
    for b in range(deltas.shape[1]):
      weight = 1.0
      for u in range(t, deltas.shape[0]):
        advantages[t, b] += weight * deltas[u, b]
        if dones[u, b]:
          break
        weight *= discount * lam
  return advantages


# rewards, values, next values, terminations, dones `[T=3, B=2]`: column 0's
# episode is truncated after step 1, reaching a state of value 4.0; column 1's
# terminates there instead.
_HAND_ROLLOUT = tuple(jnp.array(x) for x in (
    [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]],
    [[0.5, 0.5], [1.0, 1.0], [1.5, 1.5]],
    [[1.0, 1.0], [4.0, 4.0], [2.0, 2.0]],
    [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
    [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]))


def test_gae_by_hand_with_truncation_and_termination():
  # Column 0: the episode is truncated after step 1 and bootstraps from the
  # value of the observation it reached (4.0). Column 1: the same episode
  # terminates there instead, so that value must be ignored.
  rewards, values, next_values, terminations, dones = _HAND_ROLLOUT
  advantages, targets = ppo.compute_gae(rewards, values, next_values,
                                        terminations, dones, 0.9, 0.8)
  # delta = (1.4, 4.6, 3.3) truncated, (1.4, 1.0, 3.3) terminated;
  # A_0 = delta_0 + 0.72 * A_1; nothing flows from step 2 into step 1.
  np.testing.assert_allclose(
      advantages, [[4.712, 2.12], [4.6, 1.0], [3.3, 3.3]], rtol=1e-6)
  np.testing.assert_allclose(targets, advantages + values, rtol=1e-6)


def test_gae_matches_reference_on_random_rollout():
  rng = np.random.default_rng(0)
  shape = (12, 5)
  rewards, values, next_values = rng.normal(size=(3,) + shape)
  ended = rng.random(shape) < 0.25
  truncated = ended & (rng.random(shape) < 0.5)
  terminations = (ended & ~truncated).astype(np.float32)
  dones = ended.astype(np.float32)
  advantages, targets = jax.jit(ppo.compute_gae, static_argnums=(5, 6))(
      jnp.asarray(rewards, jnp.float32), jnp.asarray(values, jnp.float32),
      jnp.asarray(next_values, jnp.float32), terminations, dones, 0.97, 0.95)
  expected = _gae_reference(rewards, values, next_values, terminations, dones,
                            0.97, 0.95)
  np.testing.assert_allclose(advantages, expected, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(targets, expected + values, rtol=1e-5, atol=1e-5)


def test_running_stats_match_numpy_over_streamed_batches():
  rng = np.random.default_rng(1)
  # Far-from-zero means and very different scales stress the merge.
  loc = np.array([1000.0, -3.0, 0.0])
  scale = np.array([5.0, 0.01, 100.0])
  batches = [loc + scale * rng.normal(size=(n, 3)) for n in (1, 7, 100, 3)]
  batches.append(loc + scale * rng.normal(size=(4, 6, 3)))  # [T, B, obs]
  stats = ppo_networks.init_running_stats(3)
  identity = ppo_networks.normalize(stats, jnp.asarray(batches[0]))
  np.testing.assert_allclose(identity, batches[0], rtol=1e-6)
  update = jax.jit(ppo_networks.update_running_stats)
  for batch in batches:
    stats = update(stats, jnp.asarray(batch, jnp.float32))
  everything = np.concatenate([b.reshape(-1, 3) for b in batches])
  assert float(stats.count) == len(everything)
  np.testing.assert_allclose(stats.mean, everything.mean(0), rtol=1e-5)
  np.testing.assert_allclose(stats.var, everything.var(0), rtol=1e-3)
  normalized = ppo_networks.normalize(stats, jnp.asarray(everything))
  np.testing.assert_allclose(np.mean(normalized, 0), 0.0, atol=1e-3)
  np.testing.assert_allclose(np.std(normalized, 0), 1.0, rtol=1e-3)


@pytest.mark.parametrize('change, message', [
    (dict(num_minibatches=3), 'num_minibatches=3'),
    (dict(discount=1.5), 'discount=1.5'),
    (dict(total_env_steps=10), 'total_env_steps=10'),
    (dict(activation='sigmoidish'), 'sigmoidish'),
    (dict(policy_hidden_sizes=()), 'policy_hidden_sizes'),
    (dict(dual_clip=1.0), 'dual_clip=1.0'),
])
def test_config_names_bad_values(change, message):
  with pytest.raises(ValueError, match=message):
    ppo.PPOConfig(**{**vars(_TOY_CONFIG), **change})


@pytest.fixture(scope='module')
def toy_env():
  return envs.make(_TOY_ENV, **_TOY_ENV_OPTIONS)


@pytest.fixture(scope='module')
def trained(toy_env):
  """(ppo, initial state, trained state, metrics) of one small toy run."""
  trainer = ppo.make_ppo(_TOY_CONFIG, toy_env)
  key = jax.random.PRNGKey(0)
  train = jax.jit(ppo.make_train(_TOY_CONFIG, toy_env))
  state, metrics = train(key)
  initial = trainer.init(jax.random.split(key)[0])
  return trainer, initial, state, metrics


def _deterministic_return(act, env, episode_length):
  """Mean return of `act` over 32 episodes, by `il_jax.evaluation`."""
  return evaluation.evaluate_in(act, env, 32, seed=42,
                                episode_length=episode_length)['return_mean']


def _returns_before_after_expert(trainer, initial, state, env):
  """Deterministic returns of the initial and trained policies and of the
  environment's analytic expert."""
  length = trainer.config.episode_length
  before, after = (_deterministic_return(
      ppo_networks.make_policy_fn(trainer.policy_spec, ppo.export(s)), env,
      length) for s in (initial, state))
  expert = _deterministic_return(jax.vmap(env.expert_action), env, length)
  return before, after, expert


def test_training_improves_deterministic_return(trained, toy_env):
  trainer, initial, state, metrics = trained
  assert int(state.iteration) == _TOY_CONFIG.num_iterations
  assert int(state.env_steps) == (_TOY_CONFIG.num_iterations *
                                  _TOY_CONFIG.env_steps_per_iteration)
  for name in ('policy_loss', 'value_loss', 'entropy', 'approx_kl'):
    assert np.all(np.isfinite(metrics[name])), name
  assert int(metrics['Eval_NumEpisodes']) == _TOY_CONFIG.num_eval_envs

  before, after, expert = _returns_before_after_expert(trainer, initial,
                                                      state, toy_env)
  print(f'{_TOY_ENV}: deterministic return {before:.2f} -> {after:.2f} '
        f'(analytic expert {expert:.2f}; in training '
        f"{float(metrics['Eval_AverageReturn']):.2f})")
  # Clearly better: PPO closes at least half of the gap between the initial
  # policy and the environment's analytic expert.
  assert expert > before
  assert after > before + 0.5 * (expert - before), (before, after, expert)
  # PPO's own evaluation agrees with the independent one.
  np.testing.assert_allclose(metrics['Eval_AverageReturn'], after,
                             rtol=0.25, atol=0.1 * abs(expert - before))


def test_dual_clip_bounds_a_negative_advantage_with_a_runaway_ratio():
  ratio = jnp.asarray([0.5, 1.1, 2.0, 300.0, 0.5, 1.1, 300.0])
  advantage = jnp.asarray([-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0])

  def grad(dual_clip):
    return np.asarray(jax.grad(lambda r: jnp.sum(ppo.clipped_surrogate(
        r, advantage, 0.2, dual_clip)))(ratio))

  # Standard PPO: the gradient is the advantage wherever the unclipped
  # term is the minimum, however large the ratio of a negative advantage.
  np.testing.assert_allclose(grad(None), [0, -1, -1, -1, 1, 1, 0])
  # Dual clip at 3 cuts only the runaway sample; positive advantages and
  # ratios below 3 are untouched.
  np.testing.assert_allclose(grad(3.0), [0, -1, -1, 0, 1, 1, 0])
  np.testing.assert_allclose(
      ppo.clipped_surrogate(ratio, advantage, 0.2, 3.0),
      [-0.8, -1.1, -2.0, -3.0, 0.5, 1.1, 1.2], rtol=1e-6)


def test_closed_form_kl_matches_a_monte_carlo_estimate():
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  logits_p = jax.random.normal(keys[0], (4, 6))
  logits_q = logits_p + 0.3 * jax.random.normal(keys[1], (4, 6))
  samples = jax.vmap(ppo_networks.sample_pre_tanh, (None, 0))(
      logits_p, jax.random.split(keys[2], 200_000))
  log_ratio = (ppo_networks.pre_tanh_log_prob(logits_p, samples) -
               ppo_networks.pre_tanh_log_prob(logits_q, samples))
  closed_form = ppo_networks.kl_divergence(logits_p, logits_q)
  np.testing.assert_allclose(closed_form, np.mean(log_ratio, 0), rtol=0.03)
  assert np.all(np.asarray(closed_form) > 0.01)
  np.testing.assert_allclose(
      ppo_networks.kl_divergence(logits_p, logits_p), 0.0, atol=1e-6)


def test_policy_spec_reads_exports_that_record_a_state_dependent_scale():
  spec = ppo_networks.PolicySpec(4, 2, (8, 8))
  saved = {'observation_size': 4, 'action_size': 2, 'hidden_sizes': [8, 8],
           'activation': 'swish'}
  assert ppo_networks.PolicySpec.from_dict(saved) == spec
  assert ppo_networks.PolicySpec.from_dict(
      {**saved, 'state_dependent_scale': True}) == spec
  with pytest.raises(ValueError, match='state_dependent_scale=False'):
    ppo_networks.PolicySpec.from_dict(
        {**saved, 'state_dependent_scale': False})


def test_policy_fn_is_deterministic_jittable_and_batched(trained, toy_env):
  trainer, _, state, _ = trained
  params = ppo.export(state)
  policy_fn = ppo_networks.make_policy_fn(trainer.policy_spec, params)
  # States near the rope's line, where a trained policy does not saturate
  # (float32 tanh rounds to exactly +-1 far off the data).
  obs = 0.05 * jax.random.normal(jax.random.PRNGKey(3),
                                 (2, 5, toy_env.observation_size))

  @jax.jit
  @chex.assert_max_traces(n=1)
  def jitted(o):
    return policy_fn(o)

  first = jitted(obs)
  chex.assert_shape(first, (2, 5, toy_env.action_size))
  np.testing.assert_array_equal(first, jitted(obs))
  np.testing.assert_allclose(first, policy_fn(obs), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(
      first[1, 2], policy_fn(obs[1, 2]), rtol=1e-5, atol=1e-6)
  assert np.all(np.abs(first) < 1.0)

  # The normaliser is folded in: shifting the statistics and the
  # observations alike leaves the action unchanged.
  shift = 7.0
  shifted = params.replace(obs_stats=params.obs_stats.replace(
      mean=params.obs_stats.mean + shift))
  np.testing.assert_allclose(
      ppo_networks.make_policy_fn(trainer.policy_spec, shifted)(obs + shift),
      first, rtol=1e-4, atol=1e-5)

  with pytest.raises(ValueError, match='expected'):
    policy_fn(jnp.zeros((3, toy_env.observation_size + 1)))


def test_stochastic_policy_fn_has_the_deterministic_action_as_median(
    trained, toy_env):
  trainer, _, state, _ = trained
  params = ppo.export(state)
  sample = jax.jit(
      ppo_networks.make_stochastic_policy_fn(trainer.policy_spec, params))
  obs = 0.05 * jax.random.normal(jax.random.PRNGKey(4),
                                 (toy_env.observation_size,))
  keys = jax.random.split(jax.random.PRNGKey(5), 4096)
  actions = jax.vmap(sample, in_axes=(None, 0))(obs, keys)
  chex.assert_shape(actions, (4096, toy_env.action_size))
  np.testing.assert_allclose(sample(obs, keys[0]), actions[0], rtol=1e-5)
  assert float(jnp.min(jnp.std(actions, axis=0))) > 1e-3
  assert np.all(np.abs(actions) < 1.0)
  # tanh is monotone, so the median of tanh(u) is tanh(loc): the mode.
  mode = ppo_networks.make_policy_fn(trainer.policy_spec, params)(obs)
  np.testing.assert_allclose(np.median(actions, axis=0), mode, atol=0.03)


def test_launcher_resumes_exactly_and_exports(tmp_path, toy_env):
  from launch import train_expert  # pylint: disable=g-import-not-at-top
  if not flags.FLAGS.is_parsed():
    flags.FLAGS(['test'])
  workdir = str(tmp_path / 'run')
  settings = dict(
      env=_TOY_ENV, workdir=workdir, total_env_steps=32 * 8 * 4,
      num_envs=32, unroll_length=8, num_minibatches=2, update_epochs=2,
      policy_hidden_sizes=['16'], value_hidden_sizes=['16'],
      iterations_per_call=2, checkpoint_every=2, eval_every=0,
      num_eval_envs=4)
  with flagsaver.flagsaver(**settings):
    train_expert.main([])
  spec, straight, card = experts.load_export(
      os.path.join(workdir, 'expert'))
  assert card['env_steps'] == 32 * 8 * 4
  assert spec == ppo.policy_spec(
      ppo.PPOConfig(policy_hidden_sizes=(16,)), toy_env)

  # Interrupted after iteration 2: the rerun resumes and ends identically.
  shutil.rmtree(os.path.join(workdir, 'checkpoints', '4'))
  shutil.rmtree(os.path.join(workdir, 'expert'))
  with flagsaver.flagsaver(**settings):
    train_expert.main([])
  _, resumed, _ = experts.load_export(os.path.join(workdir, 'expert'))
  chex.assert_trees_all_close(resumed, straight, rtol=1e-6, atol=1e-6)
  policy_fn = ppo_networks.make_policy_fn(spec, resumed)
  chex.assert_shape(policy_fn(jnp.zeros((3, spec.observation_size))),
                    (3, spec.action_size))
  # The framework-free file beside it acts as the JAX policy does.
  numpy_fn = numpy_policy.load_numpy_policy(
      os.path.join(workdir, 'expert', 'policy'))
  obs = np.random.default_rng(0).normal(size=(5, spec.observation_size))
  np.testing.assert_allclose(numpy_fn(obs), policy_fn(jnp.asarray(obs)),
                             atol=1e-5)
  assert numpy_fn.description['env']['name'] == _TOY_ENV


def test_run_reports_each_row_it_writes_and_returns_the_card(tmp_path,
                                                            toy_env):
  config = ppo.PPOConfig(
      total_env_steps=32 * 8 * 4, num_envs=32, unroll_length=8,
      num_minibatches=2, update_epochs=2, policy_hidden_sizes=(16,),
      value_hidden_sizes=(16,), num_eval_envs=4)
  rows, messages = [], []
  workdir = str(tmp_path / 'run')
  card = ppo_run.run(config, toy_env, workdir, env_name=_TOY_ENV,
                     env_options=_TOY_ENV_OPTIONS, iterations_per_call=2,
                     eval_every=0, progress_fn=rows.append,
                     report=messages.append)
  # As text: a row's Train_AverageReturn is NaN before any episode ended.
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    assert [json.dumps(row) for row in rows] == f.read().splitlines()
  assert [row['iteration'] for row in rows] == [2, 4]
  assert 'Eval_AverageReturn' in rows[-1] and 'Eval_AverageReturn' not in (
      rows[0])
  with open(os.path.join(workdir, 'expert', 'card.json')) as f:
    assert json.load(f) == json.loads(json.dumps(card))
  assert card['env_options'] == _TOY_ENV_OPTIONS and card['finished']
  assert messages[-1].startswith('exported the best policy (iteration 4)')
  with pytest.raises(ValueError, match='iterations_per_call=0'):
    ppo_run.run(config, toy_env, workdir, env_name=_TOY_ENV,
                iterations_per_call=0)


def test_launcher_stops_at_the_wallclock_limit_and_resumes_to_the_same_end(
    tmp_path):
  from launch import train_expert  # pylint: disable=g-import-not-at-top
  if not flags.FLAGS.is_parsed():
    flags.FLAGS(['test'])
  settings = dict(
      env=_TOY_ENV, total_env_steps=32 * 8 * 4, num_envs=32, unroll_length=8,
      num_minibatches=2, update_epochs=2, policy_hidden_sizes=['16'],
      value_hidden_sizes=['16'], iterations_per_call=2, checkpoint_every=4,
      eval_every=0, num_eval_envs=4)
  straight_dir = str(tmp_path / 'straight')
  with flagsaver.flagsaver(workdir=straight_dir, **settings):
    train_expert.main([])
  _, straight, _ = experts.load_export(os.path.join(straight_dir, 'expert'))

  # Any positive limit passes during the first call of two iterations.
  workdir = str(tmp_path / 'limited')
  with flagsaver.flagsaver(workdir=workdir, max_wallclock_s=1e-6, **settings):
    train_expert.main([])
  _, early, card = experts.load_export(os.path.join(workdir, 'expert'))
  assert card['env_steps'] == 32 * 8 * 2
  assert card['finished'] is False
  assert 'Eval_AverageReturn' in card['eval']
  assert os.listdir(os.path.join(workdir, 'checkpoints')) == ['2']
  leaves = zip(jax.tree.leaves(early), jax.tree.leaves(straight))
  assert any(not np.allclose(a, b) for a, b in leaves)

  with flagsaver.flagsaver(workdir=workdir, **settings):
    train_expert.main([])
  _, resumed, card = experts.load_export(os.path.join(workdir, 'expert'))
  assert card['finished'] is True
  chex.assert_trees_all_close(resumed, straight, rtol=1e-6, atol=1e-6)


def test_launcher_flags_are_the_config_fields_with_their_defaults():
  from launch import train_expert  # pylint: disable=g-import-not-at-top
  if not flags.FLAGS.is_parsed():
    flags.FLAGS(['test'])
  docs = config_flags.field_docs(ppo.PPOConfig)
  for field in dataclasses.fields(ppo.PPOConfig):
    assert flags.FLAGS[field.name].help.startswith(docs[field.name])
  assert train_expert._config() == ppo.PPOConfig()  # pylint: disable=protected-access
  with flagsaver.flagsaver(dual_clip=3.0, policy_hidden_sizes=['16', '8'],
                           normalize_advantages=False):
    assert train_expert._config() == ppo.PPOConfig(  # pylint: disable=protected-access
        dual_clip=3.0, policy_hidden_sizes=(16, 8),
        normalize_advantages=False)


def test_launcher_refuses_a_non_positive_wallclock_limit(tmp_path):
  from launch import train_expert  # pylint: disable=g-import-not-at-top
  if not flags.FLAGS.is_parsed():
    flags.FLAGS(['test'])
  with flagsaver.flagsaver(env=_TOY_ENV, workdir=str(tmp_path),
                           max_wallclock_s=0.0):
    with pytest.raises(app.UsageError, match='max_wallclock_s'):
      train_expert.main([])


class _FakeState(NamedTuple):
  """What `ppo_run.BestPolicy` reads of a `ppo.PPOState`."""
  iteration: int
  env_steps: int
  params: dict
  obs_stats: ppo_networks.RunningStats


def _fake_state(iteration: int) -> _FakeState:
  return _FakeState(
      iteration=iteration, env_steps=10 * iteration,
      params={'policy': {'w': np.full((2,), iteration, np.float32)}},
      obs_stats=ppo_networks.init_running_stats(2))


def test_best_policy_keeps_the_first_highest_evaluation():
  best = ppo_run.BestPolicy.before_any_evaluation(
      ppo.export(_fake_state(0)), {'Eval_AverageReturn': 0.0,
                                   'Eval_StdReturn': 0.0})
  assert best.eval_return == -np.inf
  # Iteration 2 returns the most; 4 ties with it and 5 is not a number.
  for iteration, value in enumerate([5.0, 9.0, 3.0, 9.0, math.nan], 1):
    best = best.offer({'Eval_AverageReturn': value, 'Eval_StdReturn': 1.0},
                      _fake_state(iteration))
  assert best.eval_return == 9.0
  assert int(best.iteration) == 2 and int(best.env_steps) == 20
  np.testing.assert_array_equal(best.params.policy['w'], [2.0, 2.0])
  assert float(best.eval_metrics['Eval_StdReturn']) == 1.0


def test_launcher_exports_the_best_evaluated_policy(tmp_path):
  from launch import train_expert  # pylint: disable=g-import-not-at-top
  if not flags.FLAGS.is_parsed():
    flags.FLAGS(['test'])
  steps_per_iteration = 32 * 8
  # A learning rate high enough that the evaluated return goes up and down;
  # constant, so that a shorter run follows the same path.
  settings = dict(
      env=_TOY_ENV, num_envs=32, unroll_length=8, num_minibatches=2,
      update_epochs=2, policy_hidden_sizes=['16'], value_hidden_sizes=['16'],
      learning_rate=3e-2, anneal_learning_rate=False, iterations_per_call=1,
      checkpoint_every=2, eval_every=1, num_eval_envs=4)
  workdir = str(tmp_path / 'six')
  expert_dir = os.path.join(workdir, 'expert')
  with flagsaver.flagsaver(workdir=workdir,
                           total_env_steps=6 * steps_per_iteration,
                           **settings):
    train_expert.main([])
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    rows = [json.loads(line) for line in f]
  returns = [row['Eval_AverageReturn'] for row in rows]
  assert len(returns) == 6
  best_row = rows[int(np.argmax(returns))]
  _, best, card = experts.load_export(expert_dir)
  assert card['export'] == 'best'
  assert card['eval']['Eval_AverageReturn'] == pytest.approx(max(returns))
  assert card['env_steps'] == best_row['env_steps']
  assert card['iteration'] == best_row['iteration']
  assert card['final_env_steps'] == 6 * steps_per_iteration
  assert card['final_eval']['Eval_AverageReturn'] == pytest.approx(returns[-1])

  # The exported parameters are that iteration's: a run that stops there
  # ends with them.
  short_dir = str(tmp_path / 'short')
  with flagsaver.flagsaver(workdir=short_dir, export='last',
                           total_env_steps=best_row['env_steps'], **settings):
    train_expert.main([])
  _, short, _ = experts.load_export(os.path.join(short_dir, 'expert'))
  chex.assert_trees_all_close(best, short, rtol=1e-6, atol=1e-6)

  # The checkpoints keep the best policy: the finished run, run again,
  # exports it again, or its last policy with --export=last.
  shutil.rmtree(expert_dir)
  with flagsaver.flagsaver(workdir=workdir,
                           total_env_steps=6 * steps_per_iteration,
                           **settings):
    train_expert.main([])
  _, again, card = experts.load_export(expert_dir)
  chex.assert_trees_all_close(again, best, rtol=0, atol=0)
  assert card['env_steps'] == best_row['env_steps']
  with flagsaver.flagsaver(workdir=workdir, export='last',
                           total_env_steps=6 * steps_per_iteration,
                           **settings):
    train_expert.main([])
  _, last, card = experts.load_export(expert_dir)
  assert card['export'] == 'last'
  assert card['env_steps'] == card['final_env_steps']
  assert card['eval']['Eval_AverageReturn'] == pytest.approx(returns[-1])
  if best_row is not rows[-1]:
    leaves = zip(jax.tree.leaves(last), jax.tree.leaves(best))
    assert any(not np.allclose(a, b) for a, b in leaves)
