"""Our measurement tooling: benchmarks, the GPU probe, solver fidelity and
expert cards. What users run lives in `launch/`."""
