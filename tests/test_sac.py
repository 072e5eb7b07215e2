"""SAC, the CPU expert trainer: its density, that it learns, and its export."""

import json
import os
import pickle

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import experts, numpy_policy
from il_jax.experts import ppo_networks, sac
from launch_scripts import run_module


def test_tanh_gaussian_density_integrates_to_one_over_actions():
  # p(a) for a = tanh(u) must integrate to 1 over a in (-1, 1); without the
  # tanh Jacobian (or with its sign flipped) it does not.
  logits = jnp.asarray([[0.7, 0.3]])  # loc 0.7, scale softplus(0.3)
  a = jnp.linspace(-1 + 1e-6, 1 - 1e-6, 400_001, dtype=jnp.float64
                   if jax.config.jax_enable_x64 else jnp.float32)
  u = jnp.arctanh(a)[:, None]
  density = jnp.exp(sac.tanh_gaussian_log_prob(logits, u))
  total = float(jnp.sum(density) * (a[1] - a[0]))
  assert abs(total - 1.0) < 1e-2, total


def test_sac_learns_a_contextual_bandit():
  # One-step episodes (terminated = 1): the critic must learn
  # Q(s, a) = -(a - target(s))^2 and the actor its argmax.
  rng = np.random.default_rng(0)
  n = 4096
  obs = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
  action = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
  target = 0.6 * np.sin(2.0 * obs[:, :1])
  reward = -np.square(action - target)[:, 0].astype(np.float32)
  config = sac.SACConfig(policy_hidden_sizes=(64, 64), q_hidden_sizes=(64, 64),
                         batch_size=128, initial_alpha=0.01)
  learner = sac.make_sac(config, observation_size=2, action_size=1)
  state = learner.init(jax.random.PRNGKey(0))
  steps = 1500
  index = rng.integers(0, n, (steps, config.batch_size))
  batches = sac.ReplayBatch(obs[index], action[index], reward[index],
                            obs[index], np.ones_like(reward[index]))
  state, metrics = jax.jit(learner.update_many)(state, batches)
  assert int(state.updates) == steps
  assert np.all(np.isfinite(metrics['q_loss']))

  test_obs = rng.uniform(-1, 1, (256, 2)).astype(np.float32)
  error = np.abs(np.asarray(learner.mode(state.policy, test_obs)) -
                 0.6 * np.sin(2.0 * test_obs[:, :1]))
  untrained = np.abs(
      np.asarray(learner.mode(learner.init(jax.random.PRNGKey(0)).policy,
                              test_obs)) - 0.6 * np.sin(2.0 * test_obs[:, :1]))
  assert np.mean(error) < 0.1, np.mean(error)
  assert np.mean(untrained) > 0.3


def test_target_critic_is_a_polyak_average():
  config = sac.SACConfig(policy_hidden_sizes=(8,), q_hidden_sizes=(8,),
                         batch_size=4, tau=0.25)
  learner = sac.make_sac(config, 3, 2)
  state = learner.init(jax.random.PRNGKey(0))
  batch = sac.ReplayBatch(jnp.ones((4, 3)), jnp.zeros((4, 2)), jnp.ones(4),
                          jnp.ones((4, 3)), jnp.zeros(4))
  new, _ = learner.update(state, batch)
  chex.assert_trees_all_close(
      new.target_q,
      jax.tree.map(lambda q, t: 0.25 * q + 0.75 * t, new.q, state.target_q),
      rtol=1e-6)


@pytest.mark.parametrize('field,value,match', [
    ('discount', 1.5, 'discount=1.5'),
    ('batch_size', 0, 'batch_size'),
    ('q_hidden_sizes', (), 'q_hidden_sizes'),
    ('activation', 'sigmoidish', 'activation'),
])
def test_bad_config_is_a_clear_error(field, value, match):
  with pytest.raises(ValueError, match=match):
    sac.SACConfig(**{field: value})


