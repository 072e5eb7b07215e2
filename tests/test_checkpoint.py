"""Checkpoints: verified on restore, bound to their run, datasets saved by
the rows added since the last save."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from il_jax import data
from il_jax.checkpoint import CHUNK_DIR, Checkpointer, CheckpointError


def _state(sizes, capacity=64, seed=0):
  """A state like a run's: two members' datasets (rows `[0, size_m)` filled,
  the rest zero, as `data.add_masked` leaves them) and parameters."""
  rng = np.random.default_rng(seed)
  obs = np.zeros((len(sizes), capacity, 3), np.float32)
  action = np.zeros((len(sizes), capacity, 2), np.float32)
  flag = np.zeros((len(sizes), capacity), bool)
  for m, size in enumerate(sizes):
    obs[m, :size] = np.arange(size * 3).reshape(size, 3) + 1000 * m
    action[m, :size] = -np.arange(size * 2).reshape(size, 2) - 1000 * m
    flag[m, :size] = np.arange(size) % 3 == 0
  dataset = data.Dataset(
      obs=jnp.asarray(obs), action=jnp.asarray(action),
      size=jnp.asarray(sizes, jnp.int32), dropped=jnp.zeros(len(sizes),
                                                            jnp.int32),
      extras={'expert_controlled': jnp.asarray(flag)})
  return {'params': jnp.asarray(rng.normal(size=(len(sizes), 5)),
                                jnp.float32),
          'dataset': dataset, 'empty': jnp.zeros((len(sizes), 0))}


def _assert_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, a, b)


def _data_files(directory):
  return [os.path.join(root, name) for root, _, names in os.walk(directory)
          for name in names]


def _largest_file(directory):
  return max(_data_files(directory), key=os.path.getsize)


def test_datasets_are_saved_by_the_rows_added_and_restore_exactly(tmp_path):
  # Members grow unevenly (HG-DAgger aggregates only interventions).
  checkpointer = Checkpointer(str(tmp_path), max_to_keep=2, run_id='a')
  history = [(10, 4), (20, 4), (25, 30), (25, 30), (40, 31)]
  for step, sizes in enumerate(history, start=1):
    checkpointer.save(step, _state(sizes, seed=step))
  chunks = os.path.join(checkpointer.directory, CHUNK_DIR)
  # No chunk where no row was added; only the kept checkpoints remain.
  assert sorted(os.listdir(chunks), key=int) == ['1', '2', '3', '5']
  assert sorted(os.listdir(checkpointer.directory)) == ['4', '5', CHUNK_DIR]
  chunk = np.load(os.path.join(chunks, '5', '0.obs.npy'))
  assert chunk.shape == (2, 40 - 25, 3)  # rows [25, 40): since the last save
  restored = Checkpointer(str(tmp_path), run_id='a').restore(
      5, jax.eval_shape(lambda: _state(history[-1])))
  _assert_equal(restored, _state(history[-1], seed=5))


def test_a_restored_checkpointer_continues_the_chunks(tmp_path):
  first = Checkpointer(str(tmp_path), run_id='a')
  first.save(1, _state((8, 8)))
  first.save(2, _state((16, 12)))
  like = jax.eval_shape(lambda: _state((0, 0)))
  resumed = Checkpointer(str(tmp_path), run_id='a')
  resumed.restore(2, like)
  resumed.save(3, _state((24, 20), seed=3))
  _assert_equal(Checkpointer(str(tmp_path), run_id='a').restore(3, like),
                _state((24, 20), seed=3))


def test_a_flipped_bit_is_reported_and_the_previous_checkpoint_restored(
    tmp_path):
  checkpointer = Checkpointer(str(tmp_path), run_id='a')
  checkpointer.save(1, _state((8, 8), seed=1))
  checkpointer.save(2, _state((16, 8), seed=2))
  path = _largest_file(os.path.join(checkpointer.directory, '2', 'state'))
  with open(path, 'r+b') as f:
    f.seek(os.path.getsize(path) // 2)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 1]))
  messages = []
  step, state = Checkpointer(str(tmp_path), run_id='a').restore_latest(
      jax.eval_shape(lambda: _state((0, 0))), messages.append)
  assert step == 1
  _assert_equal(state, _state((8, 8), seed=1))
  assert len(messages) == 1 and '\n' not in messages[0]
  assert messages[0].startswith(f'Checkpoint 2 in {checkpointer.directory} ')
  assert messages[0].endswith('skipped, restoring checkpoint 1 instead.')


@pytest.mark.parametrize('damage', ['truncate', 'chunk', 'empty', 'delete'])
def test_no_intact_checkpoint_is_refused_in_one_line(tmp_path, damage):
  checkpointer = Checkpointer(str(tmp_path), max_to_keep=1, run_id='a')
  checkpointer.save(1, _state((8, 8)))
  checkpointer.save(2, _state((16, 8)))
  step_dir = os.path.join(checkpointer.directory, '2')
  if damage == 'truncate':
    for path in _data_files(os.path.join(step_dir, 'state')):
      with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
  elif damage == 'chunk':  # the dataset's rows of step 1
    path = os.path.join(checkpointer.directory, CHUNK_DIR, '1', '0.obs.npy')
    array = np.load(path)
    array[0, 0, 0] += 1
    np.save(path, array)
  elif damage == 'empty':  # the step's directory emptied
    for path in _data_files(step_dir):
      os.remove(path)
  else:
    os.remove(os.path.join(checkpointer.directory, CHUNK_DIR, '2',
                           '0.action.npy'))
  with pytest.raises(CheckpointError) as error:
    Checkpointer(str(tmp_path), run_id='a').restore_latest(
        jax.eval_shape(lambda: _state((0, 0))), print)
  message = str(error.value)
  assert '\n' not in message and len(message) < 400, message
  assert message.startswith('No intact checkpoint in ')
  assert 'Checkpoint 2' in message
  assert 'another config' not in message


def test_a_checkpoint_of_another_run_is_not_restored(tmp_path):
  Checkpointer(str(tmp_path), run_id='old').save(8, _state((8, 8)))
  with pytest.raises(CheckpointError, match='Checkpoint 8 .* was written by '
                     'another run'):
    Checkpointer(str(tmp_path), run_id='new').restore(
        8, jax.eval_shape(lambda: _state((0, 0))))


def test_checkpoints_without_datasets_keep_their_layout(tmp_path):
  # ppo_run's PPO state has no dataset: no chunk directory.
  checkpointer = Checkpointer(str(tmp_path))
  state = {'w': jnp.arange(4.0), 'n': jnp.asarray(3)}
  checkpointer.save(2, state)
  assert os.listdir(checkpointer.directory) == ['2']
  _assert_equal(checkpointer.restore(2, state), state)
