"""Measures an exported Walker2d expert and writes its EXPERT_CARD.md.

  python -m tools.expert_card --expert_dir=il_jax/experts/assets/walker2d
  python -m tools.expert_card --expert_dir=runs/expert/expert --out=runs/expert/EXPERT_CARD.md

Evaluates the deterministic expert over `--episodes` full episodes on our MJX
Walker2d with the `fast` and the `faithful` preset (the function
`il_jax.experts.load` returns, all episodes in parallel), and over the same
number of episodes of Gymnasium's Walker2d with the exported NumPy file
`<expert_dir>/policy` (what a user outside il_jax gets). The card combines
those figures with the training record in `<expert_dir>/card.json`, and
stores them there too, under "evaluation". The card ends with a table of
the other shipped Walker2d experts, from the evaluations their own cards
store.
"""

import json
import os

from absl import app, flags

from il_jax import envs, evaluation, experts
from il_jax.gymnasium_evaluation import evaluate_gymnasium, summarize
from launch import reporting
import launch

_EXPERT_DIR = flags.DEFINE_string(
    'expert_dir', experts.registry.shipped_directory('walker2d'),
    'An expert export: card.json, params/ and policy.{npz,json}.')
_EPISODES = flags.DEFINE_integer('episodes', 64, 'Episodes per simulator.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the initial states.')
_OUT = flags.DEFINE_string('out', 'EXPERT_CARD.md', 'Card to write.')


def main(argv):
  launch.quiet_logs()
  launch.configure_jax()
  del argv
  expert_dir = _EXPERT_DIR.value
  _, _, card = experts.load_export(expert_dir)
  version = card.get('env_options', {}).get('version', 'v4')
  n = _EPISODES.value
  measured = {}
  for solver in ('fast', 'faithful'):
    measured[f'MJX Walker2d-{version}, `{solver}` preset'] = (
        evaluation.evaluate_in(
            experts.load('walker2d', directory=expert_dir),
            envs.make('walker2d', version=version, solver=solver), n,
            _SEED.value))
    print(solver, measured[f'MJX Walker2d-{version}, `{solver}` preset'],
          flush=True)
  measured[f'Gymnasium Walker2d-{version} (C MuJoCo, NumPy policy file)'] = (
      summarize(evaluate_gymnasium(os.path.join(expert_dir, 'policy'),
                                   version, n, _SEED.value)))
  card['evaluation'] = {
      'episodes': n, 'seed': _SEED.value, 'device': reporting.device_name(),
      'date': reporting.today(), 'command': reporting.command_line(),
      'results': measured}
  with open(os.path.join(expert_dir, 'card.json'), 'w') as f:
    json.dump(card, f, indent=2)

  spec = card['policy_spec']
  config = card.get('config', {})
  shipped_name = _shipped_name(expert_dir)
  where = (f"The expert shipped in `il_jax/experts/assets/{shipped_name}/`, "
           f"loaded by `il_jax.experts.load('{shipped_name}')`"
           if shipped_name else
           f"The expert exported to `{expert_dir}`, loaded by "
           f"`il_jax.experts.load('walker2d', directory='{expert_dir}')`")
  lines = [
      '# Walker2d expert card', '',
      f"{where}: a tanh-Gaussian MLP "
      f"({'x'.join(str(s) for s in spec['hidden_sizes'])}, "
      f"{spec['activation']}) acting with `tanh(loc)`, "
      f"{spec['observation_size']} observations to "
      f"{spec['action_size']} actions.", '',
      f'## Return over {n} full episodes (deterministic, 1000-step limit)', '',
      '| simulator | return mean | return std | mean episode length |',
      '|---|---|---|---|']
  for name, m in measured.items():
    lines.append(f"| {name} | {m['return_mean']:.1f} | {m['return_std']:.1f} "
                 f"| {m['length_mean']:.1f} |")
  lines += [
      '', f"Measured on {reporting.device_name()}, {reporting.today()}, with "
      f"{reporting.command_line()}.", '',
      '## Training', '',
      f"- Algorithm: {card['algorithm'].upper()}, trained in "
      f"{card.get('simulator', _mjx_simulator(card))}.",
      f"- Environment steps: {card['env_steps']:,}"
      + (f"; gradient steps: {card['gradient_steps']:,}"
         if 'gradient_steps' in card else '') + '.',
      f"- Wall-clock: {card['wallclock_s'] / 60:.1f} min on {card['device']}.",
      f"- Seed: {card['seed']}.",
      f"- Selection: {_selection(card)}; it scored "
      f"{card['eval']['Eval_AverageReturn']:.1f} ± "
      f"{card['eval']['Eval_StdReturn']:.1f} over "
      f"{int(card['eval']['Eval_NumEpisodes'])} episodes during training.",
      '- Hyper-parameters: ' + ', '.join(
          f'{k}={v}' for k, v in sorted(config.items())) + '.',
  ]
  if 'command' in card:
    lines.append(f"- Command: `{card['command']}`")
  if 'notes' in card:
    lines.append(f"- Notes: {card['notes']}")
  if card['algorithm'] == 'sac':
    lines += [
        '', '## Why SAC on a CPU', '',
        'The plan was PPO on a GPU on our MJX `fast` preset '
        '(`launch/train_expert.py`, target >= 5000 in <= 10 min on one '
        'H100). No session that built this code had a GPU, and MJX on a '
        'CPU steps about a thousand env-steps/s, too slow for PPO\'s '
        '10^7+ steps. SAC needs about 10^6 steps, which Gymnasium\'s C '
        'MuJoCo delivers on one CPU core at the cost of one gradient step '
        'per environment step (`launch/train_expert_gymnasium.py`). The '
        'expert therefore learned on Gymnasium\'s physics, not on MJX; '
        'the table above shows how well it transfers to both presets.']
  lines += _other_experts(shipped_name)
  with open(_OUT.value, 'w') as f:
    f.write('\n'.join(lines) + '\n')
  print(f'wrote {_OUT.value}')


