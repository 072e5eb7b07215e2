"""Writing random experts in the export layout (helpers for the tests, not a
test)."""

import json
import os

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp

from il_jax.experts import ppo_networks

# Tightrope's sizes: 3 observations, 1 action.
SPEC = ppo_networks.PolicySpec(3, 1, (8,), 'tanh')


def write_export(directory: str, env: str = 'tightrope', seed: int = 0
                 ) -> ppo_networks.ExpertParams:
  """A random `SPEC` expert for `env` in `launch/train_expert.py`'s export
  layout (`card.json`, `params/`); returns its parameters."""
  keys = jax.random.split(jax.random.PRNGKey(seed), 3)
  params = ppo_networks.ExpertParams(
      policy=ppo_networks.policy_module(SPEC).init(keys[0], jnp.zeros((1, 3))),
      obs_stats=ppo_networks.RunningStats(
          count=jnp.float32(5.0), mean=jax.random.normal(keys[1], (3,)),
          var=jax.random.uniform(keys[2], (3,), minval=0.5, maxval=2.0)))
  os.makedirs(directory, exist_ok=True)
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(os.path.join(os.path.abspath(directory), 'params'),
                    params)
  checkpointer.wait_until_finished()
  with open(os.path.join(directory, 'card.json'), 'w') as f:
    json.dump({'algorithm': 'ppo', 'env': env,
               'policy_spec': SPEC.to_dict()}, f)
  return params
