"""The one rollout primitive, `unroll`, and the actors that plug into it.

`unroll` is a `lax.scan` over `env.step` of a batched (`wrap`-ped)
environment; everything that steps an environment calls it (brax's
`generate_unroll` is the model). What acts is an `Actor`: a learner/expert
mixture (DAgger's collection), a gated learner (HG-DAgger's), a
deterministic policy (evaluation) or any stochastic one (demonstrations,
benchmarks). `run` resets and unrolls several actors side by side in one
batch, so that their steps are one sequential scan instead of one scan each:
on an accelerator, where a step costs its latency, evaluating beside
collecting halves the sequential steps.
"""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from il_jax import envs
from il_jax.types import (Action, EpisodeStats, Observation, PRNGKey,
                          Transition)

# (obs [B, obs_size], key) -> action [B, action_size]
ActingFn = Callable[[Observation, PRNGKey], Action]


class Actor(NamedTuple):
  """What chooses the actions of a batch of environments in `unroll`.

  Attributes:
    act: `(actor_state, obs [B, obs_size], done [B], key) -> (action [B, A],
      actor_state, record)`. `done` says where an episode ended at the
      previous step (so `obs` starts a new one; all false after a reset);
      `key` is the step's entry of the keys given to `unroll`; `record` is
      any pytree of `[B, ...]` arrays, stacked `[T, B, ...]` by `unroll`.
    init: `batch_size -> actor_state`, the state before the first step.
  """
  act: Callable[[Any, Observation, jax.Array, Any], tuple[Action, Any, Any]]
  init: Callable[[int], Any]


class Step(NamedTuple):
  """One step of `unroll` in a batch of environments, `[B]` (stacked
  `[T, B]`).

  Attributes:
    obs: `[B, obs_size]` the observation acted on.
    action: `[B, A]` the executed action.
    reward: `[B]` the step's reward.
    done: `[B]` bool, whether an episode ended at this step.
    final_obs: `[B, obs_size]` the observation the step reached, before the
      auto-reset of an ended episode (equal to the next `obs` elsewhere).
    episode: statistics of the episodes that ended at this step.
    episode_metrics: name -> `[B]`, per-episode sums of the environment's own
      metrics for the episodes that ended at this step (valid where `done`).
    record: the actor's record of the step.
  """
  obs: jax.Array
  action: jax.Array
  reward: jax.Array
  done: jax.Array
  final_obs: jax.Array
  episode: EpisodeStats
  episode_metrics: dict[str, jax.Array]
  record: Any


def unroll(env, env_state, actor: Actor, actor_state, keys=None,
           length: int | None = None):
  """Steps `env` with `actor`: the one `lax.scan` over `env.step`.

  Args:
    env: a `wrap`-ped (batched, auto-resetting) environment.
    env_state: its state, batch `[B]`.
    actor: chooses the actions.
    actor_state: the actor's state, e.g. `actor.init(B)`.
    keys: pytree of `[T, ...]` arrays, one entry per step for `actor.act`
      (e.g. PRNG keys `[T, 2]`), or None for an actor that draws none.
    length: the number of steps T when `keys` is None.

  Returns:
    `((env_state, actor_state), steps)`: the states after T steps and
    `Step` with leading dimensions `[T, B]`.
  """

  def step(carry, key):
    env_state, actor_state = carry
    obs = env_state.obs
    action, actor_state, record = actor.act(
        actor_state, obs, env_state.done.astype(bool), key)
    env_state = env.step(env_state, action)
    metrics = env_state.info['episode_metrics']
    return (env_state, actor_state), Step(
        obs=obs, action=action, reward=env_state.reward,
        done=env_state.done.astype(bool),
        final_obs=env_state.info['final_obs'],
        episode=envs.episode_stats(env_state),
        episode_metrics={name: value for name, value in metrics.items()
                         if name not in ('sum_reward', 'length')},
        record=record)

  return jax.lax.scan(step, (env_state, actor_state), keys, length=length)


