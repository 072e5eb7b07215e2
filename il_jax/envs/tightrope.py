"""Tightrope: compounding error of behavioral cloning, in seconds on a CPU.

The MDP. A walker crosses a long rope held up by posts, one span between two
posts every `steps_per_span` steps, at a constant pace. It balances
laterally: `x` is its offset from the rope's line and `v` its lateral
velocity. Balance is unstable, and more so where the rope sways most, midway
between two posts:

    k(s)  = base_instability + sway_instability * sway(s),
    sway(s) = sin(pi * s)**2        (0 at a post, 1 mid-span),
    v'    = v + dt * (k(s) * x + clip(u, -1, 1)),
    x'    = x + dt * v'             (semi-implicit Euler),
    s'    = s + 1 / steps_per_span,

where `s` counts spans walked and `u` is the action. The walker falls, and
the episode terminates, when |x'| > 1. Each step it stays up it earns
`1 - x'**2` (in [0, 1]: survival and tightness); the falling step earns 0,
so the return is at most the episode length. Observation `[x, v, sway(s)]`;
action `[u]`; the state (`pipeline_state`) is `[x, v, s]`. The dynamics are
deterministic (per-step noise would let the expert's own data cover
the mid-span corrections and wash out the contrast): the only randomness
is the reset, which starts the walker at
a post with `x ~ U(-init_offset, init_offset)` and `v = 0`.

The expert is a saturated PD controller that cancels the local instability
and adds a critically damped spring (natural frequency 2 rad/s):
`u = clip(-(k(s) + 4) * x - 4 * v, -1, 1)`. It corrects the reset offset in
the first ~2 s, near the first post, and stays within 0.01 of the line from
step 40 on.

What it teaches. The expert demonstrates corrections only near the first
post; in the middle of a span its states lie on the line `x = v = 0`, where
it acts 0. The stronger feedback needed mid-span (the `sway * x` term) is
therefore never demonstrated, and a policy cloned from expert data
extrapolates the weak near-post gains. Its tiny residual errors are then
amplified by the unstable mid-span dynamics, it leaves the expert's states
and falls at the first mid-span (step ~50): error compounds. DAgger rolls
out the learner, so it visits exactly those off-line mid-span states, has
them relabelled by `expert_action` and learns the missing feedback.

The copycat cue (`show_previous_action=True`). The observation gains a 4th
entry, the previous action applied (clipped; 0 at reset), carried in the
state `[x, v, s, u_prev]`. The expert ignores it (`expert_action` reads the
first three entries), but in its demonstrations the previous action
predicts the current one almost perfectly, since the expert's action changes
slowly: a learner can copy it instead of learning the feedback from `x`,
`v` and the sway. This is the "copycat" nuisance of causal confusion (de
Haan et al. 2019, "Causal Confusion in Imitation Learning"; Wen et al.
2020, "Fighting Copycat Agents in Behavioral Cloning from Observation
Histories"): the copied cue is right on the expert's data and wrong once
the learner's own actions feed it.

RESULTS.md ("tightrope: BC vs DAgger") measures it under the CS285
protocol; its "Toy environments" section records how the dynamics were sized.
"""

import jax
import jax.numpy as jnp
from brax.envs.base import State

from il_jax.envs.toy import ToyEnv
from il_jax.envs.validation import check_action, check_positive

# The expert's closed loop after cancelling k(s): x'' = -4 x - 4 v, i.e.
# critically damped at 2 rad/s, settling well before the first mid-span.
_EXPERT_STIFFNESS = 4.0
_EXPERT_DAMPING = 4.0
# |x| beyond which the walker has fallen off the rope.
_FALL_OFFSET = 1.0


