"""tools.bench: rows written as measured, the loop timed at chosen batches.

Run as subprocesses: the script's flags (`--env`, `--out`, ...) share names
with other launch scripts that tests import.
"""

import json
import os

from launch import reporting
from launch_scripts import run_module


def _bench(*args):
  return run_module('tools.bench', *args)


def _table(path, section):
  """The data rows (cells) of `## section`'s table in `path`."""
  return reporting.read_table(path, section)[1:]


def test_bench_times_the_loop_only_at_the_batches_asked_for(tmp_path):
  markdown, out = str(tmp_path / 'B.md'), str(tmp_path / 'bench.json')
  done = _bench('--env=tightrope', '--batch_sizes=8,16',
                '--loop_batch_sizes=16', '--num_steps=20', '--repeats=1',
                '--train_steps_per_iter=10', f'--markdown={markdown}',
                f'--out={out}')
  assert done.returncode == 0, done.stderr[-3000:]
  raw = _table(markdown, 'Environment throughput (random actions)')
  loop = _table(markdown, 'DAgger loop throughput against raw stepping')
  assert [r[2] for r in raw] == ['8', '16']
  assert [r[2] for r in loop] == ['16']
  results = json.load(open(out))
  assert [r['batch_size'] for r in results['dagger_loop']] == [16]
  assert 0 < results['dagger_loop'][0]['fraction_of_raw']
  assert loop[0][-3] == reporting.device_name()


def test_bench_refuses_a_loop_batch_it_does_not_step_raw(tmp_path):
  markdown = str(tmp_path / 'B.md')
  done = _bench('--env=tightrope', '--batch_sizes=8', '--loop_batch_sizes=16',
                f'--markdown={markdown}')
  assert done.returncode != 0
  assert '[16] are not in --batch_sizes [8]' in done.stderr
  assert not os.path.exists(markdown)