def _train_in_gymnasium(workdir, total_env_steps, check=True, **flags):
  settings = dict(learning_starts=200, updates_per_call=50, eval_every=200,
                  eval_episodes=1, policy_hidden_sizes=16, q_hidden_sizes=16,
                  batch_size=32, **flags)
  return run_module(
      'launch.train_expert_gymnasium', f'--workdir={workdir}',
      f'--total_env_steps={total_env_steps}',
      *[f'--{name}={value}' for name, value in settings.items()],
      timeout=None, check=check)


def _rows(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [json.loads(line) for line in f]


@pytest.fixture(scope='module')
def gymnasium_run(tmp_path_factory):
  """An uninterrupted 600-step run: evaluations at 200, 400 and 600."""
  pytest.importorskip('gymnasium')
  workdir = str(tmp_path_factory.mktemp('sac') / 'uninterrupted')
  _train_in_gymnasium(workdir, 600)
  return workdir


def test_gymnasium_trainer_exports_an_expert_load_reads(gymnasium_run):
  workdir = gymnasium_run
  expert_dir = os.path.join(workdir, 'expert')
  with open(os.path.join(expert_dir, 'card.json')) as f:
    card = json.load(f)
  assert card['algorithm'] == 'sac' and card['env'] == 'walker2d'
  rows = _rows(workdir)
  assert [r['env_steps'] for r in rows] == [200, 400, 600]
  assert rows[-1]['gradient_steps'] == 400  # one per step after the start

  expert_fn = experts.load('walker2d', directory=expert_dir)
  spec, params, _ = experts.load_export(expert_dir)
  assert spec.hidden_sizes == (16,) and spec.activation == 'relu'
  chex.assert_trees_all_close(params.obs_stats.mean,
                              jnp.zeros(spec.observation_size))
  obs = np.random.default_rng(0).normal(size=(8, 17)).astype(np.float32)
  numpy_fn = numpy_policy.load_numpy_policy(os.path.join(expert_dir, 'policy'))
  np.testing.assert_allclose(numpy_fn(obs), np.asarray(expert_fn(obs)),
                             atol=1e-5)
  chex.assert_trees_all_close(
      expert_fn(obs),
      ppo_networks.make_policy_fn(spec, params)(jnp.asarray(obs)))


def test_gymnasium_trainer_resumes_bit_identically(gymnasium_run, tmp_path):
  workdir = str(tmp_path / 'resumed')
  _train_in_gymnasium(workdir, 400)  # stops after its second evaluation
  # A run killed after writing a row but before saving its state leaves a
  # row the resumed run must replace.
  with open(os.path.join(workdir, 'metrics.jsonl'), 'a') as f:
    f.write(json.dumps({'env_steps': 500, 'Eval_AverageReturn': 0.0}) + '\n')
  resumed = _train_in_gymnasium(workdir, 600)
  assert 'resumed at step 400' in resumed.stdout

  timing = ('wallclock_s', 'Env_Steps_Per_Second')
  strip = lambda rows: [{k: v for k, v in row.items() if k not in timing}
                        for row in rows]
  assert strip(_rows(workdir)) == strip(_rows(gymnasium_run))
  with np.load(os.path.join(workdir, 'resume.npz')) as got, np.load(
      os.path.join(gymnasium_run, 'resume.npz')) as want:
    assert set(got.files) == set(want.files)
    for name in want.files:
      # 'host' holds the wall-clock; the pickled MjData holds scratch memory.
      if name not in ('host', 'mjdata'):
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    got_data, want_data = (pickle.loads(saved['mjdata'].tobytes())
                           for saved in (got, want))
  for field in ('time', 'qpos', 'qvel', 'act', 'qacc_warmstart', 'ctrl'):
    np.testing.assert_array_equal(getattr(got_data, field),
                                  getattr(want_data, field), err_msg=field)


def test_gymnasium_trainer_refuses_to_resume_other_settings(gymnasium_run):
  failed = _train_in_gymnasium(gymnasium_run, 800, check=False, seed=1)
  assert failed.returncode != 0
  assert "other settings (differs in ['seed'])" in failed.stderr
