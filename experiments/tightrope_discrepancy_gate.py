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

from experiments import discrepancy_gate_runs
from experiments import tightrope_label_efficiency

DESCRIPTION = 'tightrope: the discrepancy gate\'s threshold and window (5 seeds)'
X_AXIS = 'Expert_Labels'

RUNS = discrepancy_gate_runs(tightrope_label_efficiency.RUNS,
                             ((0.9, 10), (0.9, 1), (0.99, 10)))
