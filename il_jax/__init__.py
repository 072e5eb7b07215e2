"""il_jax: imitation learning (BC, DAgger, HG-DAgger) at accelerator speed."""

__version__ = '0.1.0'
