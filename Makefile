# The README's quick start: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test test-all run bench fidelity wheels wheels-warp clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Fast suite for a 2-core CPU: slow and GPU-only tests are skipped.
test: install
	$(PY) -m pytest -q tests

# Everything, slow tests included (still skips GPU-only tests without a GPU).
test-all: install
	$(PY) -m pytest -q --runslow tests

run: install
	$(PY) -m launch.run

bench: install
	$(PY) -m tools.bench
	$(PY) -m tools.bench_policies
	$(PY) -m tools.fidelity

fidelity: install
	$(PY) -m tools.fidelity

# Wheels for a lent GPU machine (Python 3.12, no package index): carried as
# .whl/ by the GPU probe's device command (tools/gpu_probe.py).
WHEEL_PLATFORMS := $(foreach n,28 27 17,--platform manylinux_2_$(n)_x86_64) \
	--platform manylinux2014_x86_64 --platform manylinux1_x86_64
wheels:
	mkdir -p .whl
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: \
		--python-version 3.12 --implementation cp $(WHEEL_PLATFORMS) \
		-d .whl -r tools/device_requirements.txt

# warp-lang for impl='warp' on the GPU machine, apart from `wheels`: its
# ~149 MB wheel is over the 64 MiB a device call carries, so it cannot travel
# with the others today (tools/device_requirements_warp.txt).
wheels-warp:
	mkdir -p .whl-warp
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: \
		--python-version 3.12 --implementation cp $(WHEEL_PLATFORMS) \
		-d .whl-warp -r tools/device_requirements_warp.txt

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