class Tightrope(ToyEnv):
  """Lateral balance on a swaying rope; analytic saturated-PD expert.

  Unbatched: `reset(rng)` takes one key `[2]`, `step` one action `[1]`; batch
  with `il_jax.envs.wrap`. See the module docstring for the MDP.
  """

  default_episode_length: int = 200

  def __init__(self,
               base_instability: float = 1.0,
               sway_instability: float = 20.0,
               steps_per_span: int = 100,
               init_offset: float = 0.1,
               dt: float = 0.05,
               show_previous_action: bool = False):
    """Builds the environment.

    Args:
      base_instability: k at a post (1/s^2): how fast the walker tips over.
      sway_instability: extra k mid-span (1/s^2); the mid-span feedback the
        expert never demonstrates.
      steps_per_span: steps to walk from one post to the next; the default
        episode crosses two spans.
      init_offset: half-width of the uniform initial lateral offset. Much
        beyond 0.3 the expert itself cannot settle before mid-span.
      dt: time step (s).
      show_previous_action: whether the observation gains a 4th entry, the
        previous action applied (clipped; 0 at reset), the copycat cue the
        expert ignores (see the module docstring). False keeps the 3-entry
        observation unchanged.

    Raises:
      ValueError: if an option is not a positive number (integer for
        `steps_per_span`), `init_offset` is not below the fall offset 1, or
        `show_previous_action` is not a bool.
    """
    check_positive('base_instability', base_instability)
    check_positive('sway_instability', sway_instability)
    check_positive('steps_per_span', steps_per_span, integer=True)
    check_positive('init_offset', init_offset)
    check_positive('dt', dt)
    if not isinstance(show_previous_action, bool):
      raise ValueError(f'show_previous_action={show_previous_action!r} is not '
                       'valid; expected True or False.')
    if init_offset >= _FALL_OFFSET:
      raise ValueError(
          f'init_offset={init_offset!r} is not valid; expected a number in '
          f'(0, {_FALL_OFFSET}), below the offset at which the walker falls.')
    self._base_instability = float(base_instability)
    self._sway_instability = float(sway_instability)
    self._span_per_step = 1.0 / steps_per_span
    self._init_offset = float(init_offset)
    self._dt = float(dt)
    self._show_previous_action = show_previous_action

  @property
  def observation_size(self) -> int:
    return 4 if self._show_previous_action else 3

  def reset(self, rng: jax.Array) -> State:
    """Starts at a post, slightly off the line, at rest (and, with
    `show_previous_action`, no previous action). rng: [2]."""
    x = jax.random.uniform(
        rng, (), minval=-self._init_offset, maxval=self._init_offset)
    # [x, v, s], then u_prev = 0 with `show_previous_action`: kept in the
    # state so that the auto-reset clears it with the episode.
    start = [x, 0.0, 0.0] + [0.0] * self._show_previous_action
    physics = jnp.stack(start).astype(jnp.float32)
    zero = jnp.zeros((), jnp.float32)
    return State(
        pipeline_state=physics,
        obs=self._observe(physics),
        reward=zero,
        done=zero,
        metrics={'fell': zero, 'squared_offset': jnp.square(x)},
        info={})

  def step(self, state: State, action: jax.Array) -> State:
    """One semi-implicit Euler step. action: [1], clipped to [-1, 1]."""
    check_action('tightrope', action, self.action_size)
    x, v, s = state.pipeline_state[:3]
    u = jnp.clip(action[0], -1.0, 1.0)
    v = v + self._dt * (self._instability(s) * x + u)
    x = x + self._dt * v
    physics = jnp.stack([x, v, s + self._span_per_step] +
                        [u] * self._show_previous_action)
    fell = (jnp.abs(x) > _FALL_OFFSET).astype(jnp.float32)
    reward = (1.0 - fell) * (1.0 - jnp.square(x))
    return state.replace(
        pipeline_state=physics,
        obs=self._observe(physics),
        reward=reward,
        done=fell,
        # Keeps metrics that wrappers added (brax's EvalWrapper adds
        # 'reward'), as brax's own environments do.
        metrics={**state.metrics, 'fell': fell,
                 'squared_offset': jnp.square(x)})

  def safety_margin(self, obs: jax.Array) -> jax.Array:
    """How far `obs [..., 3 or 4]` is from a fall: `1 - |x|`, `[...]`, >= 0.

    HG-DAgger's 'safety' gate intervenes where it is small.
    """
    return jnp.maximum(_FALL_OFFSET - jnp.abs(obs[..., 0]), 0.0)

  def expert_action(self, obs: jax.Array) -> jax.Array:
    """The saturated PD expert. obs: [..., 3 or 4] -> action [..., 1]; it
    reads `[x, v, sway]` only, ignoring the previous action if shown."""
    x, v, sway = obs[..., 0:1], obs[..., 1:2], obs[..., 2:3]
    stiffness = (self._base_instability + self._sway_instability * sway +
                 _EXPERT_STIFFNESS)
    return jnp.clip(-stiffness * x - _EXPERT_DAMPING * v, -1.0, 1.0)

  def _instability(self, s: jax.Array) -> jax.Array:
    return self._base_instability + self._sway_instability * _sway(s)

  def _observe(self, physics: jax.Array) -> jax.Array:
    """`[x, v, sway]`, then the previous action `u_prev` if shown."""
    # The 3-entry observation is stacked from scalars: the slice-and-
    # concatenate form below rounds differently in float32, which would
    # move every default-tightrope result.
    if not self._show_previous_action:
      x, v, s = physics
      return jnp.stack([x, v, _sway(s)])
    return jnp.concatenate([physics[:2], _sway(physics[2:3]), physics[3:]])


def _sway(s: jax.Array) -> jax.Array:
  """How much the rope sways at `s` spans: 0 at a post, 1 mid-span."""
  return jnp.square(jnp.sin(jnp.pi * s))
