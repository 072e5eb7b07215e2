"""Diffusion policy: DDPM noise-prediction training over actions conditioned
on the observation; DDPM or DDIM sampling, all inside one `lax.scan`.

Actions are first mapped from `[action_low, action_high]` to `x` in
`[-1, 1]` per dimension, the scale the noise schedules assume. With
`alpha_bar_t = prod_{s <= t} (1 - beta_s)` over steps `t = 0 .. T-1`:

  train:  t ~ U{0..T-1}, eps ~ N(0, I),
          x_t = sqrt(alpha_bar_t) x + sqrt(1 - alpha_bar_t) eps,
          loss = mean |eps_theta(o, x_t, t) - eps|^2
  DDPM:   x_{T-1} ~ N(0, I), then T ancestral steps with the posterior
          q(x_{t-1} | x_t, x_0_hat) (Ho et al. 2020);
  DDIM:   `ddim_steps` evenly spaced steps of the non-Markovian sampler with
          noise level `ddim_eta` (Song et al. 2021; eta=0 is deterministic).

`clip_sample` clips the predicted clean action `x_0_hat` to `[-1, 1]` at every
step (the action bounds) as Diffusion Policy does; without it the final
sample is returned unclipped and environments clip it.

`mode` is deterministic DDIM (eta = 0) from the fixed start
`x_{T-1} = mode_noise * ones([act])`, shared by every batch element. Why not
zeros: DDIM discretises the probability-flow ODE, which in one dimension is
monotone and sends the prior's median (0) to the data's median, which for a
symmetric bimodal expert lies between the modes, the one action we must not
take. A start of typical size (`||x||^2 = act` for `mode_noise=1`, like a
draw from N(0, I)) commits to a mode. Why not a fixed key: a draw of shape
`[..., act]` depends on the leading shape, so `mode(obs)[i]` would differ
from `mode(obs[i])`. The price: for a unimodal action distribution with
spread `s` the mode is shifted by about `mode_noise * s` per dimension
(negligible for a deterministic expert's labels); `mode_noise=0` gives the
median instead.
"""

import dataclasses
import math
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from il_jax.policies import base
from il_jax.policies.autoregressive import check_action_bounds
from il_jax.types import Batch
from il_jax.types import Params
from il_jax.types import PRNGKey

SCHEDULES = ('cosine', 'linear')
SAMPLERS = ('ddpm', 'ddim')


@dataclasses.dataclass(frozen=True)
class DiffusionConfig:
  """Noise-prediction network, noise schedule and sampler.

  Attributes:
    n_layers: hidden layers of the noise-prediction MLP.
    size: width of every hidden layer.
    activation: a name in `il_jax.policies.base.ACTIVATIONS`.
    num_steps: T, diffusion steps of training and of DDPM sampling.
    schedule: 'cosine' (Nichol & Dhariwal 2021, betas capped at 0.999) or
      'linear' (betas from `1e-4 * 1000 / T` to `0.02 * 1000 / T`, the DDPM
      range rescaled so that any T ends near pure noise; both ends capped at
      0.999, which bends the schedule for T < 50).
    sampler: what `sample` runs: 'ddpm' (T stochastic steps) or 'ddim'.
    ddim_steps: steps of DDIM sampling (in `sample` with sampler='ddim', and
      in `mode`), evenly spaced over the T training steps; None means T.
    ddim_eta: DDIM noise level in `sample`: 0 is deterministic given the
      start noise, 1 matches DDPM's posterior variance.
    clip_sample: clip the predicted clean action to the bounds at each step.
    action_low: lower bound of every action dimension (mapped to -1).
    action_high: upper bound of every action dimension (mapped to +1).
    time_embedding_size: width of the sinusoidal embedding of t (even).
    mode_noise: `mode` starts DDIM from `mode_noise * ones` (module docstring).
  """
  n_layers: int = 2
  size: int = 64
  activation: str = 'tanh'
  num_steps: int = 20
  schedule: str = 'cosine'
  sampler: str = 'ddpm'
  ddim_steps: Optional[int] = None
  ddim_eta: float = 0.0
  clip_sample: bool = True
  action_low: float = -1.0
  action_high: float = 1.0
  time_embedding_size: int = 16
  mode_noise: float = 1.0

  def __post_init__(self):
    base.check_hidden_layers(self.n_layers, self.size, self.activation)
    num_steps = base.check_positive_int('num_steps', self.num_steps)
    if self.schedule not in SCHEDULES:
      raise ValueError(f'Unknown schedule {self.schedule!r}; known schedules: '
                       f'{", ".join(SCHEDULES)}.')
    if self.sampler not in SAMPLERS:
      raise ValueError(f'Unknown sampler {self.sampler!r}; known samplers: '
                       f'{", ".join(SAMPLERS)}.')
    if self.ddim_steps is not None:
      ddim_steps = base.check_positive_int('ddim_steps', self.ddim_steps)
      if ddim_steps > num_steps:
        raise ValueError(f'ddim_steps must be at most num_steps={num_steps}, '
                         f'got {ddim_steps!r}.')
    eta = base.check_finite_float('ddim_eta', self.ddim_eta)
    if eta < 0:
      raise ValueError(f'ddim_eta must be non-negative, got {self.ddim_eta!r}.')
    if not isinstance(self.clip_sample, (bool, np.bool_)):
      raise ValueError(
          f'clip_sample must be True or False, got {self.clip_sample!r}.')
    low, high = check_action_bounds(self.action_low, self.action_high)
    embedding = base.check_positive_int('time_embedding_size',
                                        self.time_embedding_size)
    if embedding % 2:
      raise ValueError(f'time_embedding_size must be even, got {embedding!r}.')
    mode_noise = base.check_finite_float('mode_noise', self.mode_noise)
    for name, value in (('ddim_eta', eta), ('action_low', low),
                        ('action_high', high), ('mode_noise', mode_noise)):
      object.__setattr__(self, name, value)


