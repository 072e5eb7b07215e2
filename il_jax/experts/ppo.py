"""On-device PPO for training experts, as pure functions in the purejaxrl style.

`make_train(config, env)` returns `train(key) -> (state, metrics)`: the whole
run (vmapped rollouts, GAE, clipped-surrogate updates over shuffled
minibatches, running observation normalisation) is nested `lax.scan`s in one
compiled program. `make_ppo(config, env)` exposes the same pieces
(`init`, `iterate`, `evaluate`) for a host loop that reports progress and
writes checkpoints (`ppo_run.run`). The trained policy becomes an
expert with `export(state)` and `ppo_networks.make_policy_fn`.

Shapes. A rollout is `[T, B, ...]` (`unroll_length`, `num_envs`; see
`PPOTransition`); an update epoch shuffles its `T * B` transitions into
`num_minibatches` minibatches of `[T * B / num_minibatches, ...]`.

Why our own. Neither brax's PPO nor rejax runs on our jax line with our
brax-interface environments and time-limit bootstrapping (RESULTS.md, "PPO
against brax's PPO"); this module is tested against independent references
in `tests/test_ppo.py`.

Stability. `dual_clip` bounds the surrogate of a negative advantage, so
that one sample with a huge ratio cannot carry a minibatch's gradient; it is
off by default, and `dual_clip=3` is the recipe on Walker2d, where without
it the deterministic return can collapse late in a run (RESULTS.md, "PPO's
late collapse").

Truncation. At a step where an episode ends, a `wrap`-ped environment's `obs`
already belongs to the next episode; the value target at a time-limit
truncation bootstraps from the observation the step reached
(`rollout.Step.final_obs`). Terminations never bootstrap.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from brax.envs.base import Env, State
from flax import struct

from il_jax import envs, evaluation, rollout
from il_jax.envs.validation import (check_fraction, check_layer_sizes,
                                    check_non_negative, check_positive)
from il_jax.experts import ppo_networks
from il_jax.types import Metrics, Params, PRNGKey

# Adam's epsilon: larger than optax's default (1e-8), as purejaxrl and CleanRL
# use; it bounds a step where the second-moment estimate is tiny.
_ADAM_EPS = 1e-5

# Training metrics that are extremes, with the reduction that keeps them
# extremes over minibatches (and over iterations, for a host loop); every
# other metric is a mean.
EXTREME_METRICS = {'ratio_max': jnp.max, 'scale_min': jnp.min,
                   'loc_abs_max': jnp.max, 'approx_kl_max': jnp.max}


@dataclasses.dataclass(frozen=True)
class PPOConfig:
  """Static settings of a PPO run; frozen and hashable.

  One iteration collects `num_envs * unroll_length` transitions, then makes
  `update_epochs` passes over them in `num_minibatches` shuffled minibatches.

  Attributes:
    total_env_steps: environment steps to train for.
    num_envs: parallel training environments.
    unroll_length: steps per environment per iteration.
    num_minibatches: minibatches per epoch; divides num_envs *
      unroll_length.
    update_epochs: passes over each rollout.
    episode_length: the time limit; None: the environment's
      `default_episode_length` (1000 if it has none).
    action_repeat: environment steps per action.
    learning_rate: Adam's learning rate (the start of the decay when
      annealed).
    anneal_learning_rate: decay the learning rate linearly to 0 over the run.
    max_grad_norm: the global gradient-norm clip.
    discount: the discount factor.
    gae_lambda: GAE's lambda.
    clip_epsilon: PPO's ratio clip.
    dual_clip: for a negative advantage the surrogate is bounded below by
      this times the advantage (dual-clip PPO, Ye et al. 2020; > 1), so a
      sample whose ratio has grown past it stops contributing gradient,
      which without it grows with the ratio, unbounded; None: off.
    value_coef: the value loss's weight.
    entropy_coef: the entropy bonus's weight.
    reward_scaling: multiplies rewards for learning.
    normalize_observations: a running mean/variance observation normaliser;
      a rollout is merged into it after the update on that rollout, so the
      update normalises as the rollout did and its first minibatch's ratio
      is exactly 1.
    normalize_advantages: standardise the advantages of each minibatch.
    policy_hidden_sizes: the policy MLP's hidden layer sizes.
    value_hidden_sizes: the value MLP's hidden layer sizes.
    activation: the hidden activation, a name in
      `il_jax.policies.base.ACTIVATIONS`.
    num_eval_envs: episodes per deterministic evaluation.
  """
  total_env_steps: int = 100_000_000
  num_envs: int = 4096
  unroll_length: int = 20
  num_minibatches: int = 8
  update_epochs: int = 4
  episode_length: int | None = None
  action_repeat: int = 1
  learning_rate: float = 3e-4
  anneal_learning_rate: bool = True
  max_grad_norm: float = 1.0
  discount: float = 0.99
  gae_lambda: float = 0.95
  clip_epsilon: float = 0.2
  dual_clip: float | None = None
  value_coef: float = 0.5
  entropy_coef: float = 1e-3
  reward_scaling: float = 1.0
  normalize_observations: bool = True
  normalize_advantages: bool = True
  policy_hidden_sizes: tuple[int, ...] = (256, 256)
  value_hidden_sizes: tuple[int, ...] = (256, 256, 256)
  activation: str = 'swish'
  num_eval_envs: int = 64

  def __post_init__(self):
    for name in ('total_env_steps', 'num_envs', 'unroll_length',
                 'num_minibatches', 'update_epochs', 'action_repeat',
                 'num_eval_envs'):
      check_positive(name, getattr(self, name), integer=True)
    if self.episode_length is not None:
      check_positive('episode_length', self.episode_length, integer=True)
    for name in ('learning_rate', 'max_grad_norm', 'clip_epsilon',
                 'reward_scaling'):
      check_positive(name, getattr(self, name))
    if self.dual_clip is not None and self.dual_clip <= 1.0:
      raise ValueError(f'dual_clip={self.dual_clip} is not valid; expected a '
                       'number greater than 1 (or None).')
    for name in ('discount', 'gae_lambda'):
      check_fraction(name, getattr(self, name))
    for name in ('value_coef', 'entropy_coef'):
      check_non_negative(name, getattr(self, name))
    batch = self.num_envs * self.unroll_length
    if batch % self.num_minibatches:
      raise ValueError(
          f'num_minibatches={self.num_minibatches} does not divide the batch '
          f'num_envs * unroll_length = {self.num_envs} * {self.unroll_length}'
          f' = {batch}.')
    if self.total_env_steps < self.env_steps_per_iteration:
      raise ValueError(
          f'total_env_steps={self.total_env_steps} is less than one '
          f'iteration (num_envs * unroll_length * action_repeat = '
          f'{self.env_steps_per_iteration}).')
    for name in ('policy_hidden_sizes', 'value_hidden_sizes'):
      object.__setattr__(self, name,
                         check_layer_sizes(name, getattr(self, name)))
    # Builds the spec once so that a bad activation fails here.
    ppo_networks.PolicySpec(1, 1, self.policy_hidden_sizes, self.activation)

  @property
  def env_steps_per_iteration(self) -> int:
    return self.num_envs * self.unroll_length * self.action_repeat

  @property
  def num_iterations(self) -> int:
    return self.total_env_steps // self.env_steps_per_iteration


@struct.dataclass
class PPOState:
  """Everything a run needs to continue; checkpointing it resumes exactly.

  Attributes:
    params: `{'policy': ..., 'value': ...}`.
    opt_state: optax state of the shared optimiser (holds the LR step count).
    obs_stats: running observation statistics.
    env_state: the batched environment state, `[num_envs]`.
    key: the run's PRNG key, split afresh every iteration.
    iteration: scalar int32, iterations done.
    env_steps: scalar int32, environment steps done.
  """
  params: Params
  opt_state: optax.OptState
  obs_stats: ppo_networks.RunningStats
  env_state: State
  key: PRNGKey
  iteration: jax.Array
  env_steps: jax.Array


class PPOTransition(NamedTuple):
  """One rollout step for a batch of environments; every field is `[B, ...]`.

  Stacked by the rollout scan into `[T, B, ...]`.
  """
  obs: jax.Array          # [B, obs_size], the observation acted on
  pre_tanh: jax.Array     # [B, A], the Gaussian sample; the action is tanh
  log_prob: jax.Array     # [B], behaviour log-density of `pre_tanh`
  logits: jax.Array       # [B, 2A], the behaviour policy's output
  value: jax.Array        # [B], V(obs)
  reward: jax.Array       # [B], scaled reward
  next_value: jax.Array   # [B], V of the state the step reached
  termination: jax.Array  # [B], 1 where the step reached a terminal state
  done: jax.Array         # [B], 1 where the episode ended (either way)


class PPO(NamedTuple):
  """The pieces of a PPO run, for host loops; all are pure and jittable.

  Attributes:
    init: `init(key) -> PPOState`.
    iterate: `iterate(state) -> (state, metrics)`, one rollout and update:
      `learn(state, *rollout(state))`.
    rollout: `rollout(state) -> (env_state, trajectory, episodes)`: the
      iteration's `PPOTransition [unroll_length, num_envs]` from
      `state.env_state`, the environments' state after it, and the
      `EpisodeStats` of the episodes that ended in it.
    learn: `learn(state, env_state, trajectory, episodes) -> (state,
      metrics)`: the iteration's update on `trajectory`, whose rewards a
      caller may have replaced (GAIL's come from its discriminator).
    evaluate: `evaluate(state, key) -> metrics`, the deterministic policy's
      return over `config.num_eval_envs` full episodes.
    policy_spec: the policy network's `PolicySpec`, for `make_policy_fn`.
    config: the config, with `episode_length` filled in.
  """
  init: Callable[[PRNGKey], PPOState]
  iterate: Callable[[PPOState], tuple[PPOState, Metrics]]
  rollout: Callable[[PPOState], tuple[State, PPOTransition, Any]]
  learn: Callable[..., tuple[PPOState, Metrics]]
  evaluate: Callable[[PPOState, PRNGKey], Metrics]
  policy_spec: ppo_networks.PolicySpec
  config: PPOConfig


def compute_gae(rewards: jax.Array, values: jax.Array, next_values: jax.Array,
                terminations: jax.Array, dones: jax.Array, discount: float,
                gae_lambda: float) -> tuple[jax.Array, jax.Array]:
  """Generalised advantage estimation over a rollout, truncation-aware.

  `delta_t = r_t + discount * (1 - term_t) * next_values_t - values_t` and
  `A_t = delta_t + discount * gae_lambda * (1 - done_t) * A_{t+1}`, with
  `A_T = 0` past the rollout's end. Since `next_values` is the value of the
  state each transition reached, a truncated step bootstraps from it while a
  terminal one does not, and no advantage leaks across an episode boundary.

  Args:
    rewards: `[T, ...]`.
    values: `[T, ...]`, V of the observation acted on.
    next_values: `[T, ...]`, V of the state the step reached.
    terminations: `[T, ...]`, 1 where that state is terminal.
    dones: `[T, ...]`, 1 where the episode ended (terminated or truncated).
    discount: the discount factor gamma.
    gae_lambda: GAE's lambda.

  Returns:
    (advantages, value targets), each `[T, ...]`; targets = advantages +
    values.
  """
  continues = 1.0 - terminations.astype(rewards.dtype)
  episode_continues = 1.0 - dones.astype(rewards.dtype)
  deltas = rewards + discount * continues * next_values - values
  decay = discount * gae_lambda * episode_continues

  def backward(advantage, step):
    delta, decay_t = step
    advantage = delta + decay_t * advantage
    return advantage, advantage

  _, advantages = jax.lax.scan(
      backward, jnp.zeros_like(deltas[0]), (deltas, decay), reverse=True)
  return advantages, advantages + values


def clipped_surrogate(ratio: jax.Array, advantage: jax.Array,
                      clip_epsilon: float,
                      dual_clip: float | None = None) -> jax.Array:
  """PPO's clipped surrogate objective per sample (to be maximised).

  `min(r * A, clip(r, 1 - eps, 1 + eps) * A)`; with `dual_clip = c`, samples
  with `A < 0` are also bounded below by `c * A`, which zeroes the gradient of
  a sample whose ratio exceeds `c`. Without it that gradient is `A`
  per unit of ratio however large the ratio: one sample that the updated
  policy has made hundreds of times likelier than the behaviour policy did
  can carry a minibatch's whole gradient.

  Args:
    ratio: `[...]`, pi(a|s) / pi_behaviour(a|s).
    advantage: `[...]`.
    clip_epsilon: the ratio clip.
    dual_clip: None, or a bound greater than 1.
  """
  clipped = jnp.clip(ratio, 1.0 - clip_epsilon, 1.0 + clip_epsilon)
  surrogate = jnp.minimum(ratio * advantage, clipped * advantage)
  if dual_clip is None:
    return surrogate
  return jnp.where(advantage < 0.0,
                   jnp.maximum(surrogate, dual_clip * advantage), surrogate)


def _episode_length(config: PPOConfig, env: Env) -> int:
  if config.episode_length is not None:
    return config.episode_length
  return int(getattr(env, 'default_episode_length', 1000))


def policy_spec(config: PPOConfig, env: Env) -> ppo_networks.PolicySpec:
  """The `PolicySpec` of the policy a run of `config` on `env` trains."""
  return ppo_networks.PolicySpec(
      observation_size=env.observation_size,
      action_size=env.action_size,
      hidden_sizes=config.policy_hidden_sizes,
      activation=config.activation)


def export(state: PPOState) -> ppo_networks.ExpertParams:
  """The trained policy's parameters and normaliser, for `make_policy_fn`."""
  return ppo_networks.ExpertParams(
      policy=state.params['policy'], obs_stats=state.obs_stats)


def make_ppo(config: PPOConfig, env: Env) -> PPO:
  """Builds PPO's pure functions for `env`.

  Args:
    config: the run's settings.
    env: an unbatched brax-interface environment (e.g. `il_jax.envs.make`),
      actions in `[-1, 1]`; it is batched and auto-reset here.
  """
  episode_length = _episode_length(config, env)
  config = dataclasses.replace(config, episode_length=episode_length)
  train_env = envs.wrap(env, episode_length, config.action_repeat)
  spec = policy_spec(config, env)
  policy_net = ppo_networks.policy_module(spec)
  value_net = ppo_networks.value_module(config.value_hidden_sizes,
                                        config.activation)

  num_updates = (config.num_iterations * config.update_epochs *
                 config.num_minibatches)
  if config.anneal_learning_rate:
    learning_rate = optax.linear_schedule(config.learning_rate, 0.0,
                                          num_updates)
  else:
    learning_rate = config.learning_rate
  optimizer = optax.chain(
      optax.clip_by_global_norm(config.max_grad_norm),
      optax.adam(learning_rate, eps=_ADAM_EPS))

  def init(key: PRNGKey) -> PPOState:
    policy_key, value_key, env_key, run_key = jax.random.split(key, 4)
    dummy_obs = jnp.zeros((1, env.observation_size))
    params = {
        'policy': policy_net.init(policy_key, dummy_obs),
        'value': value_net.init(value_key, dummy_obs),
    }
    return PPOState(
        params=params,
        opt_state=optimizer.init(params),
        obs_stats=ppo_networks.init_running_stats(env.observation_size),
        env_state=train_env.reset(
            jax.random.split(env_key, config.num_envs)),
        key=run_key,
        iteration=jnp.zeros((), jnp.int32),
        env_steps=jnp.zeros((), jnp.int32))

  def value_fn(params, obs_stats, obs):
    obs = ppo_networks.normalize(obs_stats, obs)
    return jnp.squeeze(value_net.apply(params['value'], obs), -1)

  def collect(state: PPOState, key: PRNGKey):
    """`unroll_length` steps of all environments with the sampling policy,
    continuing from `state.env_state`."""

    def act(actor_state, obs, done, step_key):
      logits = policy_net.apply(
          state.params['policy'],
          ppo_networks.normalize(state.obs_stats, obs))
      pre_tanh = ppo_networks.sample_pre_tanh(logits, step_key)
      return jnp.tanh(pre_tanh), actor_state, (
          pre_tanh, ppo_networks.pre_tanh_log_prob(logits, pre_tanh), logits)

    keys = jax.random.split(key, config.unroll_length)
    (env_state, _), steps = rollout.unroll(
        train_env, state.env_state, rollout.Actor(act, lambda _: ()), (),
        keys)
    pre_tanh, log_prob, logits = steps.record
    done = steps.done.astype(jnp.float32)
    truncation = steps.episode.truncated.astype(jnp.float32)
    trajectory = PPOTransition(
        obs=steps.obs,
        pre_tanh=pre_tanh,
        log_prob=log_prob,
        logits=logits,
        value=value_fn(state.params, state.obs_stats, steps.obs),
        reward=steps.reward * config.reward_scaling,
        next_value=value_fn(state.params, state.obs_stats, steps.final_obs),
        termination=done * (1.0 - truncation),
        done=done)
    return env_state, (trajectory, steps.episode)

  def loss_fn(params, obs_stats, batch, key):
    """Clipped-surrogate, value and entropy losses on a minibatch of `[N]`
    transitions with their advantages and targets."""
    transition, advantage, target = batch
    obs = ppo_networks.normalize(obs_stats, transition.obs)
    value = jnp.squeeze(value_net.apply(params['value'], obs), -1)
    logits = policy_net.apply(params['policy'], obs)
    log_ratio = (ppo_networks.pre_tanh_log_prob(logits, transition.pre_tanh) -
                 transition.log_prob)
    ratio = jnp.exp(log_ratio)
    if config.normalize_advantages:
      advantage = ((advantage - jnp.mean(advantage)) /
                   (jnp.std(advantage) + 1e-8))
    policy_loss = -jnp.mean(clipped_surrogate(
        ratio, advantage, config.clip_epsilon, config.dual_clip))
    value_loss = 0.5 * jnp.mean(jnp.square(value - target))
    entropy = jnp.mean(ppo_networks.entropy(logits, key))
    total = (policy_loss + config.value_coef * value_loss -
             config.entropy_coef * entropy)
    loc, scale = ppo_networks.split_logits(logits)
    return total, {
        'policy_loss': policy_loss,
        'value_loss': value_loss,
        'entropy': entropy,
        # (r - 1) - log r: a non-negative, low-variance KL estimate.
        'approx_kl': jnp.mean((ratio - 1.0) - log_ratio),
        # The same KL in closed form, per state: exact where `approx_kl` is
        # a noisy one-sample estimate.
        'kl': jnp.mean(ppo_networks.kl_divergence(transition.logits, logits)),
        'clip_fraction': jnp.mean(
            (jnp.abs(ratio - 1.0) > config.clip_epsilon).astype(jnp.float32)),
        # One sample with a large ratio and a negative advantage can carry a
        # minibatch's whole gradient (see `dual_clip`).
        'ratio_max': jnp.max(ratio),
        # How sharp and how saturated the policy is: a small scale makes
        # log-probabilities, and so the ratio, sensitive to a small step.
        'scale_mean': jnp.mean(scale),
        'scale_min': jnp.min(scale),
        'loc_abs_max': jnp.max(jnp.abs(loc)),
    }

  def update_minibatch(carry, minibatch):
    params, opt_state, obs_stats, key = carry
    key, loss_key = jax.random.split(key)
    grads, aux = jax.grad(loss_fn, has_aux=True)(params, obs_stats, minibatch,
                                                 loss_key)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    aux['grad_norm'] = optax.tree.norm(grads)
    return (params, opt_state, obs_stats, key), aux

  def update_epoch(carry, batch):
    """One pass over the rollout `batch` (`[T, B, ...]` leaves)."""
    params, opt_state, obs_stats, key = carry
    key, perm_key = jax.random.split(key)
    size = config.num_envs * config.unroll_length
    permutation = jax.random.permutation(perm_key, size)

    def to_minibatches(x):  # [T, B, ...] -> [M, T * B / M, ...]
      x = jnp.reshape(x, (size,) + x.shape[2:])[permutation]
      return jnp.reshape(x, (config.num_minibatches, -1) + x.shape[1:])

    minibatches = jax.tree.map(to_minibatches, batch)
    return jax.lax.scan(update_minibatch, (params, opt_state, obs_stats, key),
                        minibatches)

  def roll_out(state: PPOState):
    _, rollout_key, _ = jax.random.split(state.key, 3)
    env_state, (trajectory, stats) = collect(state, rollout_key)
    return env_state, trajectory, stats

  def learn(state: PPOState, env_state, trajectory: PPOTransition, stats
            ) -> tuple[PPOState, Metrics]:
    key, _, update_key = jax.random.split(state.key, 3)
    advantages, targets = compute_gae(
        trajectory.reward, trajectory.value, trajectory.next_value,
        trajectory.termination, trajectory.done, config.discount,
        config.gae_lambda)
    batch = (trajectory, advantages, targets)
    obs_stats = state.obs_stats
    (params, opt_state, _, _), aux = jax.lax.scan(
        lambda carry, _: update_epoch(carry, batch),
        (state.params, state.opt_state, obs_stats, update_key),
        None, config.update_epochs)
    if config.normalize_observations:
      obs_stats = ppo_networks.update_running_stats(obs_stats, trajectory.obs)
    state = PPOState(
        params=params,
        opt_state=opt_state,
        obs_stats=obs_stats,
        env_state=env_state,
        key=key,
        iteration=state.iteration + 1,
        env_steps=state.env_steps + config.env_steps_per_iteration)
    train_episodes = envs.summarize_episodes(stats)
    aux = {**aux, 'approx_kl_max': aux['approx_kl']}
    metrics = {name: EXTREME_METRICS.get(name, jnp.mean)(value)
               for name, value in aux.items()}
    metrics.update(
        Train_AverageReturn=train_episodes['return_mean'],
        Train_AverageEpLen=train_episodes['length_mean'],
        Train_NumEpisodes=train_episodes['num_episodes'],
        value_target_mean=jnp.mean(targets),
        env_steps=state.env_steps)
    return state, metrics

  def iterate(state: PPOState) -> tuple[PPOState, Metrics]:
    return learn(state, *roll_out(state))

  eval_env = envs.wrap(env, episode_length, config.action_repeat)
  eval_steps = -(-episode_length // config.action_repeat)

  def evaluate(state: PPOState, key: PRNGKey) -> Metrics:
    """Return of the deterministic policy over `num_eval_envs` episodes,
    the first episode of each environment (`il_jax.evaluation.evaluate`)."""
    act = ppo_networks.make_policy_fn(spec, export(state))
    return evaluation.eval_metrics(evaluation.evaluate(
        act, eval_env, key, config.num_eval_envs, eval_steps))

  return PPO(init=init, iterate=iterate, rollout=roll_out, learn=learn,
             evaluate=evaluate, policy_spec=spec, config=config)


def make_train(config: PPOConfig, env: Env
               ) -> Callable[[PRNGKey], tuple[PPOState, Metrics]]:
  """`train(key) -> (state, metrics)`: a whole PPO run as one program.

  `metrics` holds each iteration's training metrics stacked to
  `[config.num_iterations]` and the final deterministic evaluation
  (`Eval_*`, scalars). `jax.jit(jax.vmap(train))(keys)` trains many seeds.
  """
  ppo = make_ppo(config, env)

  def train(key: PRNGKey) -> tuple[PPOState, Metrics]:
    init_key, eval_key = jax.random.split(key)
    state, metrics = jax.lax.scan(
        lambda s, _: ppo.iterate(s), ppo.init(init_key), None,
        ppo.config.num_iterations)
    metrics.update(ppo.evaluate(state, eval_key))
    return state, metrics

  return train

