"""absl-flag entry points; run them as modules from the repo root: `python -m launch.train`."""
