"""Walker2d's physics step on MJX-Warp (`impl='warp'`), batched by `vmap`.

MJX-Warp's `Data` holds per-world fields `[nworld, ...]` beside contact and
constraint buffers shared by every world of one call (`naconmax` contacts in
all); `mjx.step` has a custom `vmap` rule that runs one world per batch
element. So a Warp state cannot be made once and broadcast (its internal
fields have no batch axis), and `naconmax` must cover every world that one
call steps: under `vmap` over environments inside `vmap` over seeds that is
seeds x environments, which the environment cannot know when it is built.

`make_physics` therefore keeps the physics state compact (`PhysicsState`:
positions, velocities and the solver's warm start, one row per environment,
like any other pytree) and builds the Warp `Data` inside the step, from a
template sized for the batch it is given: its own `vmap` rule turns every
enclosing `vmap` into explicit leading dimensions, so the step sees the whole
batch `[..., nq]` and sizes `naconmax` for all of its worlds. Under a mesh
the batch is split over every device with `shard_map`, so a device steps
`nworld = batch / devices` worlds with a buffer sized for those.
"""

import importlib.util
import math

import jax
import jax.numpy as jnp
import mujoco
from flax import struct
from jax.sharding import PartitionSpec

# The extras that bring `warp-lang`: ours, or MJX's own.
INSTALL_HINT = ("pip install 'il_jax[warp]' (or 'mujoco-mjx[warp]')")


def require_warp() -> None:
  """Raises ImportError, in one line naming the extra, without `warp-lang`."""
  if importlib.util.find_spec('warp') is None:
    raise ImportError(
        f"impl='warp' needs the warp-lang package: {INSTALL_HINT}.")


@struct.dataclass
class PhysicsState:
  """What a MuJoCo step reads besides the control, for one environment.

  MuJoCo's step recomputes every derived quantity from positions and
  velocities, and warm-starts the constraint solver from `qacc_warmstart`
  (zero after a reset, as in Gymnasium); this is the `pipeline_state` of
  `Walker2d(impl='warp')`.

  Attributes:
    qpos: joint positions `[nq]`.
    qvel: joint velocities `[nv]`.
    qacc_warmstart: the previous step's accelerations `[nv]`.
  """
  qpos: jax.Array
  qvel: jax.Array
  qacc_warmstart: jax.Array


def contacts_per_world(mj_model: mujoco.MjModel) -> int:
  """The most contacts one Walker2d world can have at once.

  Only the floor collides with the body (its geoms have `conaffinity=0`),
  and every body geom is a capsule, which touches a plane at two points at
  most.
  """
  return 2 * (mj_model.ngeom - 1)


def constraints_per_world(mj_model: mujoco.MjModel) -> int:
  """The most constraint rows of one world: four per contact (pyramidal
  friction cone, `condim=3`) and one per limited joint."""
  return 4 * contacts_per_world(mj_model) + int(mj_model.jnt_limited.sum())


def make_physics(mj_model: mujoco.MjModel, frame_skip: int):
  """`physics(state: PhysicsState, ctrl [nu]) -> PhysicsState` on MJX-Warp.

  Runs `frame_skip` MuJoCo steps. It takes any number of leading batch
  dimensions (`[..., nq]`) and any enclosing `vmap`s, and steps them all as
  the worlds of one Warp call.
  """
  require_warp()
  from mujoco import mjx  # pylint: disable=g-import-not-at-top
  from mujoco.mjx.third_party.mujoco_warp._src.types import OverflowType  # pylint: disable=g-import-not-at-top
  model = mjx.put_model(mj_model, impl='warp')
  # The presets stop the solver and its line search after a few iterations
  # on purpose; Warp would print a warning for it at every step. Buffer
  # overflows still warn.
  opt = model.opt._impl  # pylint: disable=protected-access
  truncation = OverflowType.ITERATIONS | OverflowType.LS_ITERATIONS
  opt = opt.replace(warn_overflow=opt.warn_overflow & ~truncation)
  model = model.replace(opt=model.opt.replace(_impl=opt))
  per_world = contacts_per_world(mj_model)
  njmax = constraints_per_world(mj_model)

  def step_worlds(state: PhysicsState, ctrl: jax.Array) -> PhysicsState:
    """Steps `[n, ...]` worlds on one device."""
    n = ctrl.shape[0]
    template = mjx.make_data(mj_model, impl='warp', naconmax=n * per_world,
                             njmax=njmax)

    def one_world(state, ctrl):
      data = template.replace(qpos=state.qpos, qvel=state.qvel,
                              qacc_warmstart=state.qacc_warmstart, ctrl=ctrl)
      data = jax.lax.fori_loop(0, frame_skip,
                               lambda _, d: mjx.step(model, d), data)
      return PhysicsState(data.qpos, data.qvel, data.qacc_warmstart)

    return jax.vmap(one_world)(state, ctrl)

  @jax.custom_batching.custom_vmap
  def physics(state: PhysicsState, ctrl: jax.Array) -> PhysicsState:
    lead = ctrl.shape[:-1]
    n = math.prod(lead)
    flat = jax.tree.map(lambda x: x.reshape((n,) + x.shape[len(lead):]),
                        (state, ctrl))
    mesh = jax.sharding.get_abstract_mesh()
    if not mesh.empty and mesh.size > 1 and n % mesh.size == 0:
      spec = PartitionSpec(mesh.axis_names)
      out = jax.shard_map(step_worlds, in_specs=(spec, spec), out_specs=spec,
                          check_vma=False)(*flat)
    else:
      out = step_worlds(*flat)
    return jax.tree.map(lambda x: x.reshape(lead + x.shape[1:]), out)

  @physics.def_vmap
  def _physics_vmap(axis_size, in_batched, state, ctrl):
    # Make the vmapped axis an explicit leading dimension and call `physics`
    # again: an enclosing `vmap` then lands here too, so the call that runs
    # sees the whole batch.
    def batch(x, batched):
      return x if batched else jnp.broadcast_to(x, (axis_size,) + x.shape)

    state, ctrl = jax.tree.map(batch, (state, ctrl), tuple(in_batched))
    out = physics(state, ctrl)
    return out, jax.tree.map(lambda _: True, out)

  return physics