def make_betas(schedule: str, num_steps: int) -> np.ndarray:
  """The noise schedule `beta_t`, `[num_steps]` float64 in (0, 1)."""
  if schedule == 'linear':
    scale = 1000.0 / num_steps
    # Short schedules would scale the end past 1; 0.999 keeps alpha_bar > 0
    # (x_0_hat divides by its square root), as the cosine schedule does.
    return np.linspace(min(1e-4 * scale, 0.999), min(0.02 * scale, 0.999),
                       num_steps)
  if schedule == 'cosine':
    s = 0.008
    steps = np.arange(num_steps + 1, dtype=np.float64) / num_steps
    alpha_bar = np.cos((steps + s) / (1 + s) * math.pi / 2)**2
    return np.clip(1.0 - alpha_bar[1:] / alpha_bar[:-1], 0.0, 0.999)
  raise ValueError(f'Unknown schedule {schedule!r}; known schedules: '
                   f'{", ".join(SCHEDULES)}.')


def timestep_embedding(t: jax.Array, size: int) -> jax.Array:
  """`t [...] (ints) -> [..., size]` sinusoidal features (size even)."""
  half = size // 2
  frequencies = jnp.exp(-math.log(1000.0) * jnp.arange(half) / half)
  angles = t.astype(jnp.float32)[..., None] * frequencies
  return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


class NoisePredictor(nn.Module):
  """`(obs [..., obs], x_t [..., act], t [...]) -> eps_hat [..., act]`: an MLP
  on the observation, the noisy action and the embedded step."""
  hidden_sizes: tuple[int, ...]
  action_size: int
  activation: str
  time_embedding_size: int

  @nn.compact
  def __call__(self, obs, x_t, t):
    t_features = timestep_embedding(t, self.time_embedding_size)
    inputs = jnp.concatenate([obs, x_t, t_features], axis=-1)
    return base.MLP(self.hidden_sizes, self.action_size, self.activation,
                    name='mlp')(inputs)


def make_network(config: DiffusionConfig, action_size: int) -> NoisePredictor:
  """The Flax module of the policy."""
  return NoisePredictor(
      hidden_sizes=(config.size,) * config.n_layers,
      action_size=action_size,
      activation=config.activation,
      time_embedding_size=config.time_embedding_size)


