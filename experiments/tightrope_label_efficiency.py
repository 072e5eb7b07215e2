"""Expert labels needed on tightrope: BC, DAgger and HG-DAgger with each gate.

The CS285-sized tightrope protocol of `tightrope_bc_vs_dagger` (2
demonstrations, 2 learner episodes of 200 steps per iteration, 10
iterations, 5 seeds). HG-DAgger aggregates only the steps the expert drove:
it takes over where the gate value exceeds the 0.9 quantile of the previous
iteration's values and drives for 10 steps (window release). The ensemble
gate uses an ensemble of 5 MLPs (mean action drives; members' disagreement
gates).
"""

import dataclasses

from il_jax.config import HGDAggerConfig, ImitationConfig
from il_jax.experiment import RunConfig

DESCRIPTION = 'tightrope: return against expert labels (5 seeds)'
X_AXIS = 'Expert_Labels'
_LENGTH = 200
_IMITATION = ImitationConfig(
    n_iter=10, num_envs=2, expert_steps_per_env=_LENGTH,
    steps_per_iter=2 * _LENGTH, train_steps_per_iter=1000,
    train_batch_size=100, learning_rate=5e-3, eval_episodes=16,
    episode_length=_LENGTH)


def _hg(gate: str) -> HGDAggerConfig:
  return HGDAggerConfig(**dataclasses.asdict(_IMITATION), gate=gate,
                        threshold_quantile=0.9, min_control_steps=10)


def _run(algo, imitation, policy='mlp'):
  return RunConfig(algo=algo, env='tightrope', policy=policy, num_seeds=5,
                   imitation=imitation)


RUNS = {
    'BC': _run('bc', _IMITATION),
    'DAgger': _run('dagger', _IMITATION),
    'HG-DAgger (discrepancy)': _run('hg_dagger', _hg('discrepancy')),
    'HG-DAgger (safety)': _run('hg_dagger', _hg('safety')),
    'HG-DAgger (ensemble)': _run('hg_dagger', _hg('ensemble'), 'ensemble'),
}
