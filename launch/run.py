"""`make run`: the default job, sized for the device it finds.

DAgger against BC on Walker2d with the shipped expert, several seeds each,
vmapped in one program. On a GPU: the runs of
`experiments/walker2d_bc_vs_dagger_gpu.py` (5 seeds, 1024 environments
collecting a full episode each per iteration, 10 iterations, evaluation over
64 episodes).
On a CPU, where MJX steps about a thousand env-steps/s, a few-minute version
of the CS285 protocol: 2 seeds, 2 environments, 5 iterations, evaluation over
2 episodes (`python -m launch.reproduce --experiment=walker2d_bc_vs_dagger`
is the full protocol). Without a Walker2d expert (see il_jax/experts) it runs
the same comparison on `tightrope`, the toy system where BC's compounding
errors show in seconds, and rolls out a random policy in Walker2d to
exercise the physics.

  python -m launch.run
  python -m launch.run --workdir=runs/default --num_seeds=3
"""

import time

import jax
from absl import app, flags

from experiments import walker2d_bc_vs_dagger_gpu
from il_jax import envs, experiment, rollout
from il_jax.config import ImitationConfig
from il_jax.experts import registry as experts
import launch

_WORKDIR = flags.DEFINE_string('workdir', 'runs/make_run', 'Output root.')
_NUM_SEEDS = flags.DEFINE_integer(
    'num_seeds', None, 'Seeds per method; default 5 on an accelerator, 2 on a '
    'CPU.')


def _imitation_config(env_name: str) -> ImitationConfig:
  length = envs.env_class(env_name).default_episode_length
  if launch.on_accelerator() and env_name == 'walker2d':
    return walker2d_bc_vs_dagger_gpu.IMITATION
  if launch.on_accelerator():
    num_envs, n_iter, eval_episodes = 1024, 10, 64
  elif env_name == 'walker2d':  # MJX on a CPU: a few minutes in all
    num_envs, n_iter, eval_episodes = 2, 5, 2
  else:
    num_envs, n_iter, eval_episodes = 2, 10, 5
  return ImitationConfig(
      n_iter=n_iter, num_envs=num_envs, expert_steps_per_env=length,
      steps_per_iter=num_envs * length, episode_length=length,
      eval_episodes=eval_episodes)


def _num_seeds() -> int:
  if _NUM_SEEDS.value is not None:
    return _NUM_SEEDS.value
  return 5 if launch.on_accelerator() else 2


def _random_walker2d() -> None:
  num_envs, num_steps = (4096, 1000) if launch.on_accelerator() else (16, 200)
  env = envs.wrap(envs.make('walker2d'), episode_length=1000)
  run = jax.jit(rollout.make_episode_summary_rollout(
      env, rollout.uniform_random_policy(env.action_size), num_envs,
      num_steps))
  key = jax.random.PRNGKey(0)
  compiled = run.lower(key).compile()
  start = time.perf_counter()
  summary = jax.device_get(compiled(key))
  seconds = time.perf_counter() - start
  print(f"Walker2d, random policy, {num_envs} envs x {num_steps} steps: "
        f"{summary['num_episodes']} episodes, return "
        f"{summary['return_mean']:.1f} ± {summary['return_std']:.1f}, length "
        f"{summary['length_mean']:.1f}; "
        f'{num_envs * num_steps / seconds:,.0f} env-steps/s')


def main(_):
  launch.quiet_logs()
  launch.configure_jax()
  env_name = 'walker2d'
  try:
    experts.load(env_name)
  except ValueError as error:
    print(f'{error}\nRunning BC vs DAgger on tightrope instead.')
    env_name = 'tightrope'
  final = {}
  for algo in ('bc', 'dagger'):
    config = experiment.RunConfig(
        algo=algo, env=env_name, policy='mlp', num_seeds=_num_seeds(),
        imitation=_imitation_config(env_name))
    workdir = f'{_WORKDIR.value}/{env_name}_{algo}'
    print(f'== {algo} on {env_name}, {config.num_seeds} seeds -> {workdir}')
    rows = experiment.run(config, workdir, resume=True)
    last = [r for r in rows if r['Iteration'] == config.imitation.n_iter - 1]
    final[algo] = tuple(
        sum(r[name] for r in last) / len(last)
        for name in ('Eval_AverageReturn', 'Expert_AverageReturn'))
  for algo, (score, expert) in final.items():
    print(f'{algo}: final Eval_AverageReturn {score:.1f} '
          f'({100 * score / expert:.0f} % of the expert\'s {expert:.1f})')
  if env_name != 'walker2d':
    _random_walker2d()
  print(f'Results (metrics, TensorBoard, checkpoints, learning curves) are in '
        f'{_WORKDIR.value}/')


if __name__ == '__main__':
  launch.run_app(main)
