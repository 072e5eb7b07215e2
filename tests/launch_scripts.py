"""Running launch scripts in their own process (helpers for the tests, not a
test): their absl flags (`--env`, `--out`, `--seed`, ...) share names, so two
of them cannot be imported into one test process."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_module(module: str, *args: str, timeout: float = 600,
               check: bool = False,
               env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess:
  """`python -m module args` from the repository's root, output captured
  (`env`: the process's environment, by default this one's)."""
  return subprocess.run([sys.executable, '-m', module, *args], cwd=REPO,
                        capture_output=True, text=True, timeout=timeout,
                        check=check, env=env)
