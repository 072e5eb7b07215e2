"""tools.expert_card's account of how an expert was trained.

Run in a subprocess: its flags (`--seed`, `--out`) share names with other
launch scripts that tests import.
"""

import json
import subprocess
import sys

from launch_scripts import REPO

_DESCRIBE = '''
import json, sys
from tools import expert_card
cards = json.loads(sys.argv[1])
print(json.dumps([[expert_card._mjx_simulator(c), expert_card._selection(c)]
                  for c in cards]))
'''


def test_the_card_says_how_each_trainer_chose_its_policy():
  ppo = {'algorithm': 'ppo', 'env_options': {'solver': 'faithful'},
         'env_steps': 1280, 'config': {'total_env_steps': 2_000_000}}
  # A card without 'export' predates it: the run exported its last policy.
  best = dict(ppo, export='best', env_steps=640, final_env_steps=1280)
  cards = [dict(ppo, finished=True), dict(ppo, finished=False),
           {'algorithm': 'sac', 'env_options': {}},
           dict(best, finished=True), dict(best, finished=False),
           dict(ppo, export='last', finished=True)]
  done = subprocess.run([sys.executable, '-c', _DESCRIBE, json.dumps(cards)],
                        cwd=REPO, capture_output=True, text=True, check=True)
  ((faithful, finished), (_, stopped), (fast, sac), (_, best_finished),
   (_, best_stopped), (_, last)) = json.loads(
       done.stdout.strip().splitlines()[-1])
  assert faithful == 'MJX Walker2d, `faithful` preset'
  assert fast == 'MJX Walker2d, `fast` preset'
  assert finished == 'the policy at the end of training (1,280 env steps)'
  assert last == finished
  assert 'after 1,280 of 2,000,000 planned env steps' in stopped
  assert 'beats every earlier one' in sac
  assert best_finished.startswith(
      'the evaluated policy that beat every other, after 640 env steps, up '
      'to the end of training (1,280 env steps)')
  assert 'up to the `--max_wallclock_s` stop after 1,280 of 2,000,000' in (
      best_stopped)
