"""Sweeps: a grid of settings x seeds, grouped into as few programs as can be.

A sweep spec is plain data:

    SWEEP = {
        'base': {'algo': 'dagger', 'env': 'tightrope', 'n_iter': 5},
        'grid': {'learning_rate': [1e-3, 3e-3], 'size': [32, 64]},
        'seeds': 3,
    }

Names are settings (`il_jax.settings`). `expand` turns the spec into runs
(one per grid point and seed). `group` puts runs whose static config is
equal (everything except the seed and the algorithm's traced hyper-
parameters, `HyperParams`: e.g. DAgger's learning rate, beta and beta decay)
into one `Group`: one compiled program vmapped over its
members (hyper-parameter x seed) and sharded over the devices. Shapes that
differ (network size, number of environments, ...) make separate groups.
`run_group` runs one group in its workdir (with resume); `aggregate` gathers
every group's metrics into one table and one plot.

Member m of a group runs exactly what `experiment.run` runs for
`RunConfig(seed=s, num_seeds=1)` with that member's settings.
"""

import csv
import dataclasses
import itertools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from il_jax import envs, experiment, logging
from il_jax import settings as il_settings
from il_jax.types import HyperParams

PLAN_FILE = 'plan.json'
MEMBERS_FILE = 'members.json'
RESULTS_CSV = 'results.csv'
RESULTS_MD = 'results.md'
RESULTS_PNG = 'results.png'
ALL_METRICS_CSV = 'all_metrics.csv'


@dataclasses.dataclass(frozen=True)
class Run:
  """One grid point and one seed.

  Attributes:
    point: the grid point, e.g. 'learning_rate=0.001,size=32' ('base' for an
      empty grid): runs that differ only in the seed share it.
    settings: the point's grid values, as (name, value) pairs.
    seed: the seed.
    config: the run's config (`num_seeds=1`).
  """
  point: str
  settings: tuple[tuple[str, Any], ...]
  seed: int
  config: experiment.RunConfig

  @property
  def name(self) -> str:
    return f'{self.point}/seed={self.seed}'


def _seeds(spec_seeds) -> list[int]:
  if isinstance(spec_seeds, int):
    if spec_seeds < 1:
      raise ValueError(f'seeds={spec_seeds} is not valid; expected a positive '
                       'integer or a list of seeds.')
    return list(range(spec_seeds))
  return [int(s) for s in spec_seeds]


def expand(spec: Mapping[str, Any]) -> list[Run]:
  """The runs of a spec `{'base': {...}, 'grid': {name: [values]}, 'seeds':
  n or [seeds]}`: the product of the grid's values (in the grid's order) times
  the seeds; every config is built (and validated) here.

  Raises:
    ValueError: for unknown keys or settings, empty value lists, or invalid
      values (naming the grid point).
  """
  unknown = sorted(set(spec) - {'base', 'grid', 'seeds'})
  if unknown:
    raise ValueError(f'Unknown sweep spec key(s) {unknown}; expected base, '
                     'grid and seeds.')
  base = dict(spec.get('base', {}))
  grid = dict(spec.get('grid', {}))
  for name, values in grid.items():
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
      raise ValueError(f'grid[{name!r}]={values!r} is not valid; expected a '
                       'list of values.')
    if not values:
      raise ValueError(f'grid[{name!r}] is empty; expected at least one value.')
  runs = []
  for combo in itertools.product(*grid.values()):
    settings = tuple(zip(grid, combo))
    point = ','.join(f'{k}={v}' for k, v in settings) or 'base'
    for seed in _seeds(spec.get('seeds', 1)):
      try:
        config = il_settings.run_config(
            {**base, **dict(settings), 'seed': seed, 'num_seeds': 1})
      except ValueError as error:
        raise ValueError(f'Sweep point {point}: {error}') from error
      runs.append(Run(point=point, settings=settings, seed=seed,
                      config=config))
  return runs


