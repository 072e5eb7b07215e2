"""What a checkpoint costs at GPU scale, against the iteration it follows.

  python -m tools.bench_checkpoint                  # 5 seeds, as the experiment
  python -m tools.bench_checkpoint --num_seeds=1

Builds a `TrainState`-shaped state holding the dataset of
`experiments/walker2d_bc_vs_dagger_gpu.py` (10.24 M rows per seed: a 17-float
observation, a 6-float action and a bool extra), with a 2x64 MLP's
parameters and Adam state, and times on this machine's disk:

- `whole state`: orbax writing (and reading back) every array, as the
  checkpointer did before datasets were saved incrementally;
- `incremental`: `il_jax.checkpoint.Checkpointer` over the experiment's 10
  iterations, each adding one iteration's rows (1.024 M per seed); a save is
  the mean of the saves after the first, the restore rebuilds the whole
  dataset from its chunks (checksums verified).

It estimates an iteration's time on a GPU from the experiment's config:
env-steps (collection and evaluation, all seeds) at `--env_steps_per_second`
plus `train_steps_per_iter` gradient steps at `--grad_step_seconds` each, and
appends the rows to BENCHMARKS.md ("Checkpoint cost").
"""

import os
import shutil
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from absl import flags

from experiments import walker2d_bc_vs_dagger_gpu
from il_jax import algorithms, data, policies
from il_jax.checkpoint import Checkpointer
from il_jax.types import TrainState
import launch
from launch import reporting

SECTION = 'Checkpoint cost'
_NUM_SEEDS = flags.DEFINE_integer('num_seeds', 5, 'Seeds (vmapped members).')
_ENV_STEPS_PER_SECOND = flags.DEFINE_float(
    'env_steps_per_second', 1.3e6, 'GPU env-steps/s assumed for the '
    "iteration's estimate (Walker2d with Euler and 2 Newton iterations, "
    'GPU XLA flags, 8192 environments, on an H200: BENCHMARKS.md).')
_GRAD_STEP_SECONDS = flags.DEFINE_float(
    'grad_step_seconds', 2e-4, 'GPU seconds per gradient step (all seeds '
    'vmapped) assumed for the estimate.')
_DIRECTORY = flags.DEFINE_string(
    'directory', None, 'Where to write the checkpoints (default: a temporary '
    'directory on the disk of /tmp).')
_OUT = flags.DEFINE_string('out', 'BENCHMARKS.md', 'File to append rows to.')

OBS_SIZE, ACTION_SIZE = 17, 6


def make_state(num_seeds: int, capacity: int, size: int) -> TrainState:
  """A run's state with `size` of `capacity` rows filled (random), stacked
  over `num_seeds` members."""
  config = walker2d_bc_vs_dagger_gpu.IMITATION
  policy = policies.make('mlp', OBS_SIZE, ACTION_SIZE, size=64, n_layers=2)
  params = policy.init(jax.random.PRNGKey(0), jnp.zeros((OBS_SIZE,)))
  adam = {'mu': params, 'nu': params}
  rng = np.random.default_rng(0)
  obs = np.zeros((num_seeds, capacity, OBS_SIZE), np.float32)
  action = np.zeros((num_seeds, capacity, ACTION_SIZE), np.float32)
  flag = np.zeros((num_seeds, capacity), bool)
  obs[:, :size] = rng.standard_normal((num_seeds, size, OBS_SIZE), np.float32)
  action[:, :size] = rng.standard_normal((num_seeds, size, ACTION_SIZE),
                                         np.float32)
  flag[:, :size] = rng.random((num_seeds, size)) < 0.5
  dataset = data.Dataset(
      obs=jnp.asarray(obs), action=jnp.asarray(action),
      size=jnp.full((num_seeds,), size, jnp.int32),
      dropped=jnp.zeros((num_seeds,), jnp.int32),
      extras={'expert_controlled': jnp.asarray(flag)})
  del obs, action, flag
  stack = lambda tree: jax.tree.map(
      lambda x: jnp.broadcast_to(x, (num_seeds, *jnp.shape(x))), tree)
  return TrainState(
      params=stack(params), opt_state=stack(adam), dataset=dataset,
      key=stack(jax.random.PRNGKey(1)), iteration=stack(jnp.int32(0)),
      env_steps=stack(jnp.int32(0)), expert_return=stack(jnp.float32(0)),
      expert_return_std=stack(jnp.float32(0)), algo_state=(),
      hparams=stack(algorithms.get('dagger').config(config).hyperparams()))


def grow(state: TrainState, size: int) -> TrainState:
  """`state` with rows up to `size` filled, as an iteration aggregates."""
  dataset = state.dataset
  old = int(dataset.size[0])
  new_rows = np.random.default_rng(size).standard_normal(
      (dataset.obs.shape[0], size - old, OBS_SIZE), np.float32)
  return state.replace(dataset=dataset.replace(
      obs=dataset.obs.at[:, old:size].set(new_rows),
      size=jnp.full_like(dataset.size, size)))


