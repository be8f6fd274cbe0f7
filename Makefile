# voiceguide: every target sets up what it needs first (Debian packages, .venv); a second run does no work.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := espeak-ng ffmpeg libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins \
                sox gcc python3-dev python3-venv libspeexdsp1

.PHONY: demo test test-load test-natural natural lint bench deps venv audio clean help python-check

help:
	@echo "make demo   - a 90-second spoken session with music (sets everything up first)"
	@echo "make test   - lint, type check and the test suite (real espeak-ng, ffmpeg, PulseAudio)"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - benchmarks (figures go in BENCHMARKS.md)"
	@echo "make test-load - the live tests 5 times in a row under two busy processes"
	@echo "make natural - add the natural offline voice (hibari) to .venv; it becomes the default"
	@echo "make test-natural - the natural voice's tests (in .venv-natural, made first)"

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "voiceguide needs these Debian packages. Run:"; \
	    echo "  sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

PY_MIN := 3.11
PY_OK := import sys; sys.exit(sys.version_info < (3, 11))

python-check:
	@command -v $(PYTHON) >/dev/null || { echo "voiceguide needs Python $(PY_MIN) or newer, and $(PYTHON) is not installed."; exit 1; }
	@$(PYTHON) -c '$(PY_OK)' || { \
	  echo "voiceguide needs Python $(PY_MIN) or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; \
	  echo "  On Ubuntu 22.04: sudo apt-get install python3.11 python3.11-venv, then: make PYTHON=python3.11 ..."; \
	  exit 1; }

# A venv that is broken, or built with another (too old) Python, is rebuilt, not trusted.
$(STAMP): pyproject.toml | deps python-check
	@if [ -d $(VENV) ] && ! $(BIN)/python -c '$(PY_OK)' 2>/dev/null; then \
	  echo "$(VENV) is broken or too old: rebuilding it"; rm -rf $(VENV); fi
	@echo "setting up $(VENV): about a minute (full log: $(VENV)/install.log)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@set -o pipefail; { $(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	   $(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'; } 2>&1 \
	   | tee $(VENV)/install.log \
	   | awk '/^Collecting /{sub(/ \(from .*/, ""); sub(/^Collecting/, "  getting"); print; fflush()} \
	          /^Successfully installed/{print "  installed"; fflush()}' \
	   || { echo "setting up $(VENV) failed; the end of $(VENV)/install.log:"; tail -n 30 $(VENV)/install.log; rm -f $(STAMP); exit 1; }
	@touch $(STAMP)

venv: deps $(STAMP)

# The bundled sounds (committed; installed as the package voiceguide.sounds). One run makes all.
SOUNDS := audio/bed.ogg audio/chime.wav audio/chime-end.wav
$(SOUNDS) &: | $(STAMP)
	$(BIN)/python audio/make_audio.py

audio: venv $(SOUNDS)

# Exit code 3 is "no audio output": its one-line message (with what to do) is the last word.
demo: venv audio
	@$(BIN)/voiceguide start --routine demo || { code=$$?; [ $$code -eq 3 ] || exit $$code; }

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: venv audio lint
	$(BIN)/python -m pytest -q

# The natural offline voice, an optional extra (pip install 'voiceguide[natural]'): it becomes
# the default voice of .venv's voiceguide.
natural: venv
	@$(BIN)/python -c 'import hibari, onnxruntime' 2>/dev/null || { \
	  echo "adding the natural voice (hibari, onnxruntime) to $(VENV)"; \
	  $(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev,natural]'; }

# Its tests run in a venv of their own, so that .venv (and `make test`) keeps the base install.
NATURAL_VENV := .venv-natural
$(NATURAL_VENV)/.installed: pyproject.toml | deps python-check
	@echo "setting up $(NATURAL_VENV) (voiceguide with the natural voice; log: $(NATURAL_VENV)/install.log)"
	@test -x $(NATURAL_VENV)/bin/python || $(PYTHON) -m venv $(NATURAL_VENV)
	@$(NATURAL_VENV)/bin/python -m pip install --disable-pip-version-check -e '.[dev,natural]' \
	   > $(NATURAL_VENV)/install.log 2>&1 \
	   || { echo "setting up $(NATURAL_VENV) failed; the end of its install.log:"; \
	        tail -n 30 $(NATURAL_VENV)/install.log; exit 1; }
	@touch $@

test-natural: audio $(NATURAL_VENV)/.installed
	$(NATURAL_VENV)/bin/python -m pytest -q -m natural

bench: venv audio
	$(BIN)/python bench/run_all.py

# Issue: live tests once failed on a loaded machine. This keeps the answer measured.
test-load: venv audio
	$(BIN)/python bench/live_under_load.py --runs 5

clean:
	rm -rf $(VENV) $(NATURAL_VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info build dist
