"""`walker2d_stronger_expert` on the default `gpu` solver preset.

The same runs (BC and DAgger with the MSE and the Gaussian MLP, the
normalised and parameter-averaged recipes, the 5187 expert, the CS285
protocol, 5 seeds each) with Walker2d's default preset instead of the
`fast` preset that table is pinned to: how much the GPU's cheaper solver
setting moves the headline results.
"""

import dataclasses

from experiments import walker2d_stronger_expert

DESCRIPTION = ('Walker2d: BC vs DAgger with the 5187 expert on the `gpu` '
               'preset (CS285 protocol, 5 seeds)')

RUNS = {
    label: dataclasses.replace(run, env_options=())
    for label, run in walker2d_stronger_expert.RUNS.items()
}
