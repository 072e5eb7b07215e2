"""What a user sees from the launch scripts: one-line errors, --help, the
workdir rules, and no noise from optional dependencies."""

import os
import subprocess
import sys

import pytest

from launch_scripts import REPO, run_module

TINY = ('--env=tightrope', '--n_iter=1', '--num_envs=2',
        '--expert_steps_per_env=20', '--steps_per_iter=40',
        '--train_steps_per_iter=5', '--eval_episodes=2',
        '--episode_length=20')


def test_help_exits_0_and_lists_the_env_and_policy_choices():
  result = run_module('launch.train', '--help')
  assert result.returncode == 0, result.stderr
  text = ' '.join(result.stdout.split())  # absl wraps the help lines
  assert ("Environment, one of ['fork', 'reach', 'tightrope', 'walker2d']"
          in text)
  assert "Policy family, one of ['autoregressive', 'cvae'," in text
  assert 'Failed to import' not in result.stdout + result.stderr


@pytest.mark.parametrize('args, message', [
    (('--learning_rate=nan',), '--learning_rate=nan is not valid'),
    (('--learning_rate=inf',), '--learning_rate=inf is not valid'),
    (('--max_grad_norm=nan',), '--max_grad_norm=nan is not valid'),
    (('--algo=hg_dagger', '--threshold_quantile=nan'),
     '--threshold_quantile=nan is not valid'),
    (('--workdir=/etc/hostname',), '--workdir=/etc/hostname is not a '
                                   'directory'),
    (('--resume', '--overwrite'), '--resume continues the run'),
])
def test_usage_errors_are_one_line(tmp_path, args, message):
  workdir = () if any(a.startswith('--workdir') for a in args) else (
      f'--workdir={tmp_path}',)
  result = run_module('launch.train', *TINY, *workdir, *args)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
      f'launch.train: error: {result.stderr.split("error: ", 1)[1].strip()}']
  assert message in result.stderr


def test_the_workdir_rules(tmp_path):
  workdir = f'--workdir={tmp_path / "run"}'
  fresh = run_module('launch.train', *TINY, workdir, '--resume')
  assert fresh.returncode == 0, fresh.stderr
  assert f'No checkpoint in {tmp_path / "run"}: starting a fresh run.' in (
      fresh.stdout)
  assert 'compiling the dagger iteration (first call)...' in fresh.stdout
  again = run_module('launch.train', *TINY, workdir)
  assert again.returncode == 2
  assert 'holds a run' in again.stderr and len(
      again.stderr.strip().splitlines()) == 1
  changed = run_module('launch.train', *TINY, workdir, '--resume',
                       '--learning_rate=0.001')
  assert changed.returncode == 2
  assert 'imitation.learning_rate: 0.005 → 0.001' in changed.stderr
  replaced = run_module('launch.train', *TINY, workdir, '--overwrite',
                        '--learning_rate=0.001')
  assert replaced.returncode == 0, replaced.stderr


def test_installed_launch_scripts_run_from_any_directory(tmp_path):
  # What `pip install .` installs: the packages and the console scripts.
  subprocess.run([sys.executable, 'setup.py', '--quiet', 'egg_info',
                  '--egg-base', str(tmp_path)], cwd=REPO, check=True,
                 capture_output=True, timeout=600)
  info = tmp_path / 'il_jax.egg-info'
  assert set((info / 'top_level.txt').read_text().split()) == {
      'experiments', 'il_jax', 'launch'}
  assert 'il-jax-train = launch.entry_points:train' in (
      info / 'entry_points.txt').read_text()
  # The console script's function, called from another directory.
  result = subprocess.run(
      [sys.executable, '-c', 'from launch import entry_points; '
       'entry_points.train()', '--help'], cwd=str(tmp_path),
      env={**os.environ, 'PYTHONPATH': REPO}, capture_output=True, text=True,
      timeout=600)
  assert result.returncode == 0, result.stderr
  assert '--workdir' in result.stdout


def test_mjx_warp_lines_are_dropped_and_our_warnings_kept():
  result = subprocess.run(
      [sys.executable, '-c', 'import warnings; import il_jax.envs; '
       "print('ours'); warnings.warn('our warning')"], cwd=REPO,
      capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr
  assert 'Failed to import' not in result.stdout + result.stderr
  assert result.stdout.strip() == 'ours'
  assert 'UserWarning: our warning' in result.stderr


def test_the_readme_fork_example_is_the_one_that_passes_the_obstacle():
  # fork_policy_families: mog passes in 80 % of BC runs and 100 % of DAgger
  # runs, which is what the README's policy text says of it.
  with open(os.path.join(REPO, 'README.md')) as f:
    lines = [l for l in f if '--env=fork' in l and 'launch.train' in l]
  assert lines and all('--algo=dagger' in l and '--policy=mog' in l
                       for l in lines)
