"""A run's directory: is it writable, does it hold a run, who is using it.

One process at a time writes a run: `lock(workdir)` holds an advisory lock
file with the owner's PID, host and process start time. A lock whose owner
is gone (same host, no such process, or another process under a reused PID)
is broken, so a crashed run never leaves its directory stuck.
"""

import contextlib
import json
import os
import socket
import time

LOCK_FILE = 'lock.json'


class WorkdirError(ValueError):
  """A workdir that cannot be used; the message is one line naming it."""


def check_writable(workdir: str) -> None:
  """Creates `workdir` if needed; raises WorkdirError, naming the path, if
  it is not a directory this process can write in."""
  path = workdir
  if os.path.exists(path) and not os.path.isdir(path):
    raise WorkdirError(f'workdir={workdir} is not a directory (it is a '
                       'file); expected a directory to write the run in.')
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as error:
    raise WorkdirError(f'workdir={workdir} cannot be created: '
                       f'{error.strerror}.') from None
  if not os.access(path, os.W_OK | os.X_OK):
    raise WorkdirError(f'workdir={workdir} is not writable by this user.')
  probe = os.path.join(path, f'.write_test.{os.getpid()}')
  try:
    with open(probe, 'w'):
      pass
    os.remove(probe)
  except OSError as error:  # e.g. a read-only file system
    raise WorkdirError(f'workdir={workdir} is not writable: '
                       f'{error.strerror}.') from None


def _start_time(pid: int) -> str | None:
  """The start time of process `pid` (Linux: field 22 of /proc/<pid>/stat),
  which tells a reused PID from the original; None where unknown."""
  try:
    with open(f'/proc/{pid}/stat') as f:
      return f.read().rsplit(')', 1)[1].split()[19]
  except (OSError, IndexError):
    return None


def _alive(owner: dict) -> bool:
  """Whether the process that wrote the lock `owner` still runs (assumed so
  for another host, which this one cannot check)."""
  if owner.get('host') != socket.gethostname():
    return True
  pid = owner.get('pid')
  if not isinstance(pid, int):
    return False
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # another user's process: it exists
    pass
  started = owner.get('started')
  return started is None or _start_time(pid) in (None, started)


@contextlib.contextmanager
def lock(workdir: str):
  """Holds `<workdir>/lock.json` while the block runs.

  Raises:
    WorkdirError: if a live process holds it, naming its PID and host.
  """
  path = os.path.join(workdir, LOCK_FILE)
  pid = os.getpid()
  owner = {'pid': pid, 'host': socket.gethostname(),
           'started': _start_time(pid)}
  for _ in range(3):
    try:
      fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
      try:
        with open(path) as f:
          holder = json.load(f)
      except (OSError, ValueError):
        # Being written by a process locking now, or left half-written by
        # one killed while locking: give the first a few seconds.
        holder = {'pid': None, 'host': socket.gethostname()}
        with contextlib.suppress(OSError):
          if time.time() - os.path.getmtime(path) < 10:
            holder['host'] = 'an unknown host'
      if _alive(holder):
        raise WorkdirError(
            f'{workdir} is in use by process {holder.get("pid")} on '
            f'{holder.get("host")} (lock {path}); wait for it to finish, or '
            'delete the lock file if that process is gone.') from None
      with contextlib.suppress(FileNotFoundError):
        os.remove(path)  # its owner is gone
      continue
    with os.fdopen(fd, 'w') as f:
      json.dump(owner, f)
    break
  else:
    raise WorkdirError(f'Could not lock {workdir} ({path}).')
  try:
    yield
  finally:
    with contextlib.suppress(FileNotFoundError):
      os.remove(path)