def make_policy(config: DiffusionConfig, observation_size: int,
                action_size: int) -> base.Policy:
  """Builds the diffusion policy.

  The loss is the noise-prediction MSE over batch and action dimensions
  (aux `mse`), one random step and noise per example.

  Args:
    config: network, schedule and sampler.
    observation_size: size of the last axis of observations.
    action_size: size of the last axis of actions.

  Raises:
    ValueError: non-positive sizes or a config that is not a
      `DiffusionConfig`.
  """
  base.check_config(config, DiffusionConfig)
  observation_size, action_size = base.check_sizes(observation_size,
                                                   action_size)
  network = make_network(config, action_size)
  num_steps = config.num_steps
  betas = make_betas(config.schedule, num_steps)
  alpha_bars = np.cumprod(1.0 - betas)
  # alpha_bar before step 0 is 1 (clean data): index t + 1 of this array.
  alpha_bars_prev = np.concatenate([[1.0], alpha_bars[:-1]])
  f32 = lambda x: jnp.asarray(x, jnp.float32)
  betas_j, alpha_bars_j, alpha_bars_prev_j = map(f32, (betas, alpha_bars,
                                                       alpha_bars_prev))
  ddim_steps = config.ddim_steps or num_steps
  # Evenly spaced and descending from the noisiest step T-1 (so one step
  # still starts from noise); each goes to the next, the last to -1, 'clean'.
  ddim_from = np.unique(np.round(
      np.linspace(num_steps - 1, 0, ddim_steps)).astype(np.int32))[::-1]
  ddim_to = np.concatenate([ddim_from[1:], [-1]]).astype(np.int32)
  low, high = config.action_low, config.action_high
  mode_start = config.mode_noise * jnp.ones((action_size,), jnp.float32)

  def to_unit(action):
    return 2.0 * (base.as_float(action) - low) / (high - low) - 1.0

  def from_unit(x):
    return low + 0.5 * (x + 1.0) * (high - low)

  def init(key: PRNGKey, obs_example: jax.Array) -> Params:
    obs_example = base.checked_observation(obs_example, observation_size)
    batch_shape = obs_example.shape[:-1]
    return network.init(key, obs_example,
                        jnp.zeros(batch_shape + (action_size,)),
                        jnp.zeros(batch_shape, jnp.int32))

  def predict(params, obs, x_t, t):
    """eps_hat and the (clipped) x_0_hat, with eps_hat made consistent with
    the clipped x_0_hat so both samplers step towards the clipped point."""
    t_batch = jnp.full(x_t.shape[:-1], t, jnp.int32)
    eps = network.apply(params, obs, x_t, t_batch)
    alpha_bar = alpha_bars_j[t]
    x0 = (x_t - jnp.sqrt(1.0 - alpha_bar) * eps) / jnp.sqrt(alpha_bar)
    if config.clip_sample:
      x0 = jnp.clip(x0, -1.0, 1.0)
      eps = (x_t - jnp.sqrt(alpha_bar) * x0) / jnp.sqrt(1.0 - alpha_bar)
    return eps, x0

  def ddpm(params, obs, x_start, key):
    def step(x_t, inputs):
      t, step_key = inputs
      _, x0 = predict(params, obs, x_t, t)
      beta, alpha_bar, alpha_bar_prev = (betas_j[t], alpha_bars_j[t],
                                         alpha_bars_prev_j[t])
      mean = (jnp.sqrt(alpha_bar_prev) * beta / (1.0 - alpha_bar) * x0 +
              jnp.sqrt(1.0 - beta) * (1.0 - alpha_bar_prev) /
              (1.0 - alpha_bar) * x_t)
      variance = beta * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar)
      noise = jax.random.normal(step_key, x_t.shape, x_t.dtype)
      # No noise on the last step (t = 0): its output is the sample.
      x_prev = mean + jnp.where(t > 0, jnp.sqrt(variance), 0.0) * noise
      return x_prev, None

    timesteps = jnp.arange(num_steps - 1, -1, -1)
    keys = jax.random.split(key, num_steps)
    return jax.lax.scan(step, x_start, (timesteps, keys))[0]

  def ddim(params, obs, x_start, key, eta):
    def step(x_t, inputs):
      t, t_prev, step_key = inputs
      eps, x0 = predict(params, obs, x_t, t)
      alpha_bar = alpha_bars_j[t]
      alpha_bar_prev = jnp.where(t_prev >= 0, alpha_bars_j[t_prev], 1.0)
      sigma = eta * jnp.sqrt((1.0 - alpha_bar_prev) / (1.0 - alpha_bar) *
                             (1.0 - alpha_bar / alpha_bar_prev))
      direction = jnp.sqrt(jnp.maximum(1.0 - alpha_bar_prev - sigma**2, 0.0))
      x_prev = jnp.sqrt(alpha_bar_prev) * x0 + direction * eps
      if eta > 0:
        x_prev += sigma * jax.random.normal(step_key, x_t.shape, x_t.dtype)
      return x_prev, None

    keys = jax.random.split(key, len(ddim_from))
    return jax.lax.scan(step, x_start,
                        (jnp.asarray(ddim_from), jnp.asarray(ddim_to),
                         keys))[0]

  def finish(x):
    if config.clip_sample:
      x = jnp.clip(x, -1.0, 1.0)
    return from_unit(x)

  def mode(params: Params, obs: jax.Array) -> jax.Array:
    obs = base.checked_observation(obs, observation_size)
    x_start = jnp.broadcast_to(mode_start, obs.shape[:-1] + (action_size,))
    # eta = 0 never draws noise: the key is a placeholder.
    return finish(ddim(params, obs, x_start, jax.random.PRNGKey(0), 0.0))

  def sample(params: Params, obs: jax.Array, key: PRNGKey) -> jax.Array:
    obs = base.checked_observation(obs, observation_size)
    start_key, loop_key = jax.random.split(key)
    x_start = jax.random.normal(start_key, obs.shape[:-1] + (action_size,))
    if config.sampler == 'ddpm':
      return finish(ddpm(params, obs, x_start, loop_key))
    return finish(ddim(params, obs, x_start, loop_key, config.ddim_eta))

  def loss(params: Params, batch: Batch, key: PRNGKey):
    base.check_batch(batch, observation_size, action_size)
    obs, x = base.as_float(batch.obs), to_unit(batch.action)
    t_key, noise_key = jax.random.split(key)
    t = jax.random.randint(t_key, x.shape[:-1], 0, num_steps)
    eps = jax.random.normal(noise_key, x.shape, x.dtype)
    alpha_bar = alpha_bars_j[t][..., None]
    x_t = jnp.sqrt(alpha_bar) * x + jnp.sqrt(1.0 - alpha_bar) * eps
    mse = jnp.mean(jnp.square(network.apply(params, obs, x_t, t) - eps))
    return mse, {'mse': mse}

  return base.Policy(
      name='diffusion',
      config=config,
      observation_size=observation_size,
      action_size=action_size,
      init=init,
      sample=sample,
      mode=mode,
      loss=loss)