def _timed(fn):
  began = time.perf_counter()
  result = fn()
  return time.perf_counter() - began, result


def whole_state(directory: str, state: TrainState) -> tuple[float, float]:
  """Seconds to save and restore every array of `state` with orbax."""
  manager = ocp.CheckpointManager(
      directory, options=ocp.CheckpointManagerOptions(
          enable_async_checkpointing=False))
  leaves = [x for x in jax.tree.leaves(state) if x.size]
  save = lambda: (manager.save(1, args=ocp.args.StandardSave(leaves)),
                  manager.wait_until_finished())
  save_s, _ = _timed(save)
  abstract = [ocp.utils.to_shape_dtype_struct(x) for x in leaves]
  restore_s, restored = _timed(lambda: jax.block_until_ready(manager.restore(
      1, args=ocp.args.StandardRestore(abstract))))
  del restored
  manager.close()
  return save_s, restore_s


def incremental(directory: str, state: TrainState, n_iter: int,
                rows_per_iter: int) -> tuple[float, float, float]:
  """Seconds of the first save, of the mean later save, and of a restore
  after `n_iter` saves, each adding `rows_per_iter` rows per seed."""
  checkpointer = Checkpointer(directory, run_id='bench')
  seconds = []
  for i in range(n_iter):
    if i:
      state = grow(state, (i + 1) * rows_per_iter)
    jax.block_until_ready(state)
    seconds.append(_timed(lambda: checkpointer.save(i + 1, state))[0])
  like = jax.eval_shape(lambda: state)
  del state
  restore_s, restored = _timed(
      lambda: Checkpointer(directory, run_id='bench').restore(n_iter, like))
  del restored
  return seconds[0], float(np.mean(seconds[1:])), restore_s


def iteration_estimate() -> float:
  """Seconds of one DAgger iteration of the experiment on a GPU."""
  config = walker2d_bc_vs_dagger_gpu.IMITATION
  env_steps = (config.steps_per_iter +
               config.eval_episodes * config.episode_length) * _NUM_SEEDS.value
  return (env_steps / _ENV_STEPS_PER_SECOND.value +
          config.train_steps_per_iter * _GRAD_STEP_SECONDS.value)


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  config = walker2d_bc_vs_dagger_gpu.IMITATION
  capacity = config.dataset_capacity(aggregate=True)
  rows_per_iter = config.steps_per_iter
  num_seeds = _NUM_SEEDS.value
  root = tempfile.mkdtemp(dir=_DIRECTORY.value)
  try:
    state = make_state(num_seeds, capacity, capacity)
    gib = sum(x.nbytes for x in jax.tree.leaves(state)) / 2**30
    whole_save, whole_restore = whole_state(os.path.join(root, 'whole'),
                                            state)
    del state
    print(f'whole state ({gib:.2f} GiB): save {whole_save:.2f} s, restore '
          f'{whole_restore:.2f} s', flush=True)
    first, later, restore = incremental(
        os.path.join(root, 'incremental'),
        make_state(num_seeds, capacity, rows_per_iter), config.n_iter,
        rows_per_iter)
    print(f'incremental: first save {first:.2f} s, later saves {later:.2f} s'
          f' each, restore {restore:.2f} s', flush=True)
  finally:
    shutil.rmtree(root, ignore_errors=True)
  estimate = iteration_estimate()
  print(f'estimated GPU iteration: {estimate:.2f} s')
  rows_text = f'{num_seeds} x {capacity / 1e6:.2f} M'
  share = lambda seconds: f'{100 * seconds / estimate:.0f} %'
  common = [reporting.device_name(), reporting.today(),
            reporting.command_line()]
  reporting.append_rows(
      _OUT.value, SECTION,
      ['checkpoint', 'dataset rows (seeds x rows)', 'state GiB', 'save s',
       'restore s', 'est. GPU iteration s', 'save / iteration', 'device',
       'date', 'command'],
      [['whole state (orbax, before)', rows_text, f'{gib:.2f}',
        f'{whole_save:.2f}', f'{whole_restore:.2f}', f'{estimate:.2f}',
        share(whole_save), *common],
       [f'incremental ({rows_per_iter / 1e6:.3f} M rows/seed per save; '
        f'first save {first:.2f} s)', rows_text, f'{gib:.2f}',
        f'{later:.2f}', f'{restore:.2f}', f'{estimate:.2f}', share(later),
        *common]])
  print(f'Appended to {_OUT.value} ({SECTION}).')


if __name__ == '__main__':
  launch.run_app(main)
