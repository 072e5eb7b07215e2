"""Environments with brax's interface: Walker2d on MJX and toy MDPs."""

from il_jax.envs.episodes import episode_stats
from il_jax.envs.episodes import summarize_episodes
from il_jax.envs.registry import action_bounds
from il_jax.envs.registry import env_class
from il_jax.envs.registry import make
from il_jax.envs.registry import outside_bounds
from il_jax.envs.registry import registered_names
from il_jax.envs.views import LearnerView
from il_jax.envs.views import learner_view
from il_jax.envs.wrappers import AutoResetWrapper
from il_jax.envs.wrappers import ENV_AXIS
from il_jax.envs.wrappers import ShardEnvsWrapper
from il_jax.envs.wrappers import wrap

__all__ = [
    'AutoResetWrapper',
    'ENV_AXIS',
    'LearnerView',
    'ShardEnvsWrapper',
    'action_bounds',
    'env_class',
    'episode_stats',
    'learner_view',
    'make',
    'outside_bounds',
    'registered_names',
    'summarize_episodes',
    'wrap',
]
