"""absl flags for every setting of `il_jax.settings`, derived from the
dataclasses that define them (`launch.config_flags`): one flag per run
setting, per algorithm config field and per policy family config field,
typed and documented by the field.

Only the flags given on the command line become settings, so every default
has one source: the dataclasses (shown in `--help`).
"""

import dataclasses
import typing
from typing import Any

from absl import flags

from il_jax import algorithms, envs, policies, settings
from il_jax.experiment import RunConfig
from launch.config_flags import (check_float, define_flag, field_docs,
                                 flag_value, parse_options)

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
      define_flag(name, hints[name], default, _RUN_HELP[name])
  for name, (annotation, default, help_text) in _fields().items():
    define_flag(name, annotation, default, help_text)


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
    check_float(name, flag.value, INF_ALLOWED)
    if name.endswith('_options') and name in settings.RUN_SETTINGS:
      given[name] = parse_options(name, flag.value)
    else:
      given[name] = flag_value(name, annotations.get(name), flag.value)
  return given