def static_key(config: experiment.RunConfig) -> str:
  """What decides a run's compiled program: `config` without its seed and
  with its traced hyper-parameters (`TRACED`) marked as such. Runs with
  equal keys compile to the same program. A traced field set to None (HG-
  DAgger's adaptive threshold) selects another rule, so it stays."""
  fields = config.to_json()
  for name in ('seed', 'num_seeds'):
    fields.pop(name)
  for name in type(config.imitation).TRACED:
    if fields['imitation'][name] is not None:
      fields['imitation'][name] = 'traced'
  fields['imitation_class'] = type(config.imitation).__name__
  return json.dumps(fields, sort_keys=True, default=repr)


@dataclasses.dataclass(frozen=True)
class Group:
  """Runs that share one compiled program: its members.

  Attributes:
    name: the group's name (its workdir under the sweep's).
    runs: the members, in order.
  """
  name: str
  runs: tuple[Run, ...]

  @property
  def config(self) -> experiment.RunConfig:
    """The program's config: the first member's, with one seed per member
    (`members.json` records every member's settings)."""
    return dataclasses.replace(self.runs[0].config, num_seeds=len(self.runs))

  def keys(self) -> jax.Array:
    """`[M, 2]`: member m's key is that of `RunConfig(seed=s_m,
    num_seeds=1)` in `experiment.run`."""
    return jnp.stack([jax.random.split(jax.random.PRNGKey(r.seed), 1)[0]
                      for r in self.runs])

  def hparams(self) -> HyperParams:
    """`HyperParams` with leaves `[M]`, one value per member."""
    members = [r.config.imitation.hyperparams() for r in self.runs]
    return jax.tree.map(lambda *x: jnp.stack(x), *members)

  def members_json(self) -> list[dict]:
    return [{'member': m, 'run': r.name, 'point': r.point, 'seed': r.seed,
             'settings': dict(r.settings)} for m, r in enumerate(self.runs)]


def group(runs: Sequence[Run], max_members: int | None = None) -> list[Group]:
  """Groups runs by `static_key`, in order of first appearance; a group
  larger than `max_members` is split into chunks of at most that many."""
  if max_members is not None and max_members < 1:
    raise ValueError(f'max_members={max_members} is not valid; expected a '
                     'positive integer.')
  by_key: dict[str, list[Run]] = {}
  for run in runs:
    by_key.setdefault(static_key(run.config), []).append(run)
  chunks = []
  for members in by_key.values():
    size = max_members or len(members)
    chunks += [members[i:i + size] for i in range(0, len(members), size)]
  return [Group(name=f'group_{g:03d}', runs=tuple(c))
          for g, c in enumerate(chunks)]


def plan_text(groups: Sequence[Group]) -> str:
  """The plan, one block per group."""
  lines = [f'{sum(len(g.runs) for g in groups)} runs in {len(groups)} '
           f'program(s) on {jax.device_count()} device(s):']
  for g in groups:
    config = g.config
    points = sorted({r.point for r in g.runs})
    mesh = experiment.run_mesh(len(g.runs)).shape
    lines.append(
        f'  {g.name}: {len(g.runs)} members ({len(points)} points x seeds), '
        f'{config.algo} on {config.env}, {config.policy} '
        f'{dict(config.policy_options)}, num_envs='
        f'{config.imitation.num_envs}, n_iter={config.imitation.n_iter}; '
        f"members split over {mesh[experiment.MEMBER_AXIS]} device "
        f"group(s), environments over {mesh[envs.ENV_AXIS]} device(s) each")
    lines += [f'    {p}' for p in points]
  return '\n'.join(lines)


def run_group(g: Group, workdir: str, resume: bool = False,
              stop_after: int | None = None, overwrite: bool = False,
              progress: Callable[[int, dict], None] | None = None,
              report: Callable[[str], None] | None = None) -> list[dict]:
  """Runs (or resumes, or overwrites) one group in `workdir`; returns its
  metric rows (`Seed` is the member index of `members.json`).

  Args:
    g: the group.
    workdir: the group's own directory.
    resume, stop_after, overwrite: as for `experiment.run`.
    progress: `progress(i, metrics)` after every iteration (host metrics,
      each `[members]`).
    report: called with one-line messages (compiling, resuming); silent if
      None.

  Raises:
    ValueError: when `workdir` holds a run and neither `resume` nor
      `overwrite` is given, or when resuming a workdir whose members differ.
  """
  os.makedirs(workdir, exist_ok=True)
  experiment.check_workdir_use(workdir, resume, overwrite)
  members = g.members_json()
  path = os.path.join(workdir, MEMBERS_FILE)
  if resume and os.path.exists(path):
    with open(path) as f:
      if json.load(f) != json.loads(json.dumps(members)):
        raise ValueError(f'{workdir} holds a group with other members; use a '
                         'new workdir or the same spec to resume.')
  if experiment.is_primary_process():
    with open(path, 'w') as f:
      json.dump(members, f, indent=2)
  return experiment.run(
      g.config, workdir, resume=resume, stop_after=stop_after, verbose=False,
      keys=g.keys(), hparams=g.hparams(), progress=progress,
      overwrite=overwrite, report=report or (lambda message: None))


