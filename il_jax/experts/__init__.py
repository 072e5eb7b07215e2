"""Expert policies: `load(name)` gives `expert_fn(obs) -> action`; PPO
(`ppo`, `ppo_networks`) trains experts for environments without one."""

from il_jax.experts.registry import load
from il_jax.experts.registry import registered_names

__all__ = ['load', 'registered_names']
