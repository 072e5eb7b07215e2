"""Our PPO against brax's PPO on the same environment and settings.

Evidence that `il_jax.experts.ppo` learns as a reference implementation
does, where no GPU is at hand to train a full expert: both train on our MJX
environment (Walker2d `fast` by default) with matched settings, and their
deterministic evaluation returns are compared at the same env-step counts,
over several seeds. Matched: environments, steps per update (`num_envs *
unroll_length`: brax collects `batch_size * num_minibatches` trajectories
of `unroll_length`, here exactly one unroll of every environment), the
minibatch split, epochs, learning rate (constant), entropy, clipping, GAE,
discount, gradient clipping, observation normalisation and network sizes
(swish). Not matched, each with the variant of ours that does it brax's way:
the policy's initialisation (ours starts its last layer small; brax's is
full scale: `ours_brax_init`), minibatches (ours shuffles transitions whose
advantages were computed once per iteration; brax's are whole environment
segments whose advantages its loss recomputes with the current critic:
`ours_brax_advantages`), the advantage estimator (ours GAE, brax's
on-policy V-trace: `ours_vtrace_advantages`) and time-limit handling (ours
bootstraps from the state a truncated step reached; brax masks the TD error
of truncated steps, its default for environments that set no `time_out`:
`ours_brax_truncation`), the normaliser's timing (brax merges a rollout into
its statistics before the update on it, ours after: `ours_brax_normalizer`)
and Adam's epsilon (brax 1e-8, ours 1e-5: `ours_brax_adam_eps`);
`ours_as_brax` makes all of those changes at once. Matched by construction,
as read in brax 0.14.2's source: the action distribution (a tanh-squashed
Gaussian whose scale is `softplus(output) + 0.001`, both halves from the
policy network's last layer, one-sample entropy with the tanh Jacobian) and
the loss (clipped surrogate, `0.5 * value_coef` times the mean squared value
error, advantages normalised per minibatch). Left unmatched: the kernel
initialiser's distribution (brax's lecun_uniform, ours lecun_normal, of the
same variance) and the normaliser's guard for features that never vary
(brax clips the std to at least 1e-6, ours adds 1e-8 to the variance).

brax's PPO calls `jax.device_put_replicated`, which jax removed; a shim
maps it onto `jax.device_put` for the call (one device).

Besides `ours` (the matched settings), `--impl` takes variants of ours that
change one or two settings (`OUR_VARIANTS`), so that a fix for a failure of
ours is measured against the same seeds and evaluations.

  python -m launch.ppo_vs_brax                                  # Walker2d, 1 M steps, 2 seeds
  python -m launch.ppo_vs_brax --impl=ours --seeds=0,1 --results=   # one side
  python -m launch.ppo_vs_brax --impl=ours_adaptive_lr --seeds=0,1,2,3,4
"""

import contextlib
import dataclasses
import functools
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from il_jax import envs
from il_jax.experts import ppo
from launch import reporting
import launch

_ENV = flags.DEFINE_string('env', 'walker2d', 'Registered environment.')
_IMPLS = flags.DEFINE_list('impl', ['ours', 'brax'], 'Implementations to '
                           'run: brax, ours or a variant of ours '
                           '(OUR_VARIANTS).')
_SEEDS = flags.DEFINE_list('seeds', ['0', '1'], 'Seeds.')
_TOTAL = flags.DEFINE_integer('total_env_steps', 1_000_000, 'Env steps.')
_NUM_EVALS = flags.DEFINE_integer('num_evals', 5, 'Evaluations after the '
                                  'start, evenly spaced.')
_NUM_ENVS = flags.DEFINE_integer('num_envs', 128, 'Parallel environments.')
_UNROLL = flags.DEFINE_integer('unroll_length', 20, 'Steps per update per '
                               'environment.')
