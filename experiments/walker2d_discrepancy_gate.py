"""HG-DAgger's discrepancy gate on Walker2d at a stricter threshold.

On tightrope (`tightrope_discrepancy_gate`) the 0.9-quantile threshold of
`walker2d_label_efficiency` takes over so early that the learner seldom
reaches the states where it fails; the 0.99 quantile halves the labels
needed. The same comparison on Walker2d's CS285 protocol (10 iterations,
5 seeds); the 0.9 run is the same program as `walker2d_label_efficiency`'s.
"""

from experiments import discrepancy_gate_runs
from experiments import walker2d_label_efficiency

DESCRIPTION = 'Walker2d: the discrepancy gate\'s threshold (5 seeds)'
X_AXIS = 'Expert_Labels'

RUNS = discrepancy_gate_runs(walker2d_label_efficiency.RUNS,
                             ((0.9, 10), (0.99, 10)))
