"""il_jax: imitation learning (BC, DAgger, HG-DAgger) at accelerator speed."""

from il_jax import _quiet_imports

_quiet_imports.install()

__version__ = '0.1.0'