_MINIBATCHES = flags.DEFINE_integer('num_minibatches', 4, 'Minibatches.')
_EPOCHS = flags.DEFINE_integer('update_epochs', 4, 'Passes per update.')
_LR = flags.DEFINE_float('learning_rate', 3e-4, 'Adam learning rate.')
_ENTROPY = flags.DEFINE_float('entropy_coef', 1e-3, 'Entropy bonus.')
_EVAL_EPISODES = flags.DEFINE_integer('eval_episodes', 16, 'Episodes per '
                                      'evaluation.')
_OUT = flags.DEFINE_string('out', 'bench_out/ppo_vs_brax', 'Folder of one '
                           'JSON file per implementation and seed.')
_RESULTS = flags.DEFINE_string('results', 'RESULTS.md', 'File to write the '
                               'table to ("" for none).')

_POLICY_SIZES = (256, 256)
_VALUE_SIZES = (256, 256, 256)
SECTION = "PPO against brax's PPO"

# Our PPO with one change each to the matched settings (`PPOConfig` fields).
OUR_VARIANTS = {
    'ours': {},
    # Bounds the surrogate of a negative advantage (a ratio past 3 stops
    # contributing gradient).
    'ours_dual_clip': {'dual_clip': 3.0},
    # The learning rate adapts to keep the KL from the rollout policy near
    # 0.01 (rsl_rl's schedule), starting at --learning_rate.
    'ours_adaptive_lr': {'desired_kl': 0.01},
    # Both: dual clip bounds the one runaway sample, the adaptive rate the
    # drift of the whole update.
    'ours_dual_clip_adaptive_lr': {'dual_clip': 3.0, 'desired_kl': 0.01},
    # One learned action scale per dimension for all states, which cannot
    # shrink in a few states alone (purejaxrl's and rsl_rl's policy).
    'ours_state_independent_scale': {'state_dependent_scale': False},
    # Minibatches of whole environment segments whose advantages the current
    # critic recomputes, as brax's PPO has them.
    'ours_brax_advantages': {'advantages_per_minibatch': True},
    # The policy's last layer initialised at full scale like the others, so
    # the initial loc and scale vary from state to state (brax's networks;
    # they draw lecun_uniform, ours lecun_normal, of the same variance).
    'ours_brax_init': {'policy_init_scale': 1.0},
    # brax's initialisation with the dual-clip guard.
    'ours_brax_init_dual_clip': {'policy_init_scale': 1.0, 'dual_clip': 3.0},
    # A truncated step's TD error masked instead of bootstrapped (brax's
    # PPO for environments that set no `time_out`).
    'ours_brax_truncation': {'bootstrap_truncation': False},
    # V-trace's policy advantages, r + discount * (next lambda-return) - V,
    # where ours are GAE's (brax's PPO; the value targets are the same).
    'ours_vtrace_advantages': {'advantage_estimator': 'vtrace'},
    # A rollout merged into the observation statistics before the update on
    # it, which then normalises the rollout differently (brax's PPO).
    'ours_brax_normalizer': {'normalizer_before_sgd': True},
    # Adam's epsilon at optax's default (brax's PPO), where ours is 1e-5.
    'ours_brax_adam_eps': {'adam_eps': 1e-8},
    # Every one of brax's choices above at once: what is left between this
    # and brax is the initialiser's distribution and the normaliser's guard
    # for constant features.
    'ours_as_brax': {'policy_init_scale': 1.0,
                     'advantages_per_minibatch': True,
                     'advantage_estimator': 'vtrace',
                     'bootstrap_truncation': False,
                     'normalizer_before_sgd': True, 'adam_eps': 1e-8},
}
IMPLS = tuple(OUR_VARIANTS) + ('brax',)


