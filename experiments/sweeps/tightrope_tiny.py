"""A sweep small enough for a laptop CPU: DAgger on tightrope, learning rate
x beta x 3 seeds in one program, and two network sizes (two programs).

  python -m launch.sweep --spec=experiments/sweeps/tightrope_tiny.py \
      --workdir=runs/sweep_tiny
"""

SWEEP = {
    'base': {
        'algo': 'dagger', 'env': 'tightrope', 'policy': 'mlp',
        'beta_schedule': 'linear', 'n_iter': 5, 'num_envs': 4,
        'expert_steps_per_env': 50, 'steps_per_iter': 200,
        'train_steps_per_iter': 100, 'train_batch_size': 64,
        'eval_episodes': 4,
    },
    'grid': {
        'learning_rate': [1e-3, 5e-3],
        'beta': [0.5, 1.0],
        'size': [32, 64],
    },
    'seeds': 3,
}
