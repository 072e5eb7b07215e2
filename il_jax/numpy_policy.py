"""Reads an exported policy and runs it with NumPy alone.

This module imports only `json`, `os` and `numpy`, so it can be copied out of
il_jax into any project that needs to run a policy trained here (a robot, a
Gymnasium script) without JAX or Flax.

An exported policy is two files sharing a prefix:

`<prefix>.json`, the description::

  {
    "format": "il_jax.mlp_policy", "format_version": 1,
    "observation_size": 17, "action_size": 6,
    "hidden_sizes": [256, 256],
    "activation": "swish",          # applied after every hidden layer
    "output_transform": "tanh",     # applied to the last layer: tanh or none
    "normalizer": {"mean": "obs_mean", "std": "obs_std"},   # or null
    "env": {"name": "walker2d", "version": "v4"},           # or null
    "metadata": {...}               # free-form: where it came from
  }

`<prefix>.npz`, the arrays: layer `i` (hidden layers first, then the output
layer) has `layer_<i>_kernel [in, out]` and `layer_<i>_bias [out]`; the
normaliser's arrays (`[observation_size]` each) are named in the JSON. The
policy computes, for `obs [..., observation_size]`::

  x = (obs - mean) / std                       # if a normaliser is given
  x = activation(x @ kernel_i + bias_i)        # every hidden layer i
  action = output_transform(x @ kernel_L + bias_L)
"""

import json
import os

import numpy as np

FORMAT = 'il_jax.mlp_policy'
FORMAT_VERSION = 1


def _sigmoid(x):
  # tanh form: no overflow warning for large |x|.
  return 0.5 * (1.0 + np.tanh(0.5 * x))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

# The activations by the names Flax (and the il_jax configs) use, with Flax's
# definitions: gelu is the tanh approximation, leaky_relu has slope 0.01.
ACTIVATIONS = {
    'tanh': np.tanh,
    'relu': lambda x: np.maximum(x, 0.0),
    'gelu': lambda x: 0.5 * x * (1.0 + np.tanh(
        np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3))),
    'swish': lambda x: x * _sigmoid(x),
    'silu': lambda x: x * _sigmoid(x),
    'elu': lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    'selu': lambda x: _SELU_SCALE * np.where(
        x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    'leaky_relu': lambda x: np.where(x >= 0, x, 0.01 * x),
    'sigmoid': _sigmoid,
    'softplus': lambda x: np.logaddexp(x, 0.0),
    'identity': lambda x: x,
}
OUTPUT_TRANSFORMS = {
    'none': lambda x: x,
    'tanh': np.tanh,
}


def paths(prefix: str) -> tuple[str, str]:
  """`(<prefix>.npz, <prefix>.json)`."""
  return prefix + '.npz', prefix + '.json'


def _require(description: dict, key: str, json_path: str):
  if key not in description:
    raise ValueError(f'{json_path} has no {key!r}; expected the keys of an '
                     f'{FORMAT} description.')
  return description[key]


def _choice(value, choices, what: str, json_path: str) -> str:
  if value not in choices:
    raise ValueError(f'{json_path}: unknown {what} {value!r}; expected one of '
                     f'{sorted(choices)}.')
  return value


class NumpyPolicy:
  """An exported policy: `policy(obs [..., observation_size]) -> action
  [..., action_size]` in float64 NumPy.

  Attributes:
    description: the parsed JSON description.
    observation_size, action_size: sizes of the last axes.
    layers: `[(kernel [in, out], bias [out]), ...]`, float64, output last.
    activation, output_transform: names, as in the description.
    obs_mean, obs_std: `[observation_size]`, or None without a normaliser.
  """

  def __init__(self, prefix: str):
    npz_path, json_path = paths(prefix)
    for path in (json_path, npz_path):
      if not os.path.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist; an exported policy is the pair '
            f'{prefix}.json and {prefix}.npz (see il_jax.export).')
    with open(json_path) as f:
      try:
        description = json.load(f)
      except json.JSONDecodeError as error:
        raise ValueError(f'{json_path} is not valid JSON: {error}') from None
    if not isinstance(description, dict):
      raise ValueError(f'{json_path} holds {type(description).__name__}, '
                       'expected a JSON object.')
    if description.get('format') != FORMAT:
      raise ValueError(f'{json_path} has format '
                       f'{description.get("format")!r}, expected {FORMAT!r}.')
    version = description.get('format_version')
    if version != FORMAT_VERSION:
      raise ValueError(f'{json_path} has format_version {version!r}; this '
                       f'reader knows version {FORMAT_VERSION}.')
    self.description = description
    self.observation_size = int(
        _require(description, 'observation_size', json_path))
    self.action_size = int(_require(description, 'action_size', json_path))
    hidden_sizes = [int(s) for s in
                    _require(description, 'hidden_sizes', json_path)]
    self.activation = _choice(
        _require(description, 'activation', json_path), ACTIVATIONS,
        'activation', json_path)
    self.output_transform = _choice(
        _require(description, 'output_transform', json_path),
        OUTPUT_TRANSFORMS, 'output_transform', json_path)

    with np.load(npz_path) as arrays:
      arrays = dict(arrays)

    def array(name: str, shape: tuple[int, ...]) -> np.ndarray:
      if name not in arrays:
        raise ValueError(f'{npz_path} has no array {name!r}; it has '
                         f'{sorted(arrays)}.')
      value = np.asarray(arrays[name], np.float64)
      if value.shape != shape:
        raise ValueError(f'{npz_path}: array {name!r} has shape '
                         f'{value.shape}, expected {shape} from {json_path}.')
      return value

    sizes = [self.observation_size] + hidden_sizes + [self.action_size]
    self.layers = [
        (array(f'layer_{i}_kernel', (n_in, n_out)),
         array(f'layer_{i}_bias', (n_out,)))
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
    ]
    normalizer = _require(description, 'normalizer', json_path)
    self.obs_mean = self.obs_std = None
    if normalizer is not None:
      self.obs_mean = array(normalizer['mean'], (self.observation_size,))
      self.obs_std = array(normalizer['std'], (self.observation_size,))
      if not np.all(self.obs_std > 0):
        raise ValueError(f'{npz_path}: normaliser std must be positive, got '
                         f'minimum {self.obs_std.min()}.')

  def __call__(self, obs) -> np.ndarray:
    obs = np.asarray(obs, np.float64)
    if obs.ndim < 1 or obs.shape[-1] != self.observation_size:
      raise ValueError(f'obs has shape {obs.shape}, expected [..., '
                       f'{self.observation_size}].')
    x = obs
    if self.obs_mean is not None:
      x = (x - self.obs_mean) / self.obs_std
    activation = ACTIVATIONS[self.activation]
    for kernel, bias in self.layers[:-1]:
      x = activation(x @ kernel + bias)
    kernel, bias = self.layers[-1]
    return OUTPUT_TRANSFORMS[self.output_transform](x @ kernel + bias)


def load_numpy_policy(prefix: str) -> NumpyPolicy:
  """Reads `<prefix>.json` and `<prefix>.npz` into a NumPy policy.

  Raises:
    FileNotFoundError: if either file is missing.
    ValueError: if the description or arrays are malformed (unknown
      activation, missing array, wrong shape, ...); the message names the
      file and the bad value.
  """
  return NumpyPolicy(prefix)
