"""DAgger on Walker2d acting with a moving average of the policy parameters.

With normalised observations (`walker2d_normalized_observations`) the
Gaussian MLP's DAgger ends the CS285 protocol at 97 % of the expert on one
set of 5 seeds and 90 % on another, and its return swings by 10-20 % from
one iteration to the next. Adam at the protocol's constant learning rate of
5e-3 and batch 100 leaves the last iterate noisy; here the policy collects
and is evaluated with an exponential moving average of its parameters
(decay 0.995 or 0.99 per gradient step: about the last 200 or 100 of each
iteration's 1000 steps) while training goes on from the last iterate, as
diffusion policies are usually deployed. Same two seed sets; the runs
without the average are `walker2d_normalized_observations`'.
"""

import dataclasses

from experiments import walker2d_normalized_observations

DESCRIPTION = ('Walker2d: DAgger with a moving average of the parameters '
               '(5 + 5 seeds)')
EMA_DECAYS = (0.995, 0.99)
_RUNS = walker2d_normalized_observations.RUNS


def _averaged(label: str, decay: float):
  run = _RUNS[label]
  return dataclasses.replace(run, imitation=dataclasses.replace(
      run.imitation, ema_decay=decay))


RUNS = {}
for _label in ('DAgger gaussian (normalised)',
               'DAgger gaussian (normalised, other seeds)'):
  RUNS[_label] = _RUNS[_label]
  for _decay in EMA_DECAYS:
    RUNS[_label.replace('normalised', f'normalised, EMA {_decay}')] = (
        _averaged(_label, _decay))