def write_plan(groups: Sequence[Group], workdir: str) -> None:
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, PLAN_FILE), 'w') as f:
    json.dump({g.name: g.members_json() for g in groups}, f, indent=2)


def _group_dirs(workdir: str) -> list[str]:
  return sorted(d for d in (os.path.join(workdir, n)
                            for n in os.listdir(workdir))
                if os.path.exists(os.path.join(d, MEMBERS_FILE)))


def aggregate(workdir: str, metric: str = 'Eval_AverageReturn'
              ) -> dict[str, str]:
  """Gathers every group's metrics under the sweep `workdir` into:

    all_metrics.csv  every row of every run, with run, point and seed;
    results.csv/.md  per grid point: `metric` at the last iteration, mean and
                     std over seeds (and the number of seeds);
    results.png      `metric` per iteration, mean ± std band per point.

  Returns the paths written (no plot without matplotlib).

  Raises:
    ValueError: if no group under `workdir` has metrics.
  """
  rows = []
  for group_dir in _group_dirs(workdir):
    with open(os.path.join(group_dir, MEMBERS_FILE)) as f:
      members = json.load(f)
    for row in logging.read_metrics(group_dir):
      member = members[row['Seed']]
      rows.append({'Run': member['run'], 'Point': member['point'],
                   **{k: v for k, v in row.items()},
                   'Seed': member['seed'], 'Group': os.path.basename(group_dir)})
  if not rows:
    raise ValueError(f'No metrics under {workdir}: has the sweep run?')
  paths = {}
  fields = list(dict.fromkeys(k for r in rows for k in r))
  paths['all_metrics'] = os.path.join(workdir, ALL_METRICS_CSV)
  with open(paths['all_metrics'], 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)

  points = list(dict.fromkeys(r['Point'] for r in rows))
  curves, table = {}, []
  for point in points:
    mine = [r for r in rows if r['Point'] == point]
    iterations = sorted({r['Iteration'] for r in mine})
    seeds = sorted({r['Seed'] for r in mine})
    # [iterations, seeds]; NaN where a run has not reached an iteration yet.
    values = np.full((len(iterations), len(seeds)), np.nan)
    for r in mine:
      values[iterations.index(r['Iteration']),
             seeds.index(r['Seed'])] = r[metric]
    curves[point] = (np.asarray(iterations), values)
    final = values[-1][np.isfinite(values[-1])]
    table.append({'point': point, 'seeds': len(final),
                  'iterations': iterations[-1] + 1,
                  f'{metric}_mean': float(np.mean(final)),
                  f'{metric}_std': float(np.std(final))})
  paths['csv'] = os.path.join(workdir, RESULTS_CSV)
  with open(paths['csv'], 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
  paths['markdown'] = os.path.join(workdir, RESULTS_MD)
  with open(paths['markdown'], 'w') as f:
    f.write(f'| configuration | seeds | iterations | final {metric} '
            '(mean ± std) |\n|---|---|---|---|\n')
    for t in table:
      f.write(f"| {t['point']} | {t['seeds']} | {t['iterations']} | "
              f"{t[f'{metric}_mean']:.2f} ± {t[f'{metric}_std']:.2f} |\n")
  plot = logging.plot_bands(curves, os.path.join(workdir, RESULTS_PNG),
                            ylabel=f'{metric} (mean ± std over seeds)')
  if plot:
    paths['plot'] = plot
  return paths