def side_by_side(actors: Sequence[Actor], sizes: Sequence[int]) -> Actor:
  """One actor for a batch made of `actors`' batches, concatenated.

  Actor k acts in environments `[sum(sizes[:k]), sum(sizes[:k + 1]))`; each
  sees only its own slice of the observations and `done`, takes the k-th
  entry of a tuple of keys and keeps its own state; the state and the record
  are tuples with one entry per actor.
  """
  bounds = [0]
  for size in sizes:
    bounds.append(bounds[-1] + size)

  def act(states, obs, done, keys):
    actions, new_states, records = [], [], []
    for actor, state, key, start, end in zip(actors, states, keys, bounds,
                                             bounds[1:]):
      action, state, record = actor.act(state, obs[start:end],
                                        done[start:end], key)
      actions.append(action)
      new_states.append(state)
      records.append(record)
    return (jnp.concatenate(actions), tuple(new_states), tuple(records))

  def init(batch_size):
    if batch_size != bounds[-1]:
      raise ValueError(f'batch_size={batch_size} is not the sum of the '
                       f'actors\' sizes {list(sizes)}.')
    return tuple(actor.init(size) for actor, size in zip(actors, sizes))

  return Actor(act=act, init=init)


class Part(NamedTuple):
  """An actor with the environments it runs, for `run`.

  Attributes:
    actor: chooses the actions.
    reset_keys: `[B, 2]`, one key per environment for its initial state.
    step_keys: pytree of `[num_steps, ...]` per-step keys for `actor.act`,
      or None for an actor that draws none.
    num_steps: the steps the part needs.
  """
  actor: Actor
  reset_keys: jax.Array
  step_keys: Any
  num_steps: int


def part(actor: Actor, key: PRNGKey, batch_size: int, num_steps: int) -> Part:
  """`actor` in `batch_size` environments for `num_steps` steps, the
  initial states and the per-step keys drawn from the two halves of `key`."""
  reset_key, step_key = jax.random.split(key)
  return Part(actor=actor, reset_keys=jax.random.split(reset_key, batch_size),
              step_keys=jax.random.split(step_key, num_steps),
              num_steps=num_steps)


def run(env, parts: Sequence[Part]) -> tuple[Step, ...]:
  """Resets and unrolls the parts side by side: one scan, one batch.

  Every environment starts from the initial state of its own reset key, and
  every actor acts on its own environments with its own keys, so each part
  takes the steps it would take alone (up to float32 rounding: XLA's fused
  code may round a step differently in another program); the scan runs as
  many steps as the longest part needs, and each part's steps beyond its own
  `num_steps` are dropped (their keys repeat its last one).

  Args:
    env: a `wrap`-ped environment.
    parts: the actors and their environments.

  Returns:
    One `Step [num_steps, B]` per part, in order.
  """
  length = max(p.num_steps for p in parts)
  sizes = [p.reset_keys.shape[0] for p in parts]
  actor = side_by_side([p.actor for p in parts], sizes)
  state = env.reset(jnp.concatenate([p.reset_keys for p in parts]))

  def pad(x):
    return jnp.concatenate([x, jnp.repeat(x[-1:], length - x.shape[0], 0)])

  keys = tuple(jax.tree.map(pad, p.step_keys) for p in parts)
  _, steps = unroll(env, state, actor, actor.init(sum(sizes)), keys,
                    length=length)
  results, start = [], 0
  for p, size, record in zip(parts, sizes, steps.record):
    own_steps = slice(p.num_steps)
    own = _index(steps._replace(record=None),
                 (own_steps, slice(start, start + size)))
    results.append(own._replace(record=_index(record, own_steps)))
    start += size
  return tuple(results)


def _index(tree, index):
  return jax.tree.map(lambda x: x[index], tree)


def stochastic(act: ActingFn) -> Actor:
  """The actor of a stateless policy `(obs [B, obs_size], key) -> action`."""
  return Actor(act=lambda state, obs, done, key: (act(obs, key), state, None),
               init=lambda batch_size: ())


def deterministic(act: Callable[[Observation], Action]) -> Actor:
  """The actor of a deterministic policy `obs [B, obs_size] -> action`; it
  draws no keys."""
  return Actor(act=lambda state, obs, done, key: (act(obs), state, None),
               init=lambda batch_size: ())


