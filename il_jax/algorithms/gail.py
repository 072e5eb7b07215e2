"""GAIL (Ho & Ermon 2016): imitation by recovering a reward, on the device.

    repeat: roll out the learner (PPO's tanh-Gaussian policy)
            train the discriminator D(s, a) on expert rows against the
              learner's (logistic loss; D is the probability of "expert")
            replace the rollout's rewards with r(D(s, a))
            PPO's update on those rewards

The expert is never queried: GAIL sees only the demonstrations. The RL
step is the project's PPO (`experts.ppo.make_ppo`, its `rollout` and
`learn` halves), so the learner, its observation normaliser and its update
are PPO's; the discriminator sees observations through the same
normaliser. The metrics keep PPO's (`Train_AverageReturn` is the true
environment return of the rollout's episodes) and add the discriminator's
accuracy on each side and the mean GAIL reward; `train(key)` ends with the
deterministic policy's `Eval_*` on the true reward.

Rewards, from the discriminator's logit l (D = sigmoid(l)):
  'gail'  -log(1 - D) = softplus(l): positive, the form GAIL's own code
          uses. Positive rewards favour long episodes, which suits
          environments whose expert survives (tightrope, Walker2d); that
          bias is why it is the default (Kostrikov et al. 2019 discuss it).
  'log_d' log D = -softplus(-l): negative, so it favours ending episodes
          early; for tasks whose expert finishes quickly.
  'airl'  log D - log(1 - D) = l: the AIRL form, with neither sign bias.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from il_jax import data, envs
from il_jax.envs.validation import check_choice, check_non_negative
from il_jax.envs.validation import check_positive
from il_jax.experts import ppo_networks
from il_jax.experts import ppo as ppo_lib
from il_jax.policies.base import MLP
from il_jax.types import Metrics, Params, PRNGKey

REWARDS = ('gail', 'log_d', 'airl')


@dataclasses.dataclass(frozen=True)
class GAILConfig:
  """Static settings of a GAIL run; frozen and hashable.

  Attributes:
    ppo: the RL step's settings (its `num_envs * unroll_length` transitions
      per iteration are also the discriminator's learner batch).
    reward: the reward's form, one of `REWARDS` (see the module docstring).
    discriminator_hidden_sizes: hidden layers of D's MLP.
    discriminator_activation: their activation.
    discriminator_learning_rate: Adam's learning rate for D.
    discriminator_steps: Adam steps on D per iteration, each on the whole
      learner batch against as many expert rows.
    gradient_penalty: weight of a penalty on (|grad_x l(x)| - 1)^2 at
      random interpolates of expert and learner inputs (the WGAN-GP form
      of Gulrajani et al. 2017 that DAC applies to GAIL); 0 for none. It
      keeps D from growing so sharp that its reward stops guiding PPO.
  """
  ppo: ppo_lib.PPOConfig = ppo_lib.PPOConfig()
  reward: str = 'gail'
  discriminator_hidden_sizes: tuple[int, ...] = (64, 64)
  discriminator_activation: str = 'tanh'
  discriminator_learning_rate: float = 3e-4
  discriminator_steps: int = 1
  gradient_penalty: float = 0.0

  def __post_init__(self):
    check_choice('reward', self.reward, REWARDS)
    object.__setattr__(self, 'discriminator_hidden_sizes',
                       tuple(self.discriminator_hidden_sizes))
    check_positive('discriminator_learning_rate',
                   self.discriminator_learning_rate)
    check_positive('discriminator_steps', self.discriminator_steps,
                   integer=True)
    check_non_negative('gradient_penalty', self.gradient_penalty)


@struct.dataclass
class GAILState:
  """A GAIL run's state: PPO's, the discriminator's and the key that draws
  expert rows."""
  ppo: ppo_lib.PPOState
  discriminator: Params
  discriminator_opt_state: optax.OptState
  key: PRNGKey


def reward_from_logit(logit: jax.Array, form: str) -> jax.Array:
  """The GAIL reward of discriminator logits `[...]` (see `REWARDS`)."""
  if form == 'gail':
    return jax.nn.softplus(logit)
  if form == 'log_d':
    return -jax.nn.softplus(-logit)
  return logit


def make_train(config: GAILConfig, env, policy=None, expert=None,
               demonstrations: data.Demonstrations | None = None):
  """`train(key) -> (GAILState, metrics [num_iterations])`, one program.

  Args:
    config: the run's settings.
    env: an unbatched brax-interface environment, actions in [-1, 1].
    policy: None: the learner is PPO's policy network, shaped by
      `config.ppo`.
    expert: accepted for the shared signature and never called.
    demonstrations: the expert's `[T, B]` steps; their `(obs,
      expert_action)` rows are the discriminator's positives.

  Raises:
    ValueError: no demonstrations, demonstrations of other sizes, or a
      policy family (GAIL's learner is PPO's).
  """
  del expert  # GAIL imitates from the demonstrations alone.
  if policy is not None:
    raise ValueError("gail's learner is PPO's tanh-Gaussian policy, shaped "
                     'by config.ppo; pass policy=None.')
  if demonstrations is None:
    raise ValueError('gail needs demonstrations: it never calls an expert.')
  data.demonstrations.check(demonstrations, env.observation_size,
                            env.action_size)
  rows = data.demonstrations.flatten(
      jax.tree.map(jnp.asarray, demonstrations))
  # tanh actions never reach the bounds; a label on them would tell the
  # discriminator apart from the learner for free.
  low, high = envs.action_bounds(env)
  margin = 1e-3 * (high - low)
  expert_obs = rows.obs.astype(jnp.float32)
  expert_action = jnp.clip(rows.expert_action, low + margin, high - margin)

  learner = ppo_lib.make_ppo(config.ppo, env)
  batch_size = config.ppo.num_envs * config.ppo.unroll_length
  network = MLP(config.discriminator_hidden_sizes, 1,
                config.discriminator_activation)
  optimizer = optax.adam(config.discriminator_learning_rate)

  def logit(params, obs_stats, obs, action):
    inputs = jnp.concatenate(
        [ppo_networks.normalize(obs_stats, obs), action], axis=-1)
    return jnp.squeeze(network.apply(params, inputs), -1)

  def discriminator_loss(params, obs_stats, expert_batch, learner_batch,
                         key):
    expert_logit = logit(params, obs_stats, *expert_batch)
    learner_logit = logit(params, obs_stats, *learner_batch)
    loss = (jnp.mean(jax.nn.softplus(-expert_logit)) +
            jnp.mean(jax.nn.softplus(learner_logit)))
    if config.gradient_penalty > 0:
      mix = jax.random.uniform(key, (batch_size, 1))
      mixed = jax.tree.map(lambda e, l: mix * e + (1.0 - mix) * l,
                           expert_batch, learner_batch)
      grads = jax.vmap(jax.grad(
          lambda obs, action: logit(params, obs_stats, obs, action),
          argnums=(0, 1)))(*mixed)
      norm = jnp.sqrt(sum(jnp.sum(jnp.square(g), axis=-1) for g in grads) +
                      1e-12)
      loss += config.gradient_penalty * jnp.mean(jnp.square(norm - 1.0))
    return loss, {
        'Discriminator_Loss': loss,
        'Discriminator_ExpertAccuracy': jnp.mean(expert_logit > 0),
        'Discriminator_LearnerAccuracy': jnp.mean(learner_logit < 0)}

  def init(key: PRNGKey) -> GAILState:
    ppo_key, d_key, key = jax.random.split(key, 3)
    params = network.init(
        d_key, jnp.zeros((1, env.observation_size + env.action_size)))
    return GAILState(ppo=learner.init(ppo_key), discriminator=params,
                     discriminator_opt_state=optimizer.init(params), key=key)

  def iterate(state: GAILState, _) -> tuple[GAILState, Metrics]:
    key, sample_key, penalty_key = jax.random.split(state.key, 3)
    env_state, trajectory, episodes = learner.rollout(state.ppo)
    obs_stats = state.ppo.obs_stats
    action = jnp.tanh(trajectory.pre_tanh)  # what the environments executed
    learner_batch = (trajectory.obs.reshape(batch_size, -1),
                     action.reshape(batch_size, -1))

    def step(carry, keys):
      params, opt_state = carry
      index = jax.random.randint(keys[0], (batch_size,), 0,
                                 expert_obs.shape[0])
      grads, aux = jax.grad(discriminator_loss, has_aux=True)(
          params, obs_stats, (expert_obs[index], expert_action[index]),
          learner_batch, keys[1])
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), aux

    keys = jnp.stack([
        jax.random.split(sample_key, config.discriminator_steps),
        jax.random.split(penalty_key, config.discriminator_steps)], axis=1)
    (params, opt_state), aux = jax.lax.scan(
        step, (state.discriminator, state.discriminator_opt_state), keys)
    reward = reward_from_logit(logit(params, obs_stats, trajectory.obs, action),
                               config.reward)
    ppo_state, metrics = learner.learn(
        state.ppo, env_state,
        trajectory._replace(reward=reward * config.ppo.reward_scaling),
        episodes)
    metrics.update({name: value[-1] for name, value in aux.items()})
    metrics['GAIL_Reward'] = jnp.mean(reward)
    return GAILState(ppo=ppo_state, discriminator=params,
                     discriminator_opt_state=opt_state, key=key), metrics

  def train(key: PRNGKey):
    init_key, eval_key = jax.random.split(key)
    state, metrics = jax.lax.scan(iterate, init(init_key), None,
                                  learner.config.num_iterations)
    metrics.update(learner.evaluate(state.ppo, eval_key))
    return state, metrics

  return train

