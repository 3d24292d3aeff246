# Two commands on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench mutants services clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Debian packages the tests need (real redis-server and rabbitmq-server); installed once, as root.
# Rust actions (app.build=cargo) compile offline against Debian's packaged crates, found in
# /usr/share/cargo/registry; Debian's own cargo comes along only where no toolchain is installed.
RUST_CRATES := librust-serde-json-dev librust-serde-derive-dev librust-bytes-dev librust-libc-dev \
	librust-ureq-dev

services:
	@for server in redis-server rabbitmq-server; do \
	  command -v $$server >/dev/null || PATH="$$PATH:/usr/sbin" command -v $$server >/dev/null || { \
	    if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $$server || exit 1; \
	    else echo "$$server missing: run 'sudo apt-get install $$server'"; exit 1; fi; }; \
	done
	@packages="$$(command -v cargo >/dev/null || echo cargo)"; \
	ls -d /usr/share/cargo/registry/serde_json-* /usr/share/cargo/registry/serde_derive-* \
	  /usr/share/cargo/registry/bytes-1.* /usr/share/cargo/registry/libc-0.2.* \
	  /usr/share/cargo/registry/ureq-2.* \
	  >/dev/null 2>&1 || packages="$$packages $(RUST_CRATES)"; \
	[ -z "$$packages" ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $$packages; \
	  else echo "Rust toolchain or crates missing: run 'sudo apt-get install $$packages'"; exit 1; fi; }

# The main job: burst k-means with 32 workers on the embedded platform.
ARGS ?= mode=burst workers=32 app=kmeans

run: $(STAMP)
	$(PY) -m runner $(ARGS)

test: $(STAMP) services
	$(PY) -m ruff check runner ow_apps hydra_plugins tests bench mutants
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (short default, under 10 minutes): `make bench BENCH_ARGS="--full"` for the long
# version, BENCH_ARGS="--only detection,startup" for some. Results go to outputs/bench/<time>/.
BENCH_STAMP := $(VENV)/.installed-bench
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) services
	$(PY) -m bench $(BENCH_ARGS)

# Mutation testing (cosmic-ray) of the modules in mutants/modules.toml, each against its own
# tests; prints killed/survived/timeout per module. MUTANTS_ARGS="--only polling" for some.
MUTANTS_STAMP := $(VENV)/.installed-mutants
MUTANTS_ARGS ?=

$(MUTANTS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,mutants]'
	touch $(MUTANTS_STAMP)

mutants: $(MUTANTS_STAMP) services
	$(PY) -m mutants $(MUTANTS_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check runner ow_apps hydra_plugins tests bench mutants

clean:
	rm -rf $(VENV) outputs multirun