def _mjx_simulator(card: dict) -> str:
  """Where `launch/train_expert.py` trained, from its card."""
  options = dict(card.get('env_options') or {})
  solver = options.pop('solver', 'fast')  # walker2d's default preset
  rest = ''.join(f', {k}={v}' for k, v in sorted(options.items()))
  return f'MJX Walker2d, `{solver}` preset{rest}'


def _selection(card: dict) -> str:
  """How the exported policy was chosen, by trainer."""
  if card['algorithm'] == 'sac':
    return ('the run exports the policy at each evaluation that beats every '
            'earlier one')
  total = card.get('config', {}).get('total_env_steps')
  final_steps = card.get('final_env_steps', card['env_steps'])
  if card.get('finished', True) or total is None:
    end = f'the end of training ({final_steps:,} env steps)'
  else:
    end = (f"the `--max_wallclock_s` stop after {final_steps:,} of "
           f"{total:,} planned env steps (its learning rate not yet "
           'annealed)')
  # Cards written before `--export` exported the last policy.
  if card.get('export', 'last') == 'last':
    return f'the policy at {end}'
  return (f"the evaluated policy that beat every other, after "
          f"{card['env_steps']:,} env steps, up to {end}, so the score that "
          'follows is the best of several noisy evaluations (the table above '
          'is the one to quote)')


def _shipped_name(expert_dir: str) -> str | None:
  """The shipped expert's name if `expert_dir` is one, else None."""
  name = os.path.basename(os.path.normpath(expert_dir))
  shipped = experts.registry.shipped_directory(name)
  if os.path.abspath(expert_dir) == os.path.abspath(shipped):
    return name
  return None


def _other_experts(name: str | None) -> list[str]:
  """Lines of a table of the shipped Walker2d experts other than `name`, with
  the MJX `fast` return their cards' evaluations hold."""
  rows = []
  for other in experts.shipped_names('walker2d'):
    if other == name:
      continue
    _, _, card = experts.load_export(experts.export_directory(other))
    results = card.get('evaluation', {}).get('results', {})
    fast = next((m for label, m in results.items() if '`fast`' in label),
                None)
    measured = (f"{fast['return_mean']:.1f} ± {fast['return_std']:.1f}"
                if fast else 'not measured')
    rows.append(
        f"| `{other}` | {card['algorithm'].upper()}, "
        f"{card['env_steps']:,} env steps, seed {card['seed']} | {measured} | "
        f"`il_jax.experts.load('{other}')`, `--expert={other}` |")
  if not rows:
    return []
  return ['', '## Other shipped Walker2d experts', '',
          '| name | training | return on MJX `fast` (card) | use |',
          '|---|---|---|---|'] + rows


if __name__ == '__main__':
  launch.run_app(main)
