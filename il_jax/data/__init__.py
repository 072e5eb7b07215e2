"""Imitation data: demonstrations and their files, the fixed-capacity
on-device dataset, and observation normalisation. Hindsight goal
relabelling of a rollout is `il_jax.data.relabel`."""

from il_jax.data.dataset import add
from il_jax.data.dataset import add_masked
from il_jax.data.dataset import create
from il_jax.data.dataset import Dataset
from il_jax.data.dataset import gather
from il_jax.data.dataset import gather_extras
from il_jax.data.dataset import overflowed
from il_jax.data.dataset import sample
from il_jax.data.dataset import sample_indices
from il_jax.data.demonstrations import Demonstrations
from il_jax.data.demonstrations import load_demonstrations
from il_jax.data.demonstrations import save_demonstrations
from il_jax.data.normalization import compute_row_stats
from il_jax.data.normalization import compute_stats
from il_jax.data.normalization import identity_stats
from il_jax.data.normalization import normalize
from il_jax.data.normalization import NormalizerStats

__all__ = [
    'Dataset',
    'Demonstrations',
    'NormalizerStats',
    'add',
    'add_masked',
    'compute_row_stats',
    'compute_stats',
    'create',
    'gather',
    'gather_extras',
    'identity_stats',
    'load_demonstrations',
    'normalize',
    'overflowed',
    'sample',
    'sample_indices',
    'save_demonstrations',
]
