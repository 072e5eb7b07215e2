"""Policies out of JAX: a framework-free file pair any NumPy code can run.

`export_ppo_expert` (a PPO expert with its normaliser) and `export_policy`
(an il_jax `mlp` or `gaussian` policy's mean network, optionally with the
`NormalizerStats` it was trained with) write `<prefix>.npz` + `<prefix>.json`
in the format documented in `il_jax/numpy_policy.py`, which reads them back
with NumPy alone. `make_jax_policy_fn` builds the same forward pass in JAX
from the file, for evaluating an exported policy in our environments.
"""

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from il_jax import numpy_policy
from il_jax.data import NormalizerStats
from il_jax.experts import ppo_networks
from il_jax.policies import base
from il_jax.types import Action, Observation, Params

_EXPORTABLE_FAMILIES = ('mlp', 'gaussian')


def export_mlp(path_prefix: str,
               layers: Sequence[tuple[Any, Any]],
               activation: str,
               output_transform: str = 'none',
               obs_mean: Any | None = None,
               obs_std: Any | None = None,
               env: Mapping[str, Any] | None = None,
               metadata: Mapping[str, Any] | None = None) -> tuple[str, str]:
  """Writes an MLP policy as `<path_prefix>.npz` + `<path_prefix>.json`.

  Args:
    path_prefix: path without extension; its directory is created.
    layers: `[(kernel [in, out], bias [out]), ...]`, hidden layers then the
      output layer.
    activation: a name in `numpy_policy.ACTIVATIONS`, after every hidden layer.
    output_transform: 'none' or 'tanh', applied to the output layer.
    obs_mean, obs_std: `[observation_size]` normaliser `(obs - mean) / std`,
      both or neither.
    env: e.g. `{'name': 'walker2d', 'version': 'v4'}`, or None if unknown.
    metadata: free-form JSON-serialisable provenance.

  Returns:
    `(npz_path, json_path)`. The pair is read back before returning, so a
    malformed export fails here with the reader's message.

  Raises:
    ValueError: for an unknown activation or output transform, mismatched
      layer shapes, or only one of `obs_mean` / `obs_std`.
  """
  if not layers:
    raise ValueError('layers is empty; expected at least the output layer.')
  if (obs_mean is None) != (obs_std is None):
    raise ValueError('Give both obs_mean and obs_std, or neither.')
  for value, choices, what in (
      (activation, numpy_policy.ACTIVATIONS, 'activation'),
      (output_transform, numpy_policy.OUTPUT_TRANSFORMS, 'output_transform')):
    if value not in choices:
      raise ValueError(f'Unknown {what} {value!r}; expected one of '
                       f'{sorted(choices)}.')
  arrays = {}
  for i, (kernel, bias) in enumerate(layers):
    arrays[f'layer_{i}_kernel'] = np.asarray(kernel, np.float32)
    arrays[f'layer_{i}_bias'] = np.asarray(bias, np.float32)
  kernels = [arrays[f'layer_{i}_kernel'] for i in range(len(layers))]
  if any(k.ndim != 2 for k in kernels):
    raise ValueError('Every kernel must be [in, out], got shapes '
                     f'{[k.shape for k in kernels]}.')
  description = {
      'format': numpy_policy.FORMAT,
      'format_version': numpy_policy.FORMAT_VERSION,
      'observation_size': int(kernels[0].shape[0]),
      'action_size': int(kernels[-1].shape[1]),
      'hidden_sizes': [int(k.shape[1]) for k in kernels[:-1]],
      'activation': activation,
      'output_transform': output_transform,
      'normalizer': None,
      'env': None if env is None else dict(env),
      'metadata': dict(metadata or {}),
  }
  if obs_mean is not None:
    arrays['obs_mean'] = np.asarray(obs_mean, np.float32)
    arrays['obs_std'] = np.asarray(obs_std, np.float32)
    description['normalizer'] = {'mean': 'obs_mean', 'std': 'obs_std'}
  npz_path, json_path = numpy_policy.paths(path_prefix)
  os.makedirs(os.path.dirname(os.path.abspath(path_prefix)), exist_ok=True)
  np.savez(npz_path, **arrays)
  with open(json_path, 'w') as f:
    json.dump(description, f, indent=2)
  numpy_policy.load_numpy_policy(path_prefix)  # Checks shapes end to end.
  return npz_path, json_path


def _dense_layers(tree: Mapping[str, Any], names: Sequence[str]):
  return [(tree[n]['kernel'], tree[n]['bias']) for n in names]


