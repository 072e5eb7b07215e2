"""absl flags derived from frozen config dataclasses: one flag per field,
typed by its annotation and documented by its `Attributes:` text.

`define_config(cls)` defines the flags of a whole config and returns the
function that builds it from their values; `launch/settings_flags.py` uses
the same pieces for `il_jax.settings`.
"""

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

from absl import flags

# The flags defined here belong to the module that asks for them (for
# `--help`, which lists the main module's flags and those it adopts).
flags.disclaim_key_flags()


def field_docs(cls) -> dict[str, str]:
  """Each field's text in the `Attributes:` section of `cls`'s docstring and
  its bases', on one line; fields documented together (`a, b: text`) share
  the text."""
  docs: dict[str, str] = {}
  for klass in reversed(cls.__mro__):
    text = (klass.__doc__ or '').split('Attributes', 1)
    if len(text) < 2:
      continue
    for match in re.finditer(
        r'^ {4}((?:\w+,\s+)*\w+): (.*?)(?=^ {4}(?:\w+,\s+)*\w+: |\Z)',
        text[1].split('\n  """')[0], re.M | re.S):
      for name in re.split(r',\s+', match.group(1)):
        docs[name] = ' '.join(match.group(2).split())
  return docs


def base_type(annotation) -> tuple[Any, bool]:
  """`(type, optional)` of a field annotation such as `float | None`."""
  args = typing.get_args(annotation)
  if (typing.get_origin(annotation) in (typing.Union, types.UnionType)
      and type(None) in args):
    rest = [a for a in args if a is not type(None)]
    return rest[0], True
  return annotation, False


def define_flag(name: str, annotation, default, help_text: str) -> None:
  """Defines the absl flag of one field: bool, int, float, str or, for a
  tuple, a comma-separated list."""
  kind, _ = base_type(annotation)
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


def parse_value(text: str):
  """A list item or option value: int, float, bool, None or the text."""
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
    options.append((key, parse_value(value)))
  return tuple(sorted(options))


def flag_value(name: str, annotation, value):
  """A flag's value as its field's: tuples for list flags."""
  kind, _ = base_type(annotation)
  if typing.get_origin(kind) is not tuple or value is None:
    return value
  if typing.get_args(kind) and typing.get_origin(
      typing.get_args(kind)[0]) is tuple:  # (name, value) pairs
    return parse_options(name, value)
  return tuple(parse_value(item) for item in value)


def check_float(name: str, value, inf_allowed: Collection[str] = ()) -> None:
  """Raises ValueError for a NaN float flag, or an infinite one unless
  `name` is in `inf_allowed`."""
  if isinstance(value, float) and not math.isfinite(value) and (
      math.isnan(value) or name not in inf_allowed):
    raise ValueError(f'--{name}={value} is not valid; expected a finite '
                     'number.')


def define_config(cls, defaults: Mapping[str, Any] | None = None
                  ) -> Callable[..., Any]:
  """Defines a flag per field of the dataclass `cls` (call once, at import).

  Each flag is named, typed and documented by its field, with the field's
  default unless `defaults` gives another.

  Returns:
    `config(values=flags.FLAGS) -> cls`: the config of the flags' values;
    raises ValueError for a NaN or infinite float or a value `cls` rejects.
  """
  hints = typing.get_type_hints(cls)
  docs = field_docs(cls)
  names = [field.name for field in dataclasses.fields(cls)]
  defaults = {**{field.name: field.default
                 for field in dataclasses.fields(cls)}, **(defaults or {})}
  for name in names:
    define_flag(name, hints[name], defaults[name], docs.get(name, ''))

  def config(values=None):
    values = values or flags.FLAGS
    given = {}
    for name in names:
      check_float(name, values[name].value)
      given[name] = flag_value(name, hints[name], values[name].value)
    return cls(**given)

  return config
