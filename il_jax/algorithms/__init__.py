"""Imitation algorithms, each with `make_train(config, env, policy, expert)`."""