class Window(NamedTuple):
  """The actor state of `windowed`.

  Attributes:
    obs: `[B, k, obs_size]` the last k observations of each episode, oldest
      first.
    started: `[B]` bool, false until the first step; the first step fills
      the window like a reset (`done` is all false after `env.reset`).
  """
  obs: jax.Array
  started: jax.Array


def _check_history_length(history_length) -> None:
  if not isinstance(history_length, int) or isinstance(
      history_length, bool) or history_length < 1:
    raise ValueError(
        f'history_length must be an int >= 1, got {history_length!r}')


def _empty_window(batch_size: int, history_length: int,
                  observation_size: int) -> Window:
  return Window(
      obs=jnp.zeros((batch_size, history_length, observation_size)),
      started=jnp.zeros((batch_size,), bool))


def _advance(window: Window, obs: jax.Array, done: jax.Array) -> Window:
  """The window after seeing `obs [B, obs_size]`: where an episode starts
  (`done` at the previous step, or the first step) it is filled with `obs`
  ("first-obs padding"); elsewhere it shifts by one and appends `obs`."""
  fresh = done | ~window.started
  shifted = jnp.concatenate([window.obs[:, 1:], obs[:, None]], axis=1)
  padded = jnp.broadcast_to(obs[:, None], shifted.shape)
  return Window(jnp.where(fresh[:, None, None], padded, shifted),
                jnp.ones_like(window.started))


def windowed(act: ActingFn, history_length: int,
             observation_size: int) -> Actor:
  """The actor of a policy acting on `window [B, k, obs_size] -> action`.

  The window lives in the actor state so it resets with the episode (see
  `_advance`); the record is the window acted on. The training windows
  rebuilt from the dataset's predecessor links (`data.windows`) use the same
  padding. For k = 1 the plain stateless actor is returned, so Markov
  programs stay unchanged.
  """
  _check_history_length(history_length)
  if history_length == 1:
    return stochastic(act)

  def step(state, obs, done, key):
    window = _advance(state, obs, done)
    return act(window.obs, key), window, window.obs

  return Actor(
      act=step,
      init=lambda batch_size: _empty_window(batch_size, history_length,
                                            observation_size))


class Seen(NamedTuple):
  """A step's observation as an actor of `LearnerInput.actor` gets it.

  Attributes:
    full: `[B, obs_size]` the environment's observation (what the expert
      acts on).
    learner: what the learner acts on: `[B, view_size]` (its view of
      `full`) or, for a history policy, `[B, k, view_size]`, its window of
      the last k views, oldest first.
  """
  full: jax.Array
  learner: jax.Array


class LearnerInput(NamedTuple):
  """How the learner sees an environment: its view of each observation
  (`envs.learner_view`) and how many past views a history policy gets.

  `plain` (the full observation, no history) is every Markov policy on an
  environment without a view: its actors get the raw `obs [B, obs_size]`
  and are not wrapped, so Markov programs carry no view machinery. Otherwise
  `actor` wraps them so that they get a `Seen` and keeps the window in its
  state; `learner_obs` and `full_obs` pick an actor's inputs out of either.

  Attributes:
    history_length: k >= 1, the policy's `history_length`.
    view_size: the size of the learner's view.
    observe: `obs [..., obs_size] -> [..., view_size]`, or None for the
      full observation.
  """
  history_length: int = 1
  view_size: int = 0
  observe: Callable[[jax.Array], jax.Array] | None = None

  @property
  def plain(self) -> bool:
    return self.history_length == 1 and self.observe is None

  def view(self, obs: jax.Array) -> jax.Array:
    """`obs [..., obs_size] -> [..., view_size]`, the learner's view."""
    return obs if self.observe is None else self.observe(obs)

  def learner_obs(self, obs):
    """What the learner acts on, from what a (wrapped) actor gets."""
    return obs if self.plain else obs.learner

  def full_obs(self, obs):
    """The environment's observation, from what a (wrapped) actor gets."""
    return obs if self.plain else obs.full

  def actor(self, inner: Actor) -> Actor:
    """`inner`, getting a `Seen` instead of the raw observation (unless
    `plain`); the state is `(window, inner's state)`."""
    _check_history_length(self.history_length)
    if self.plain:
      return inner
    k = self.history_length

    def act(state, obs, done, key):
      window, inner_state = state
      view = self.view(obs)
      if k == 1:
        learner = view
      else:
        window = _advance(window, view, done)
        learner = window.obs
      action, inner_state, record = inner.act(inner_state, Seen(obs, learner),
                                              done, key)
      return action, (window, inner_state), record

    def init(batch_size):
      window = (() if k == 1 else
                _empty_window(batch_size, k, self.view_size))
      return window, inner.init(batch_size)

    return Actor(act=act, init=init)


