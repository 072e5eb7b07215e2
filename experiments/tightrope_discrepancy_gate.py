"""Why HG-DAgger's discrepancy gate needs many labels on tightrope.

The gate of `tightrope_label_efficiency` (take over where the learner's and
the expert's actions differ by more than the 0.9 quantile of the previous
iteration's differences, and drive for 10 steps) against a stricter
threshold (the 0.99 quantile) and a 1-step window, on the same protocol
(CS285-sized tightrope, 10 iterations, 5 seeds). A low threshold takes
control while the learner is still near the expert's states, so the learner
seldom reaches the states where it fails, which are the ones it needs
labelled.
"""

import dataclasses

from experiments import tightrope_label_efficiency

DESCRIPTION = 'tightrope: the discrepancy gate\'s threshold and window (5 seeds)'
X_AXIS = 'Expert_Labels'
_BASE = tightrope_label_efficiency.RUNS['HG-DAgger (discrepancy)']


def _variant(**changes):
  return dataclasses.replace(
      _BASE, imitation=dataclasses.replace(_BASE.imitation, **changes))


RUNS = {
    'quantile 0.9, window 10': _BASE,
    'quantile 0.9, window 1': _variant(min_control_steps=1),
    'quantile 0.99, window 10': _variant(threshold_quantile=0.99),
}
