"""BC and DAgger on Walker2d from noisy demonstrations (DART).

`walker2d_bc_vs_dagger` puts BC further below the published reference (14 %
against ~43 % of the expert) than DAgger (88 % against ~96 %). One
explanation is our expert's very regular gait: two noiseless trajectories
cover a narrow tube of states, and the clone never sees a correction. Here
the expert demonstrates with Gaussian noise of std 0.1 or 0.3 on the actions
it executes, while its noiseless actions label every step (Laskey et al.
2017), so the demonstrations visit the states the expert's own errors lead
to and show how it recovers. Everything else is the CS285 protocol of
`walker2d_bc_vs_dagger` (MSE MLP); the noiseless runs are that experiment's.
5 seeds per method.
"""

import dataclasses

from experiments import walker2d_bc_vs_dagger

DESCRIPTION = 'Walker2d: BC and DAgger from noisy demonstrations (5 seeds)'
NOISE_LEVELS = (0.1, 0.3)


def _with_noise(label: str, noise: float):
  run = walker2d_bc_vs_dagger.RUNS[label]
  return dataclasses.replace(run, imitation=dataclasses.replace(
      run.imitation, demo_noise=noise))


RUNS = {
    'BC': walker2d_bc_vs_dagger.RUNS['BC'],
    **{f'BC (demo noise {noise})': _with_noise('BC', noise)
       for noise in NOISE_LEVELS},
    'DAgger': walker2d_bc_vs_dagger.RUNS['DAgger'],
    **{f'DAgger (demo noise {noise})': _with_noise('DAgger', noise)
       for noise in NOISE_LEVELS},
}
