"""Expert policies: `load(name)` gives `expert_fn(obs) -> action` (and
`resolve(expert, env)` any expert a run names), and
`load_stochastic(name)` a noisy `expert_fn(obs, key)`;
`collect_demonstrations` rolls an expert out into an on-device dataset; PPO
(`ppo`, `ppo_networks`, and `ppo_run` for a resumable run that exports an
expert; on an accelerator, in MJX) and SAC (`sac`; on a CPU, in Gymnasium)
train experts for environments without one."""

from il_jax.experts.demonstrations import collect_demonstrations
from il_jax.experts.registry import export_directory
from il_jax.experts.registry import load
from il_jax.experts.registry import load_export
from il_jax.experts.registry import load_stochastic
from il_jax.experts.registry import registered_names
from il_jax.experts.registry import resolve
from il_jax.experts.registry import shipped_names

__all__ = [
    'collect_demonstrations',
    'export_directory',
    'load',
    'load_export',
    'load_stochastic',
    'registered_names',
    'resolve',
    'shipped_names',
]
