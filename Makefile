# voiceguide: every target sets up what it needs first (Debian packages, .venv); a second run does no work.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := espeak-ng ffmpeg libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins \
                sox gcc python3-dev python3-venv libspeexdsp1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint bench deps venv audio clean help

help:
	@echo "make demo   - a 90-second spoken session with music (sets everything up first)"
	@echo "make test   - lint, type check and the test suite (real espeak-ng, ffmpeg, PulseAudio)"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - benchmarks (figures go in BENCHMARKS.md)"

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

$(STAMP): pyproject.toml | deps
	@echo "setting up $(VENV) (log: $(VENV)/install.log)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@{ $(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	   $(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'; } \
	   > $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

venv: deps $(STAMP)

audio/bed.ogg audio/chime.wav audio/chime-end.wav: | $(STAMP)
	$(BIN)/python audio/make_audio.py

audio: venv audio/bed.ogg

# Exit code 3 is "no audio output": its one-line message (with what to do) is the last word.
demo: venv audio
	@$(BIN)/voiceguide start --routine demo || { code=$$?; [ $$code -eq 3 ] || exit $$code; }

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: venv audio lint
	$(BIN)/python -m pytest -q

bench: venv audio
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
