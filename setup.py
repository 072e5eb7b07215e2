"""il_jax: imitation learning (BC, DAgger, HG-DAgger) at accelerator speed.

Why these pins:
- jax: 0.10.x is what pip resolves for Python 3.11 on our CPU machines and CI;
  the GPU machines run Python 3.12 with jax 0.11.x. The whole test suite
  passes on both lines (0.11.2 checked on a CPU with Python 3.12); the
  markers keep each machine on the line we measured it with. Brax's training
  agents call `jax.device_put_replicated`, which both lines lack (0.10.2
  already), which is why we only import brax's environment interface and
  wrappers.
- mujoco and mujoco-mjx must be the same release (MJX compiles the C model);
  3.17.0 is the release our Gymnasium parity numbers were measured against.
- brax 0.14.2: its `Env`/`State` interface and training wrappers, which work on
  both jax lines above.
- flax / optax / chex / orbax-checkpoint: the releases that resolve together
  with jax 0.10.2 on Python 3.11; bump them together with jax.
- gymnasium 1.4.0 (dev extra only): the reference Walker2d-v4/v5 for parity
  tests and CPU evaluation; it accepts our mujoco 3.17.0.
- warp-lang 1.18.0 (warp and dev extras): MJX-Warp, Walker2d's
  `impl='warp'`, the pin of mujoco-mjx 3.17.0's own `[warp]` extra. Its wheel
  is ~149 MB, but it is the engine NVIDIA and MuJoCo recommend on NVIDIA GPUs
  (Playground's default), and the dev extra needs it so that CI holds it to
  MJX-JAX step for step (tests/test_walker2d_warp.py).
"""

import setuptools

INSTALL_REQUIRES = [
    'jax==0.10.2; python_version < "3.12"',
    'jax>=0.11.2,<0.12; python_version >= "3.12"',
    'flax==0.12.8',
    'optax==0.2.8',
    'chex==0.1.92',
    'orbax-checkpoint==0.12.8',
    'brax==0.14.2',
    'mujoco==3.17.0',
    'mujoco-mjx==3.17.0',
    'absl-py>=2.1',
    # Slurm sweeps (launch/sweep.py --backend=slurm).
    'submitit>=1.5',
    'numpy>=1.26',
]

EXTRAS_REQUIRE = {
    'dev': [
        'pytest==9.2.0',
        'gymnasium[mujoco]==1.4.0',
        'matplotlib>=3.8',
        'warp-lang==1.18.0',
    ],
    # MJX-Warp: envs.make('walker2d', impl='warp').
    'warp': ['warp-lang==1.18.0'],
    # jax's CUDA 12 wheels; the plugin version follows the jax line installed.
    'cuda': ['jax[cuda12]'],
}

setuptools.setup(
    name='il_jax',
    version='0.1.0',
    description='Imitation learning (BC, DAgger, HG-DAgger) in JAX/Flax on MJX.',
    # launch/ (the absl entry points) and experiments/ (the named configs
    # they run) install beside il_jax, so that `python -m launch.train` and
    # the console scripts below work from any directory.
    packages=setuptools.find_packages(
        include=['il_jax', 'il_jax.*', 'launch', 'experiments']),
    entry_points={'console_scripts': [
        'il-jax-train = launch.entry_points:train',
        'il-jax-sweep = launch.entry_points:sweep',
        'il-jax-evaluate = launch.entry_points:evaluate',
    ]},
    # Shipped experts: card, NumPy export and orbax parameters (whose files
    # nest up to four directories below the expert's).
    package_data={'il_jax': ['envs/assets/*.xml', 'experts/assets/*/*',
                            'experts/assets/*/*/*', 'experts/assets/*/*/*/*',
                            'experts/assets/*/*/*/*/*']},
    python_requires='>=3.11',
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