def uniform_random_policy(action_size: int, low: float = -1.0,
                          high: float = 1.0) -> ActingFn:
  """Actions uniform in [low, high]^action_size, independently per env."""

  def act(obs, key):
    return jax.random.uniform(key, obs.shape[:-1] + (action_size,),
                              minval=low, maxval=high)

  return act


def with_action_noise(act: Callable[[Observation], Action],
                      std: float) -> ActingFn:
  """`act` plus independent `N(0, std^2)` noise per action dimension,
  clipped to [-1, 1] (the action range of every environment here): the
  injected noise of DART-style demonstrations.

  Args:
    act: deterministic `obs [B, obs_size] -> action [B, A]`.
    std: noise standard deviation (>= 0).
  """

  def noisy(obs, key):
    action = act(obs)
    noise = std * jax.random.normal(key, action.shape, action.dtype)
    return jnp.clip(action + noise, -1.0, 1.0)

  return noisy


def make_episode_summary_rollout(env, act: ActingFn, batch_size: int,
                                 num_steps: int):
  """`run(key) -> summary`: reset `batch_size` envs, act for `num_steps`.

  Args:
    env: a `wrap`-ped (batched, auto-resetting) environment.
    act: acting function `(obs [B, obs_size], key) -> action [B, A]`.
    batch_size: number of parallel environments B.
    num_steps: steps per environment.

  Returns:
    `run(key)` giving `envs.summarize_episodes` over the episodes that ended
    during the rollout: scalars only, so nothing of size `[num_steps, B]`
    leaves the device.
  """

  def summary(key):
    steps, = run(env, [part(stochastic(act), key, batch_size, num_steps)])
    return envs.summarize_episodes(steps.episode)

  return summary


class Labels(NamedTuple):
  """A labelling actor's record of a step, `[B]` (stacked `[T, B]`).

  Attributes:
    expert_action: `[B, A]` the expert's action at the step's observation
      (DAgger's label), whoever was in control.
    expert_controlled: `[B]` bool, whether the executed action was the
      expert's.
  """
  expert_action: jax.Array
  expert_controlled: jax.Array


def transitions(steps: Step, labels: Labels) -> Transition:
  """The `Transition`s of labelled steps (any leading dimensions)."""
  return Transition(
      obs=steps.obs, action=steps.action, expert_action=labels.expert_action,
      reward=steps.reward, done=steps.done,
      expert_controlled=labels.expert_controlled, episode=steps.episode)


def mixture(learner: ActingFn, expert: Callable[[Observation], Action],
            beta: jax.Array) -> Actor:
  """DAgger's beta-mixture of expert and learner, labelling every step.

  At every step and in every environment independently, the expert's action
  is executed with probability `beta` and the learner's otherwise; the
  expert is queried at every observation either way, so the record's
  `expert_action` is the relabelled target.

  Args:
    learner: `(obs [B, obs_size], key) -> action [B, A]`.
    expert: `obs [B, obs_size] -> action [B, A]`, deterministic.
    beta: scalar probability of executing the expert's action.

  Returns:
    An actor whose record is `Labels`.
  """

  def act(state, obs, done, key):
    learner_key, mix_key = jax.random.split(key)
    learner_action = learner(obs, learner_key)
    expert_action = expert(obs)
    use_expert = jax.random.bernoulli(mix_key, beta, done.shape)
    action = jnp.where(use_expert[:, None], expert_action, learner_action)
    return action, state, Labels(expert_action, use_expert)

  return Actor(act=act, init=lambda batch_size: ())


