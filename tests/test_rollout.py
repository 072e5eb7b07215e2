"""Data collection: beta-mixing, relabelling and evaluation semantics."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import envs, evaluation, rollout
from il_jax.experts import registry as experts

BATCH, STEPS = 16, 40


@pytest.fixture(scope='module')
def tightrope():
  env = envs.make('tightrope')
  return env, envs.wrap(env, episode_length=env.default_episode_length)


def _learner(action_size):
  # A constant push: far from the expert, so labels and actions differ.
  return lambda obs, key: jnp.full(obs.shape[:-1] + (action_size,), 0.7)


@pytest.fixture(scope='module')
def collect_fn(tightrope):
  env, wrapped = tightrope
  expert = experts.load('tightrope')
  return jax.jit(lambda beta, key: rollout.collect(
      wrapped, _learner(env.action_size), expert, beta, key, BATCH, STEPS))


def test_labels_are_the_experts_action_at_the_visited_state(collect_fn):
  transitions = collect_fn(0.0, jax.random.PRNGKey(0))
  expert = experts.load('tightrope')
  np.testing.assert_allclose(transitions.expert_action,
                             expert(transitions.obs), atol=1e-6)
  # The learner drove: actions are its own, not the labels.
  np.testing.assert_allclose(transitions.action, 0.7)
  assert not np.allclose(transitions.expert_action, transitions.action)
  assert not transitions.expert_controlled.any()


def test_beta_one_executes_the_expert(collect_fn):
  transitions = collect_fn(1.0, jax.random.PRNGKey(1))
  assert transitions.expert_controlled.all()
  np.testing.assert_allclose(transitions.action, transitions.expert_action)


def test_beta_mixes_per_environment_and_step(collect_fn):
  transitions = collect_fn(0.3, jax.random.PRNGKey(2))
  controlled = np.asarray(transitions.expert_controlled)
  assert abs(controlled.mean() - 0.3) < 0.05
  # Mixing is independent across environments, not one coin per step.
  assert 0 < controlled.sum(axis=1).min() and controlled.sum(axis=1).max() < BATCH
  expert_rows = controlled[..., None]
  np.testing.assert_allclose(
      np.where(expert_rows, transitions.action, 0.0),
      np.where(expert_rows, transitions.expert_action, 0.0))
  np.testing.assert_allclose(
      np.where(expert_rows, 0.7, transitions.action), 0.7)


def test_evaluation_counts_exactly_one_episode_per_environment(tightrope):
  env, wrapped = tightrope
  expert = experts.load('tightrope')
  zero = lambda obs: jnp.zeros(obs.shape[:-1] + (env.action_size,))
  evaluate = jax.jit(lambda act, key: evaluation.evaluate(
      act, wrapped, key, 8, env.default_episode_length), static_argnums=0)
  summary = evaluate(expert, jax.random.PRNGKey(0))
  assert summary['num_episodes'] == 8
  np.testing.assert_allclose(summary['length_mean'],
                             env.default_episode_length)
  # An uncontrolled walker falls early; the early falls still count once.
  falling = evaluate(zero, jax.random.PRNGKey(0))
  assert falling['num_episodes'] == 8
  assert falling['length_mean'] < 0.5 * env.default_episode_length
  assert falling['return_mean'] < summary['return_mean']


def test_evaluation_reports_the_environments_episode_metrics():
  env = envs.make('fork')
  wrapped = envs.wrap(env, episode_length=env.default_episode_length)
  expert = experts.load('fork')
  zero = lambda obs: jnp.zeros(obs.shape[:-1] + (env.action_size,))
  evaluate = jax.jit(lambda act, key: evaluation.evaluate(
      act, wrapped, key, 16, env.default_episode_length), static_argnums=0)
  # The expert always passes the obstacle; going straight always hits it.
  np.testing.assert_allclose(evaluate(expert, jax.random.PRNGKey(0))[
      'metric_success'], 1.0)
  straight = evaluate(zero, jax.random.PRNGKey(0))
  np.testing.assert_allclose(straight['metric_success'], 0.0)
  np.testing.assert_allclose(straight['metric_collision'], 1.0)


def test_evaluate_in_wraps_and_compiles_evaluate(tightrope):
  env, wrapped = tightrope
  expert = experts.load('tightrope')
  direct = jax.jit(lambda key: evaluation.evaluate(
      expert, wrapped, key, 4, env.default_episode_length))(
          jax.random.PRNGKey(3))
  by_env = evaluation.evaluate_in(expert, env, 4, seed=3)
  assert set(by_env) == set(direct)
  for name, value in by_env.items():
    assert isinstance(value, float), name
    np.testing.assert_allclose(value, direct[name], rtol=1e-6, err_msg=name)
  # A shorter time limit truncates the expert's episodes there.
  short = evaluation.evaluate_in(expert, env, 4, seed=3, episode_length=25)
  assert short['length_mean'] == 25.0


EPISODE = 30
# Compiler options under which XLA fuses no operations.
UNFUSED = {'xla_disable_hlo_passes': 'fusion'}


def _parts(expert):
  """On tightrope, each with its own keys, batch size and length: an
  evaluation, a beta-mixture that stops before the evaluation's episodes end
  and a gated learner that runs past them."""
  weak = lambda obs: 0.5 * expert(obs)
  learner = rollout.with_action_noise(weak, 0.5)
  gate = lambda obs, learner_action, expert_action: jnp.linalg.norm(
      learner_action - expert_action, axis=-1)
  keys = jax.random.split(jax.random.PRNGKey(4), 3)
  return [
      evaluation.part(weak, keys[0], 6, EPISODE),
      rollout.part(rollout.mixture(learner, expert, 0.3), keys[1], 5,
                   EPISODE - 9),
      rollout.part(rollout.gated(learner, expert, gate, 0.3, 3, None),
                   keys[2], 4, 2 * EPISODE + 7),
  ]


def test_parts_side_by_side_step_exactly_as_each_alone():
  wrapped = envs.wrap(envs.make('tightrope'), episode_length=EPISODE)
  parts = _parts(experts.load('tightrope'))

  def run(parts, options):
    return jax.jit(lambda: rollout.run(wrapped, parts)).lower().compile(
        options)()

  # Unfused, each part's arithmetic is its own: equal bit for bit.
  together = run(parts, UNFUSED)
  for p, merged in zip(parts, together):
    alone, = run([p], UNFUSED)
    assert merged.done.shape == (p.num_steps, p.reset_keys.shape[0])
    chex.assert_trees_all_equal(merged, alone)
  # What would catch a part acting on another's environments or keys: the
  # collections mixed, fell, restarted and were taken over.
  _, mixed, gated = together
  assert gated.done.any()
  labels, gate = gated.record
  assert gate.takeover.any() and not labels.expert_controlled.all()
  assert 0 < mixed.record.expert_controlled.mean() < 1

  def discrete(steps):
    return [x for x in jax.tree.leaves(steps) if x.dtype == bool]

  # Fused, XLA's CPU code fuses a lone actor's computation into the
  # environment's step (recomputing it there), which it does not do with
  # actions concatenated from several actors, and rounds the step's sin and
  # multiply-adds differently in the two fusions: float32 rounding apart,
  # with the same episode ends and interventions.
  for p, merged in zip(parts, run(parts, {})):
    alone, = run([p], {})
    chex.assert_trees_all_close(merged, alone, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_equal(discrete(merged), discrete(alone))
