"""launch.ppo_vs_brax: brax's PPO and ours run on our environment with
matched updates (same env steps at every evaluation).

A subprocess: the script's flags share names with other launch scripts."""

import json

from launch_scripts import run_module


def test_both_implementations_train_on_tightrope_with_matched_updates(
    tmp_path):
  results = tmp_path / 'RESULTS.md'
  done = run_module(
      'launch.ppo_vs_brax', '--env=tightrope', '--total_env_steps=20480',
      '--num_evals=2', '--num_envs=64', '--unroll_length=16', '--seeds=0',
      '--eval_episodes=4', '--impl=ours,ours_adaptive_lr,brax',
      f'--out={tmp_path}', f'--results={results}')
  assert done.returncode == 0, done.stderr[-3000:]
  curves = {}
  for impl in ('ours', 'ours_adaptive_lr', 'brax'):
    with open(tmp_path / f'tightrope_{impl}_seed0.json') as f:
      curves[impl] = json.load(f)['curve']
  assert [s for s, _ in curves['ours']] == [10240, 20480]
  assert [s for s, _ in curves['brax']] == [10240, 20480]
  assert [s for s, _ in curves['ours_adaptive_lr']] == [10240, 20480]
  # A different learner from the same seed: a different curve.
  assert curves['ours_adaptive_lr'] != curves['ours']
  text = results.read_text()
  assert "## PPO against brax's PPO (tightrope)" in text
  rows = {line.split(' | ')[0][2:]: line.split(' | ')
          for line in text.splitlines()[1:] if line.startswith('| ')}
  assert set(rows) == {'implementation', 'ours', 'ours_adaptive_lr', 'brax'}
  # Seeds, two evaluations, the final return per seed (the last
  # evaluation's) and the minutes per seed.
  final = curves['ours_adaptive_lr'][-1][1]
  assert rows['ours_adaptive_lr'][1] == '0'
  assert rows['ours_adaptive_lr'][3] == f'{final:.0f} ± 0'
  assert rows['ours_adaptive_lr'][4] == f'{final:.0f}'
  assert 'ours, ours_adaptive_lr, brax at 10,240, 20,480' in text
