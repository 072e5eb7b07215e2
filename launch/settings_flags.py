"""absl flags for every setting of `il_jax.settings`, derived from the
dataclasses that define them: one flag per run setting, per algorithm config
field and per policy family config field, typed and documented by the field.

Only the flags given on the command line become settings, so every default
has one source: the dataclasses (shown in `--help`).
"""

import dataclasses
import math
import re
import types
import typing
from typing import Any

from absl import flags

from il_jax import algorithms, envs, policies, settings
from il_jax.experiment import RunConfig

# Float settings for which inf means something (no clipping; a gate that
# never or always fires); NaN never does.
INF_ALLOWED = ('max_grad_norm', 'threshold')

_RUN_HELP = {
    'algo': f'Algorithm, one of {list(algorithms.ALGORITHMS)}.',
    'env': f'Environment, one of {list(envs.registered_names())}.',
    'env_options': 'Environment options as name=value, e.g. '
                   'solver=faithful,version=v5.',
    'policy': f'Policy family, one of {list(policies.registered_names())}.',
    'policy_options': 'Policy family options as name=value (each is also a '
                      'flag of its own).',
    'expert': "The expert that demonstrates and labels: a shipped expert's "
              'name, an export directory (`<workdir>/expert` of '
              'launch.train_expert), an exported NumPy policy file '
              '(policy.npz beside policy.json) or module:function (a pure, '
              'jittable obs -> action function on the Python path); unset: '
              "the environment's own.",
    'demonstrations': 'Demonstrations file (.npz: il_jax.data.'
                      'save_demonstrations; .pkl: CS285 trajectories) to '
                      'start from instead of the expert demonstrating; bc '
                      'then trains from it alone.',
    'seed': 'Random seed.',
    'num_seeds': 'Seeds, vmapped in one program.',
}


def field_docs(cls) -> dict[str, str]:
  """Each field's text in the `Attributes:` section of `cls`'s docstring and
  its bases', on one line."""
  docs: dict[str, str] = {}
  for klass in reversed(cls.__mro__):
    text = (klass.__doc__ or '').split('Attributes', 1)
    if len(text) < 2:
      continue
    for match in re.finditer(r'^ {4}(\w+): (.*?)(?=^ {4}\w+: |\Z)',
                             text[1].split('\n  """')[0], re.M | re.S):
      docs[match.group(1)] = ' '.join(match.group(2).split())
  return docs


def _base_type(annotation) -> tuple[Any, bool]:
  """`(type, optional)` of a field annotation such as `float | None`."""
  args = typing.get_args(annotation)
  if (typing.get_origin(annotation) in (typing.Union, types.UnionType)
      and type(None) in args):
    rest = [a for a in args if a is not type(None)]
    return rest[0], True
  return annotation, False


def _define(name: str, annotation, default, help_text: str) -> None:
  kind, _ = _base_type(annotation)
  origin = typing.get_origin(kind)
  if kind is bool:
    flags.DEFINE_bool(name, default, help_text)
  elif kind is int:
    flags.DEFINE_integer(name, default, help_text)
  elif kind is float:
    flags.DEFINE_float(name, default, help_text)
  elif kind is str:
    flags.DEFINE_string(name, default, help_text)
  elif origin is tuple:
    shown = None if default is None else [
        f'{item[0]}={item[1]}' if isinstance(item, tuple) else str(item)
        for item in default]
    flags.DEFINE_list(name, shown, help_text + ' (comma-separated)')
  else:
    raise TypeError(f'No flag type for setting {name}: {annotation}.')


def _fields() -> dict[str, tuple[Any, Any, str]]:
  """Each algorithm and policy setting -> (annotation, flag default, help)."""
  found = {}
  for spec in algorithms.ALGORITHMS.values():
    hints = typing.get_type_hints(spec.config_class)
    docs = field_docs(spec.config_class)
    for field in dataclasses.fields(spec.config_class):
      if field.name not in found:
        users = '/'.join(settings.algorithm_settings()[field.name])
        scope = '' if len(settings.algorithm_settings()[field.name]) == len(
            algorithms.ALGORITHMS) else f'{users}: '
        found[field.name] = (hints[field.name], field.default,
                             scope + docs.get(field.name, ''))
  # Unset: the environment's own time limit.
  annotation, _, text = found['episode_length']
  found['episode_length'] = (annotation, None,
                             text + " Unset: the environment's default.")
  for name, families in settings.policy_settings().items():
    if name in found:
      continue
    cls = policies.config_class(families[0])
    text = field_docs(cls).get(name, '')
    default = {f.name: f.default for f in dataclasses.fields(cls)}[name]
    shared = len(families) == len(policies.registered_names())
    found[name] = (typing.get_type_hints(cls)[name],
                   default if shared else None,
                   ('' if shared else f'Policy {"/".join(families)}: ') + text)
  return found


def define() -> None:
  """Defines a flag for every setting (call once, at import)."""
  run_fields = {f.name: f for f in dataclasses.fields(RunConfig)}
  hints = typing.get_type_hints(RunConfig)
  for name in settings.RUN_SETTINGS:
    default = run_fields[name].default
    if name.endswith('_options'):
      flags.DEFINE_list(name, [], _RUN_HELP[name])
    else:
      _define(name, hints[name], default, _RUN_HELP[name])
  for name, (annotation, default, help_text) in _fields().items():
    _define(name, annotation, default, help_text)


def _parse_value(text: str):
  for cast in (int, float):
    try:
      return cast(text)
    except ValueError:
      pass
  return {'true': True, 'false': False, 'none': None}.get(text.lower(), text)


def parse_options(name: str, items: list[str]) -> tuple[tuple[str, Any], ...]:
  """`['a=1', 'b=x']` -> `(('a', 1), ('b', 'x'))`; a one-line error for an
  item that is not name=value."""
  options = []
  for item in items:
    key, sep, value = item.partition('=')
    if not sep or not key:
      raise ValueError(f'--{name} item {item!r} is not name=value.')
    options.append((key, _parse_value(value)))
  return tuple(sorted(options))


def _value(name: str, annotation, value):
  """A flag's value as its setting: tuples for list flags."""
  kind, _ = _base_type(annotation)
  if typing.get_origin(kind) is not tuple or value is None:
    return value
  if typing.get_args(kind) and typing.get_origin(
      typing.get_args(kind)[0]) is tuple:  # (name, value) pairs
    return parse_options(name, value)
  return tuple(_parse_value(item) for item in value)


def _check_float(name: str, value) -> None:
  if isinstance(value, float) and not math.isfinite(value) and (
      math.isnan(value) or name not in INF_ALLOWED):
    raise ValueError(f'--{name}={value} is not valid; expected a finite '
                     'number.')


def given_settings(values=None) -> dict[str, Any]:
  """The settings given on the command line (flags that are `present`).

  Raises:
    ValueError: for a NaN float, an inf one where inf means nothing, or a
      malformed name=value item.
  """
  values = values or flags.FLAGS
  annotations = {name: annotation
                 for name, (annotation, _, _) in _fields().items()}
  given = {}
  for name in settings.names():
    flag = values[name]
    if not flag.present:
      continue
    _check_float(name, flag.value)
    if name.endswith('_options') and name in settings.RUN_SETTINGS:
      given[name] = parse_options(name, flag.value)
    else:
      given[name] = _value(name, annotations.get(name), flag.value)
  return given
