"""GAIL (Ho & Ermon 2016): imitation by recovering a reward, on the device.

    demonstrations <- given, or roll out the expert (as BC's)
    repeat: roll out the learner (PPO's tanh-Gaussian policy)
            train the discriminator D(s, a) on expert rows against the
              learner's (logistic loss; D is the probability of "expert")
            replace the rollout's rewards with r(D(s, a))
            PPO's update on those rewards

The expert is never queried after the demonstrations: GAIL sees only
them. The RL step is the project's PPO (`experts.ppo.make_ppo`, its
`rollout` and `learn` halves), so the learner, its observation normaliser
and its update are PPO's; the discriminator sees observations through the
same normaliser. An iteration of the driver is `steps_per_iter` environment
steps of such rounds, then the deterministic policy's evaluation on the
true reward, so GAIL checkpoints, resumes and reports like the other
algorithms (`Eval_AverageReturn`, `Train_AverageReturn` of the rollouts'
true return, `Expert_Labels`, ...), and adds the discriminator's accuracy
on each side and the mean GAIL reward.

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
from typing import ClassVar

import jax
import jax.numpy as jnp
import optax
from flax import struct

from il_jax import data, envs, evaluation
from il_jax.algorithms import core
from il_jax.config import ImitationConfig
from il_jax.envs.validation import (check_choice, check_layer_sizes,
                                    check_non_negative, check_positive)
from il_jax.experts import ppo_networks
from il_jax.experts import ppo as ppo_lib
from il_jax.policies.base import ACTIVATIONS, MLP
from il_jax.types import HyperParams, Metrics, Params, PRNGKey

REWARDS = ('gail', 'log_d', 'airl')
# The shared fields GAIL has no use for: its learner's training is PPO's.
_UNUSED = ('train_steps_per_iter', 'train_batch_size', 'ema_decay')


@dataclasses.dataclass(frozen=True)
class GAILConfig(ImitationConfig):
  """GAIL's config: the shared fields, PPO's and the discriminator's.

  The defaults are a tightrope recipe: 64 environments, 10 iterations of
  32 PPO rounds of 64 x 20 steps (409,600 steps in all), two-layer
  networks of 64 units, one discriminator step per round with a
  gradient penalty.

  `eval_episodes`, `episode_length`, `demo_noise` and
  `out_of_bounds_labels` mean what they mean for every algorithm;
  `train_steps_per_iter`, `train_batch_size` and `ema_decay` must keep their
  defaults: PPO trains the learner.

  Attributes (the shared `ImitationConfig` fields mean for GAIL):
    n_iter: iterations; each is `steps_per_iter` steps of rollouts and
      updates, then an evaluation and (in the driver) a checkpoint.
    num_envs: PPO's parallel environments.
    steps_per_iter: environment steps of rollouts per iteration, a multiple
      of `num_envs * unroll_length` (one PPO round).
    expert_steps_per_env: steps of the expert's demonstrations in each of
      `demonstration_envs` environments, when none are given.
    learning_rate, max_grad_norm, normalize_observations: PPO's Adam
      learning rate, gradient clip and running observation normaliser
      (which the discriminator's inputs share).
  Attributes (GAIL's own):
    demonstration_envs: environments the expert demonstrates in, so that
      the demonstrations do not scale with `num_envs` (2, as BC's default,
      gives BC's demonstrations for the same seed).
    unroll_length, num_minibatches, update_epochs, anneal_learning_rate,
      discount, gae_lambda, clip_epsilon, dual_clip, value_coef,
      entropy_coef, reward_scaling, policy_hidden_sizes,
      value_hidden_sizes: PPO's (`experts.ppo.PPOConfig`; `dual_clip` is
      the guard against the late collapse PPO's Walker2d experts showed).
    network_activation: the hidden activation of PPO's networks.
    reward: the reward's form, one of `REWARDS` (module docstring).
    discriminator_hidden_sizes: hidden layers of D's MLP.
    discriminator_activation: their activation.
    discriminator_learning_rate: Adam's learning rate for D.
    discriminator_steps: Adam steps on D per round, each on the whole
      rollout against as many expert rows drawn with replacement. One
      (the default) keeps D from overfitting a few demonstrations: from
      tightrope's 400 expert rows, 5 steps let D separate them from every
      learner step on 2 of 5 seeds, whose learners then stall
      (`experiments/tightrope_gail`).
    gradient_penalty: weight of a penalty on (|grad_x l(x)| - 1)^2 at
      random interpolates of expert and learner inputs (the WGAN-GP form of
      Gulrajani et al. 2017 that DAC applies to GAIL); 0 for none. It keeps
      D from growing so sharp that its reward stops guiding PPO.
  """
  num_envs: int = 64
  steps_per_iter: int = 40_960
  learning_rate: float = 1e-3
  max_grad_norm: float = 1.0
  normalize_observations: bool = True
  demonstration_envs: int = 2
  unroll_length: int = 20
  num_minibatches: int = 4
  update_epochs: int = 4
  anneal_learning_rate: bool = True
  discount: float = 0.99
  gae_lambda: float = 0.95
  clip_epsilon: float = 0.2
  dual_clip: float | None = None
  value_coef: float = 0.5
  entropy_coef: float = 1e-3
  reward_scaling: float = 1.0
  policy_hidden_sizes: tuple[int, ...] = (64, 64)
  value_hidden_sizes: tuple[int, ...] = (64, 64)
  network_activation: str = 'swish'
  reward: str = 'gail'
  discriminator_hidden_sizes: tuple[int, ...] = (64, 64)
  discriminator_activation: str = 'tanh'
  discriminator_learning_rate: float = 3e-4
  discriminator_steps: int = 1
  gradient_penalty: float = 1.0

  # PPO's learning rate lives in a schedule, so nothing is traced: a sweep
  # compiles one program per value.
  TRACED: ClassVar[tuple[str, ...]] = ()

  def __post_init__(self):
    super().__post_init__()
    for name in _UNUSED:
      default = ImitationConfig.__dataclass_fields__[name].default
      if getattr(self, name) != default:
        raise ValueError(
            f'{name}={getattr(self, name)!r} is not used by gail, whose '
            'learner PPO trains (update_epochs x num_minibatches steps per '
            f'round); leave it at {default!r}.')
    check_positive('demonstration_envs', self.demonstration_envs,
                   integer=True)
    check_choice('reward', self.reward, REWARDS)
    check_choice('discriminator_activation', self.discriminator_activation,
                 tuple(ACTIVATIONS))
    for name in ('policy_hidden_sizes', 'value_hidden_sizes',
                 'discriminator_hidden_sizes'):
      object.__setattr__(self, name,
                         check_layer_sizes(name, getattr(self, name)))
    check_positive('discriminator_learning_rate',
                   self.discriminator_learning_rate)
    check_positive('discriminator_steps', self.discriminator_steps,
                   integer=True)
    check_non_negative('gradient_penalty', self.gradient_penalty)
    round_steps = self.num_envs * self.unroll_length
    if self.steps_per_iter % round_steps:
      raise ValueError(
          f'steps_per_iter={self.steps_per_iter} is not valid; expected a '
          f'multiple of num_envs * unroll_length = {round_steps} (one PPO '
          'round).')
    self.ppo  # pylint: disable=pointless-statement  # checks PPO's fields

  @property
  def ppo(self) -> ppo_lib.PPOConfig:
    """The RL step's config."""
    return ppo_lib.PPOConfig(
        total_env_steps=self.n_iter * self.steps_per_iter,
        num_envs=self.num_envs, unroll_length=self.unroll_length,
        num_minibatches=self.num_minibatches,
        update_epochs=self.update_epochs,
        episode_length=self.episode_length,
        learning_rate=self.learning_rate,
        anneal_learning_rate=self.anneal_learning_rate,
        max_grad_norm=self.max_grad_norm, discount=self.discount,
        gae_lambda=self.gae_lambda, clip_epsilon=self.clip_epsilon,
        dual_clip=self.dual_clip, value_coef=self.value_coef,
        entropy_coef=self.entropy_coef,
        reward_scaling=self.reward_scaling,
        normalize_observations=self.normalize_observations,
        policy_hidden_sizes=self.policy_hidden_sizes,
        value_hidden_sizes=self.value_hidden_sizes,
        activation=self.network_activation,
        num_eval_envs=self.eval_episodes)

  @property
  def rounds_per_iter(self) -> int:
    """PPO rounds (rollout, discriminator, update) per iteration."""
    return self.steps_per_iter // (self.num_envs * self.unroll_length)

  @property
  def expert_steps(self) -> int:
    """Rows of the expert's demonstrations (`demonstration_envs` of
    them)."""
    return self.demonstration_envs * self.expert_steps_per_env


@struct.dataclass
class GAILState:
  """Everything a GAIL run needs to continue.

  Attributes:
    ppo: the learner's (`experts.ppo.PPOState`, environments included).
    discriminator: D's parameters.
    discriminator_opt_state: D's Adam state.
    dataset: the demonstrations (`data.Dataset`; `action` holds their
      labels, clipped to the action bounds unless
      `out_of_bounds_labels='error'`).
    key: PRNG key for the next iteration.
    iteration: int32, iterations completed.
    env_steps: int32, environment steps so far (demonstrations, rollouts
      and evaluations).
    expert_return: mean return of the demonstrations' episodes.
    labels_out_of_bounds: int32, demonstration labels outside the bounds.
    hparams: `HyperParams` (none: see `GAILConfig.TRACED`).
  """
  ppo: ppo_lib.PPOState
  discriminator: Params
  discriminator_opt_state: optax.OptState
  dataset: data.Dataset
  key: PRNGKey
  iteration: jax.Array
  env_steps: jax.Array
  expert_return: jax.Array
  labels_out_of_bounds: jax.Array
  hparams: HyperParams


def reward_from_logit(logit: jax.Array, form: str) -> jax.Array:
  """The GAIL reward of discriminator logits `[...]` (see `REWARDS`)."""
  if form == 'gail':
    return jax.nn.softplus(logit)
  if form == 'log_d':
    return -jax.nn.softplus(-logit)
  return logit


def _mean_over_rounds(metrics: Metrics) -> Metrics:
  """Per-round metrics `[rounds]` as one value each: PPO's extremes stay
  extremes, the rollouts' return is averaged over the episodes that ended
  and the discriminator's are its last round's."""
  episodes = metrics.pop('Train_NumEpisodes')
  returns = metrics.pop('Train_AverageReturn')
  reduced = {name: ppo_lib.EXTREME_METRICS.get(name, jnp.mean)(value)
             for name, value in metrics.items()
             if not name.startswith('Discriminator_')}
  reduced.update({name: value[-1] for name, value in metrics.items()
                  if name.startswith('Discriminator_')})
  ended = jnp.sum(episodes)
  reduced['Train_AverageReturn'] = jnp.where(
      ended > 0, jnp.sum(jnp.where(episodes > 0, returns * episodes, 0.0)) /
      jnp.maximum(ended, 1), jnp.nan)
  reduced['Train_NumEpisodes'] = ended
  return reduced


def gail_train_fns(config: GAILConfig, env, expert=None,
                   demonstrations: data.Demonstrations | None = None
                   ) -> core.TrainFns:
  """GAIL's `init(key, hparams=None)` and `iteration(state, i)`.

  Args:
    config: the run's settings.
    env: an unbatched brax-interface environment, actions in [-1, 1].
    expert: `obs [B, obs_size] -> action [B, A]`; called only to
      demonstrate when `demonstrations` is None.
    demonstrations: the expert's `[T, B]` steps; their `(obs,
      expert_action)` rows are the discriminator's positives.

  Raises:
    ValueError: demonstrations of other sizes, naming the field.
  """
  if demonstrations is not None:
    data.demonstrations.check(demonstrations, env.observation_size,
                              env.action_size)
    demonstrations = jax.tree.map(jnp.asarray, demonstrations)
  learner = ppo_lib.make_ppo(config.ppo, env)
  wrapped = envs.wrap(env, episode_length=config.episode_length)
  low, high = envs.action_bounds(env)
  # tanh actions never reach the bounds; a label on them would tell the
  # discriminator apart from the learner for free.
  margin = 1e-3 * (high - low)
  batch_size = config.num_envs * config.unroll_length
  capacity = (config.expert_steps if demonstrations is None else
              demonstrations.num_rows)
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

  def init(key: PRNGKey, hparams: HyperParams | None = None) -> GAILState:
    # The demonstrations' key is BC's, so that the same seed demonstrates
    # the same data for both.
    demo_key, ppo_key, key = jax.random.split(key, 3)
    d_key, key = jax.random.split(key)
    dataset, summary = core.demonstration_data(
        config, wrapped, expert, demonstrations, capacity, demo_key,
        num_envs=config.demonstration_envs)
    dataset, outside = core.bound_labels(config, dataset, (low, high))
    params = network.init(
        d_key, jnp.zeros((1, env.observation_size + env.action_size)))
    return GAILState(
        ppo=learner.init(ppo_key), discriminator=params,
        discriminator_opt_state=optimizer.init(params), dataset=dataset,
        key=key, iteration=jnp.zeros((), jnp.int32),
        env_steps=jnp.asarray(capacity, jnp.int32),
        expert_return=summary['return_mean'],
        labels_out_of_bounds=outside,
        hparams={} if hparams is None else hparams)

  def round_(carry, key):
    """One PPO round on the discriminator's reward."""
    ppo_state, params, opt_state, dataset = carry
    sample_key, penalty_key = jax.random.split(key)
    env_state, trajectory, episodes = learner.rollout(ppo_state)
    obs_stats = ppo_state.obs_stats
    action = jnp.tanh(trajectory.pre_tanh)  # what the environments executed
    learner_batch = (trajectory.obs.reshape(batch_size, -1),
                     action.reshape(batch_size, -1))

    def step(carry, keys):
      params, opt_state = carry
      expert_rows = data.sample(dataset, keys[0], batch_size)
      expert_batch = (expert_rows.obs, jnp.clip(expert_rows.action,
                                                low + margin, high - margin))
      grads, aux = jax.grad(discriminator_loss, has_aux=True)(
          params, obs_stats, expert_batch, learner_batch, keys[1])
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), aux

    keys = jnp.stack([
        jax.random.split(sample_key, config.discriminator_steps),
        jax.random.split(penalty_key, config.discriminator_steps)], axis=1)
    (params, opt_state), aux = jax.lax.scan(step, (params, opt_state), keys)
    reward = reward_from_logit(logit(params, obs_stats, trajectory.obs, action),
                               config.reward)
    ppo_state, metrics = learner.learn(
        ppo_state, env_state,
        trajectory._replace(reward=reward * config.reward_scaling), episodes)
    del metrics['env_steps']
    metrics.update({name: value[-1] for name, value in aux.items()})
    metrics['GAIL_Reward'] = jnp.mean(reward)
    return (ppo_state, params, opt_state, dataset), metrics

  def iteration(state: GAILState, i: jax.Array) -> tuple[GAILState, Metrics]:
    rounds_key, eval_key, next_key = jax.random.split(state.key, 3)
    (ppo_state, params, opt_state, _), per_round = jax.lax.scan(
        round_, (state.ppo, state.discriminator,
                 state.discriminator_opt_state, state.dataset),
        jax.random.split(rounds_key, config.rounds_per_iter))
    act = ppo_networks.make_policy_fn(learner.policy_spec,
                                      ppo_lib.export(ppo_state))
    summary = evaluation.evaluate(act, wrapped, eval_key,
                                  config.eval_episodes, config.episode_length)
    env_steps = (state.env_steps + config.steps_per_iter +
                 config.eval_episodes * config.episode_length)
    rounds = _mean_over_rounds(per_round)
    metrics = {
        'Iteration': i,
        **evaluation.eval_metrics(summary),
        # D's logistic loss is the objective GAIL's imitation descends.
        'Training_Loss': rounds['Discriminator_Loss'],
        'Dataset_Size': state.dataset.size,
        # The demonstrations are GAIL's only expert labels.
        'Expert_Labels': state.dataset.size,
        'Expert_AverageReturn': state.expert_return,
        'Total_EnvSteps': env_steps,
        'Labels_OutOfBounds': state.labels_out_of_bounds,
        **rounds,
        **evaluation.env_metrics(summary),
    }
    return state.replace(
        ppo=ppo_state, discriminator=params,
        discriminator_opt_state=opt_state, key=next_key,
        iteration=state.iteration + 1, env_steps=env_steps), metrics

  return core.TrainFns(init=init, iteration=iteration)


ALGORITHM = core.Algorithm(name='gail', config_class=GAILConfig,
                           own_loop=gail_train_fns)
make_train_fns = ALGORITHM.make_train_fns
make_train = ALGORITHM.make_train
