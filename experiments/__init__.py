"""Named experiments: each module defines `DESCRIPTION` and `RUNS`, a mapping
from a label to an `il_jax.experiment.RunConfig`; `python -m launch.reproduce
--experiment=<module>` runs them and writes the table and plot to RESULTS.md.
"""

import dataclasses

from il_jax.algorithms.hg_dagger import HGDAggerConfig
from il_jax.config import ImitationConfig
from il_jax.experiment import RunConfig

# The first shipped Walker2d expert (SAC, 900,000 steps; 4313 on the `fast`
# preset). Every Walker2d experiment measured before the 5187 expert became
# the default ran with it, and stays pinned to it so its table reproduces
# (digit for digit on the same CPU; elsewhere in distribution, see
# RESULTS.md, "Reproducing a table").
FIRST_WALKER2D_EXPERT = 'walker2d_sac_900k'
# Walker2d's `fast` solver preset: every Walker2d table measured before the
# `gpu` preset became the default ran on it, and stays pinned to it.
FAST_PRESET = (('solver', 'fast'),)


def label_efficiency_runs(env: str, imitation: ImitationConfig,
                          num_seeds: int, expert: str | None = None,
                          env_options: tuple = ()) -> dict[str, RunConfig]:
  """BC, DAgger and HG-DAgger with each gate on one protocol, with `expert`
  (see `RunConfig.expert`) and the environment's `env_options`.

  HG-DAgger takes over where the gate value exceeds the 0.9 quantile of the
  previous iteration's values and drives for 10 steps (window release); the
  ensemble gate uses an ensemble policy (5 MLPs by default: the mean action
  drives, the members' disagreement gates).
  """

  def hg(gate: str) -> HGDAggerConfig:
    return HGDAggerConfig(**dataclasses.asdict(imitation), gate=gate,
                          threshold_quantile=0.9, min_control_steps=10)

  def run(algo, config, policy='mlp'):
    return RunConfig(algo=algo, env=env, env_options=env_options,
                     policy=policy, num_seeds=num_seeds, imitation=config,
                     expert=expert)

  return {
      'BC': run('bc', imitation),
      'DAgger': run('dagger', imitation),
      'HG-DAgger (discrepancy)': run('hg_dagger', hg('discrepancy')),
      'HG-DAgger (safety)': run('hg_dagger', hg('safety')),
      'HG-DAgger (ensemble)': run('hg_dagger', hg('ensemble'), 'ensemble'),
  }


def discrepancy_gate_runs(label_efficiency: dict[str, RunConfig],
                          variants: tuple[tuple[float, int], ...]
                          ) -> dict[str, RunConfig]:
  """The discrepancy-gated HG-DAgger run of `label_efficiency_runs` with
  each `(threshold_quantile, min_control_steps)` of `variants`."""
  base = label_efficiency['HG-DAgger (discrepancy)']
  return {
      f'quantile {quantile}, window {window}': dataclasses.replace(
          base, imitation=dataclasses.replace(
              base.imitation, threshold_quantile=quantile,
              min_control_steps=window))
      for quantile, window in variants
  }