def our_config(total_env_steps: int, variant: str = 'ours') -> ppo.PPOConfig:
  return dataclasses.replace(ppo.PPOConfig(
      total_env_steps=total_env_steps, num_envs=_NUM_ENVS.value,
      unroll_length=_UNROLL.value, num_minibatches=_MINIBATCHES.value,
      update_epochs=_EPOCHS.value, learning_rate=_LR.value,
      anneal_learning_rate=False, max_grad_norm=1.0, discount=0.99,
      gae_lambda=0.95, clip_epsilon=0.2, value_coef=0.5,
      entropy_coef=_ENTROPY.value, normalize_observations=True,
      policy_hidden_sizes=_POLICY_SIZES, value_hidden_sizes=_VALUE_SIZES,
      activation='swish', num_eval_envs=_EVAL_EPISODES.value),
      **OUR_VARIANTS[variant])


def run_ours(env, seed: int, variant: str = 'ours'
             ) -> list[tuple[int, float]]:
  """`[(env_steps, deterministic eval return)]` at `num_evals` points."""
  config = our_config(_TOTAL.value, variant)
  trainer = ppo.make_ppo(config, env)
  per_eval = config.num_iterations // _NUM_EVALS.value
  segment = jax.jit(lambda s: jax.lax.scan(
      lambda s, _: trainer.iterate(s), s, None, per_eval)[0])
  evaluate = jax.jit(trainer.evaluate)
  state = jax.jit(trainer.init)(jax.random.PRNGKey(seed))
  eval_key = jax.random.PRNGKey(10_000 + seed)
  curve = []
  for i in range(_NUM_EVALS.value):
    state = segment(state)
    metrics = evaluate(state, jax.random.fold_in(eval_key, i))
    curve.append((int(state.env_steps),
                  float(metrics['Eval_AverageReturn'])))
    print(f'{variant} seed {seed}: {curve[-1]}', flush=True)
  return curve


def run_brax(env, seed: int) -> list[tuple[int, float]]:
  """The same with brax's PPO (`brax.training.agents.ppo.train`)."""
  from brax.training.agents.ppo import networks as brax_networks  # pylint: disable=g-import-not-at-top
  from brax.training.agents.ppo import train as brax_ppo  # pylint: disable=g-import-not-at-top
  length = envs.env_class(_ENV.value).default_episode_length or 1000
  # One unroll of every environment per update, split into the same
  # minibatches as ours.
  batch_size = _NUM_ENVS.value // _MINIBATCHES.value
  curve = []

  def progress(steps, metrics):
    if steps > 0:
      curve.append((int(steps), float(metrics['eval/episode_reward'])))
      print(f'brax seed {seed}: {curve[-1]}', flush=True)

  with _device_put_replicated_shim():
    _train_brax(brax_ppo, brax_networks, env, seed, length, batch_size,
                progress)
  return curve


@contextlib.contextmanager
def _device_put_replicated_shim():
  """brax 0.14's PPO calls `jax.device_put_replicated`, which jax 0.10
  removed; on one device it is a leading axis of 1 on that device. Set for
  the call only."""
  if hasattr(jax, 'device_put_replicated'):
    yield
    return

  def replicated(tree, devices):
    if len(devices) != 1:
      raise NotImplementedError('the shim replicates onto one device only.')
    return jax.device_put(jax.tree.map(lambda x: jnp.asarray(x)[None], tree),
                          devices[0])

  jax.device_put_replicated = replicated
  try:
    yield
  finally:
    del jax.device_put_replicated


def _train_brax(brax_ppo, brax_networks, env, seed, length, batch_size,
                progress):
  brax_ppo.train(
      environment=env, num_timesteps=_TOTAL.value,
      num_evals=_NUM_EVALS.value + 1, episode_length=length,
      num_envs=_NUM_ENVS.value, batch_size=batch_size,
      num_minibatches=_MINIBATCHES.value, unroll_length=_UNROLL.value,
      num_updates_per_batch=_EPOCHS.value, learning_rate=_LR.value,
      entropy_cost=_ENTROPY.value, discounting=0.99, gae_lambda=0.95,
      clipping_epsilon=0.2, max_grad_norm=1.0, vf_loss_coefficient=0.5,
      normalize_observations=True, normalize_advantage=True,
      reward_scaling=1.0,
      num_eval_envs=_EVAL_EPISODES.value, deterministic_eval=True,
      network_factory=functools.partial(
          brax_networks.make_ppo_networks,
          policy_hidden_layer_sizes=_POLICY_SIZES,
          value_hidden_layer_sizes=_VALUE_SIZES),
      seed=seed, progress_fn=progress)