def export_ppo_expert(path_prefix: str,
                      spec: ppo_networks.PolicySpec,
                      params: ppo_networks.ExpertParams,
                      env: Mapping[str, Any] | None = None,
                      metadata: Mapping[str, Any] | None = None
                      ) -> tuple[str, str]:
  """Exports a PPO expert's deterministic action `tanh(loc)`, normaliser
  included; the file computes exactly `ppo_networks.make_policy_fn(spec,
  params)`.

  Args:
    path_prefix: path without extension.
    spec: the expert's `PolicySpec` (from its card).
    params: its `ExpertParams`.
    env: e.g. `{'name': 'walker2d', 'version': 'v4'}`.
    metadata: free-form provenance (e.g. the card's evaluation).
  """
  dense = params.policy['params']
  names = [f'Dense_{i}' for i in range(len(spec.hidden_sizes) + 1)]
  missing = [n for n in names if n not in dense]
  if missing:
    raise ValueError(f'params.policy lacks layers {missing} for {spec}; got '
                     f'{sorted(dense)}.')
  layers = _dense_layers(dense, names)
  # The last layer outputs [loc, raw_scale]; the deterministic action needs
  # loc.
  kernel, bias = layers[-1]
  layers[-1] = (kernel[:, :spec.action_size], bias[:spec.action_size])
  # Folds the variance epsilon in exactly as `ppo_networks.normalize` does.
  std = jnp.sqrt(params.obs_stats.var + ppo_networks._VAR_EPS)  # pylint: disable=protected-access
  return export_mlp(
      path_prefix, jax.device_get(layers), spec.activation, 'tanh',
      obs_mean=jax.device_get(params.obs_stats.mean),
      obs_std=jax.device_get(std), env=env,
      metadata={'source': 'ppo_expert', 'policy_spec': spec.to_dict(),
                **dict(metadata or {})})


def export_policy(path_prefix: str,
                  policy: base.Policy,
                  params: Params,
                  normalizer: NormalizerStats | None = None,
                  env: Mapping[str, Any] | None = None,
                  metadata: Mapping[str, Any] | None = None
                  ) -> tuple[str, str]:
  """Exports an il_jax `mlp` or `gaussian` policy's `mode` (the mean).

  Args:
    path_prefix: path without extension.
    policy: the `Policy` the params belong to; family 'mlp' or 'gaussian'.
    params: its parameters.
    normalizer: the observation stats the policy was trained with (it then
      acts as `policy.mode(params, data.normalize(obs, normalizer))`), or
      None if it sees raw observations.
    env: e.g. `{'name': 'walker2d', 'version': 'v4'}`.
    metadata: free-form provenance.

  Raises:
    ValueError: for any other family (they are not one MLP).
  """
  if policy.name not in _EXPORTABLE_FAMILIES:
    raise ValueError(f'Cannot export a {policy.name!r} policy; exportable '
                     f'families: {", ".join(_EXPORTABLE_FAMILIES)}.')
  tree = params['params']
  if policy.name == 'gaussian':
    tree = tree['mean']
  names = [f'hidden_{i}' for i in range(policy.config.n_layers)] + ['output']
  mean = std = None
  if normalizer is not None:
    mean, std = jax.device_get((normalizer.mean, normalizer.std))
  return export_mlp(
      path_prefix, jax.device_get(_dense_layers(tree, names)),
      policy.config.activation, 'none', obs_mean=mean, obs_std=std, env=env,
      metadata={'source': f'il_jax.policies.{policy.name}',
                **dict(metadata or {})})


def make_jax_policy_fn(path_prefix: str
                       ) -> tuple[Callable[[Observation], Action], dict]:
  """The exported policy as a jittable JAX function, from the same files.

  Returns:
    `(policy_fn(obs [..., observation_size]) -> action [..., action_size],
    description)`, computed in float32 with Flax's activations.
  """
  policy = numpy_policy.load_numpy_policy(path_prefix)
  layers = [(jnp.asarray(k, jnp.float32), jnp.asarray(b, jnp.float32))
            for k, b in policy.layers]
  activation = base.ACTIVATIONS[policy.activation]
  output_transform = {'none': lambda x: x, 'tanh': jnp.tanh}[
      policy.output_transform]
  normalizer = None
  if policy.obs_mean is not None:
    normalizer = (jnp.asarray(policy.obs_mean, jnp.float32),
                  jnp.asarray(policy.obs_std, jnp.float32))

  def policy_fn(obs: Observation) -> Action:
    base.check_observation(obs, policy.observation_size)
    x = jnp.asarray(obs, jnp.float32)
    if normalizer is not None:
      x = (x - normalizer[0]) / normalizer[1]
    for kernel, bias in layers[:-1]:
      x = activation(x @ kernel + bias)
    kernel, bias = layers[-1]
    return output_transform(x @ kernel + bias)

  return policy_fn, policy.description
