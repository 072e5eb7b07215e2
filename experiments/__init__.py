"""Named experiments: each module defines `DESCRIPTION` and `RUNS`, a mapping
from a label to an `il_jax.experiment.RunConfig`; `python -m launch.reproduce
--experiment=<module>` runs them and writes the table and plot to RESULTS.md.
"""