def _path(impl: str, seed: int) -> str:
  return os.path.join(_OUT.value, f'{_ENV.value}_{impl}_seed{seed}.json')


def table(impls, seeds) -> list[str]:
  """Markdown: one row per implementation with its deterministic return at
  each evaluation (mean ± std over seeds), its final return per seed and
  its wall-clock per seed; then the env steps of each evaluation."""
  curves = {}
  for impl in impls:
    runs = []
    for seed in seeds:
      if os.path.exists(_path(impl, seed)):
        with open(_path(impl, seed)) as f:
          runs.append(json.load(f))
    if runs:
      curves[impl] = runs
  if not curves:
    return []
  num_evals = max(len(r['curve']) for runs in curves.values() for r in runs)
  header = (['implementation', 'seeds'] +
            [f'eval {i + 1}' for i in range(num_evals)] +
            ['final, per seed', 'minutes per seed'])
  lines = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
  steps = {}
  for impl, runs in curves.items():
    cells = [impl, ', '.join(str(r['seed']) for r in runs)]
    for i in range(num_evals):
      values = np.array([r['curve'][i][1] for r in runs
                         if len(r['curve']) > i])
      cells.append(f'{values.mean():.0f} ± {values.std():.0f}'
                   if values.size else '-')
    cells.append(', '.join(f"{r['curve'][-1][1]:.0f}" for r in runs))
    cells.append(f"{np.mean([r['seconds'] for r in runs]) / 60:.1f}")
    lines.append('| ' + ' | '.join(cells) + ' |')
    longest = max(runs, key=lambda r: len(r['curve']))
    steps.setdefault(', '.join(f'{s:,}' for s, _ in longest['curve']),
                     []).append(impl)
  where = '; '.join(f"{', '.join(impls_at)} at {at}"
                    for at, impls_at in steps.items())
  return lines + ['', f'Evaluations fall at these env steps: {where}. '
                  'Minutes per seed: the mean wall-clock of one seed, '
                  'compilation and evaluations included.']


def main(argv):
  del argv
  launch.quiet_logs()
  launch.configure_jax()
  unknown = sorted(set(_IMPLS.value) - set(IMPLS))
  if unknown:
    raise app.UsageError(f'--impl {unknown} unknown; expected some of '
                         f'{", ".join(IMPLS)}.')
  seeds = [int(s) for s in _SEEDS.value]
  env = envs.make(_ENV.value)
  os.makedirs(_OUT.value, exist_ok=True)
  runners = {name: functools.partial(run_ours, variant=name)
             for name in OUR_VARIANTS}
  runners['brax'] = run_brax
  for impl in _IMPLS.value:
    for seed in seeds:
      if os.path.exists(_path(impl, seed)):
        continue  # measured already; the table reads it
      start = time.perf_counter()
      curve = runners[impl](env, seed)
      with open(_path(impl, seed), 'w') as f:
        json.dump({'impl': impl, 'seed': seed, 'curve': curve,
                   'seconds': time.perf_counter() - start,
                   'device': reporting.device_name(),
                   'jax': jax.__version__}, f)
  if _RESULTS.value:
    lines = table(list(IMPLS), seeds)
    reporting.append_section(_RESULTS.value, f'{SECTION} ({_ENV.value})', [
        f'Measured on {reporting.device_name()}, {reporting.today()}, with '
        f'{reporting.command_line()} (jax {jax.__version__}).', ''] + lines)


if __name__ == '__main__':
  launch.run_app(main)