def collect(env, learner: ActingFn, expert: Callable[[Observation], Action],
            beta: jax.Array, key: PRNGKey, batch_size: int,
            num_steps: int) -> Transition:
  """Resets `env` and rolls out the `mixture` of expert and learner.

  Args:
    env: a `wrap`-ped (batched, auto-resetting) environment; it is reset
      here, so episodes do not span calls.
    learner: `(obs [B, obs_size], key) -> action [B, A]`.
    expert: `obs [B, obs_size] -> action [B, A]`, deterministic.
    beta: scalar probability of executing the expert's action.
    key: PRNG key.
    batch_size: number of parallel environments B.
    num_steps: steps per environment T.

  Returns:
    Transition with leading dimensions `[T, B]`.
  """
  steps, = run(env, [part(mixture(learner, expert, beta), key, batch_size,
                          num_steps)])
  return transitions(steps, steps.record)


class GateRecord(NamedTuple):
  """Per-step gate outcome of a gated rollout, `[B]` (stacked `[T, B]`).

  Attributes:
    value: the gate's value at the step's observation.
    takeover: whether the expert took control at this step.
  """
  value: jax.Array
  takeover: jax.Array


def gated(learner: ActingFn, expert: Callable[[Observation], Action],
          gate: Callable[[Observation, Action, Action], jax.Array],
          threshold: jax.Array, min_control_steps: int,
          release_tolerance: float | None) -> Actor:
  """A learner whose expert takes over where a gate fires (HG-DAgger).

  Per environment: while the learner drives, the expert takes control at a
  step whose gate value exceeds `threshold`; it keeps control for at least
  `min_control_steps` steps and then hands back (`release_tolerance=None`),
  or hands back only once the learner's proposal is within
  `release_tolerance` (L2) of its own action. An episode's end also ends an
  intervention. The expert is queried at every step. Keys are used as
  `mixture` uses them, so with a gate that always fires this visits exactly
  the states of `mixture` with beta = 1.

  Args:
    learner: `(obs [B, obs_size], key) -> action [B, A]`.
    expert: `obs [B, obs_size] -> action [B, A]`.
    gate: `(obs [B, obs_size], learner_action [B, A], expert_action [B, A])
      -> value [B]`; larger means intervene sooner.
    threshold: scalar; the expert takes over when `value > threshold`.
    min_control_steps: minimum length of an intervention.
    release_tolerance: None for the window rule, else the agreement distance.

  Returns:
    An actor whose record is `(Labels, GateRecord)`; its state is
    `(in_control [B] bool, control_steps [B] int32)`.
  """

  def act(state, obs, done, key):
    in_control, control_steps = state
    in_control &= ~done
    learner_key, _ = jax.random.split(key)
    learner_action = learner(obs, learner_key)
    expert_action = expert(obs)
    value = gate(obs, learner_action, expert_action)
    takeover = ~in_control & (value > threshold)
    in_control = in_control | takeover
    control_steps = jnp.where(takeover, 0, control_steps) + in_control
    action = jnp.where(in_control[:, None], expert_action, learner_action)
    release = control_steps >= min_control_steps
    if release_tolerance is not None:
      distance = jnp.linalg.norm(learner_action - expert_action, axis=-1)
      release &= distance <= release_tolerance
    return action, (in_control & ~release, control_steps), (
        Labels(expert_action, in_control), GateRecord(value, takeover))

  def init(batch_size):
    return jnp.zeros(batch_size, bool), jnp.zeros(batch_size, jnp.int32)

  return Actor(act=act, init=init)


def collect_gated(env, learner: ActingFn, expert: Callable[[Observation],
                                                           Action],
                  gate: Callable[[Observation, Action, Action], jax.Array],
                  threshold: jax.Array, min_control_steps: int,
                  release_tolerance: float | None, key: PRNGKey,
                  batch_size: int, num_steps: int):
  """Resets `env` and rolls out the `gated` learner.

  Environments are reset and keys drawn as in `collect`. The arguments are
  those of `gated`, then `key`, `batch_size` B and `num_steps` T.

  Returns:
    `(Transition [T, B], GateRecord [T, B])`; `Transition.expert_controlled`
    says who drove at each step.
  """
  actor = gated(learner, expert, gate, threshold, min_control_steps,
                release_tolerance)
  steps, = run(env, [part(actor, key, batch_size, num_steps)])
  labels, record = steps.record
  return transitions(steps, labels), record
