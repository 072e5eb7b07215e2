"""Appending measured rows to the markdown tables of BENCHMARKS.md/RESULTS.md.

Every figure we publish names the device and command that produced it, so
rows are appended by the scripts that measure them, never typed by hand.
"""

import datetime
import os
import shlex
import sys

import jax

# The sections of BENCHMARKS.md, each written by one script (and read back
# by the tests).
RAW_THROUGHPUT = 'Environment throughput (random actions)'  # bench
LOOP_THROUGHPUT = 'DAgger loop throughput against raw stepping'  # bench
POLICY_COST = 'Policy families: training and acting cost'  # bench_policies
SEED_SCALING = 'Seed scaling: vmapped seeds against one after another'
FIDELITY = 'Walker2d fidelity against Gymnasium'  # fidelity
SOLVER_SETTINGS = 'Walker2d solver settings: behaviour and sequential work'


def device_name() -> str:
  """The first device, e.g. 'NVIDIA H100 80GB HBM3' or 'cpu (2 cores)'."""
  device = jax.devices()[0]
  if device.platform == 'cpu':
    return f'cpu ({os.cpu_count()} cores)'
  return f'{device.device_kind} x{jax.device_count()}'


def today() -> str:
  return datetime.date.today().isoformat()


def command_line() -> str:
  """The command that is running, as `python -m module args`, in backticks."""
  main = sys.modules['__main__']
  spec = getattr(main, '__spec__', None)
  program = f'python -m {spec.name}' if spec else f'python {sys.argv[0]}'
  return '`' + ' '.join([program] + [shlex.quote(a) for a in sys.argv[1:]
                                     ]).replace('|', '\\|') + '`'


def append_rows(path: str, section: str, header: list[str],
                rows: list[list[str]]) -> None:
  """Appends `rows` to the table under `## section` in `path`.

  Creates the file, the section or the table header when missing; rows go
  after the last row of the section's table, so a section keeps one table.
  """
  lines = open(path).read().splitlines() if os.path.exists(path) else []
  heading = f'## {section}'
  to_line = lambda cells: '| ' + ' | '.join(str(c) for c in cells) + ' |'
  new_rows = [to_line(r) for r in rows]
  if heading not in lines:
    if lines and lines[-1].strip():
      lines.append('')
    lines += [heading, '', to_line(header),
              '|' + '---|' * len(header)] + new_rows
  else:
    at = lines.index(heading) + 1
    while at < len(lines) and not lines[at].startswith('|'):
      if lines[at].startswith('## '):
        break
      at += 1
    if at < len(lines) and lines[at].startswith('|'):
      while at < len(lines) and lines[at].startswith('|'):
        at += 1
      lines[at:at] = new_rows
    else:
      lines[at:at] = [to_line(header), '|' + '---|' * len(header)] + new_rows
  with open(path, 'w') as f:
    f.write('\n'.join(lines) + '\n')


def read_table(path: str, section: str) -> list[list[str]]:
  """The cells of the table under `## section` in `path`, header row first
  (the separator row dropped); [] when the file or the section is missing."""
  if not os.path.exists(path):
    return []
  lines = open(path).read().splitlines()
  heading = f'## {section}'
  if heading not in lines:
    return []
  rows = []
  for line in lines[lines.index(heading) + 1:]:
    if line.startswith('## '):
      break
    if line.startswith('|'):
      rows.append([c.strip() for c in line.strip().strip('|').split('|')])
  return rows[:1] + rows[2:]


def append_section(path: str, section: str, lines: list[str]) -> None:
  """Replaces (or adds) the section `## section` of `path` with `lines`."""
  text = open(path).read().splitlines() if os.path.exists(path) else []
  heading = f'## {section}'
  if heading in text:
    start = text.index(heading)
    end = start + 1
    while end < len(text) and not text[end].startswith('## '):
      end += 1
    del text[start:end]
    text[start:start] = [heading, ''] + lines + ['']
  else:
    if text and text[-1].strip():
      text.append('')
    text += [heading, ''] + lines
  with open(path, 'w') as f:
    f.write('\n'.join(text) + '\n')
