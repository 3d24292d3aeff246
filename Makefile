# Two commands on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench services clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Debian packages the tests need (a real redis-server); installed once, as root.
services:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q redis-server; \
	  else echo "redis-server missing: run 'sudo apt-get install redis-server'"; exit 1; fi; }

# The main job: burst k-means with 32 workers on the embedded platform.
ARGS ?= mode=burst workers=32 app=kmeans

run: $(STAMP)
	$(PY) -m runner $(ARGS)

test: $(STAMP) services
	$(PY) -m ruff check runner ow_apps tests
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check runner ow_apps tests bench

clean:
	rm -rf $(VENV) outputs multirun
