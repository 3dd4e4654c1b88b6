# Backprop Lab. The two commands of the README:
#   make run    makes .venv, installs the app and opens the window
#   make test   makes .venv, installs the test extra and runs the whole suite headless
# Both install the Qt system libraries with apt-get when they are missing and make runs as root,
# and otherwise print the exact apt-get command to run.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
PYTEST_ARGS ?=

# shared library : Debian package that provides it
OFFSCREEN_LIBS := libGL.so.1:libgl1 libEGL.so.1:libegl1 libxkbcommon.so.0:libxkbcommon0 \
	libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 libglib-2.0.so.0:libglib2.0-0
WINDOW_LIBS := $(OFFSCREEN_LIBS) libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 \
	libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-image.so.0:libxcb-image0 libxcb-render-util.so.0:libxcb-render-util0 \
	libxcb-shape.so.0:libxcb-shape0 libxcb-xkb.so.1:libxcb-xkb1 libxkbcommon-x11.so.0:libxkbcommon-x11-0

.PHONY: run test test-explore lint bench soak screenshot test-min sysdeps-offscreen sysdeps-window clean

run: sysdeps-window $(VENV)/.installed
	$(BIN)/python main.py

test: sysdeps-offscreen $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite with fresh hypothesis examples each run (make test repeats the same ones).
test-explore: sysdeps-offscreen $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=explore QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: sysdeps-offscreen $(VENV)/.installed-test  # the test extra has Dask, for benchmarks/sweep.py's cluster part
	$(BIN)/python benchmarks/engine.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/gui.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/landscape.py
	$(BIN)/python benchmarks/timeline.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/gui.py --mode landscape

soak: sysdeps-offscreen $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/soak.py

screenshot: sysdeps-offscreen $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python main.py screenshot docs/window.png --epochs 5000
	QT_QPA_PLATFORM=offscreen $(BIN)/python main.py screenshot docs/inspect.png --epochs 2000 --tab inspect

# The suite against the oldest dependency versions pyproject.toml allows, in a separate venv.
test-min: sysdeps-offscreen
	$(MAKE) VENV=.venv-min .venv-min/bin/python
	.venv-min/bin/python -m pip install -q "numpy==1.26.4" "numba==0.59.1" "PySide6-Essentials==6.7.0" \
		"pyqtgraph==0.13.7" "tqdm==4.66.0" "pytest==8.0.0" "pytest-qt==4.4.0" "hypothesis==6.100.0"
	.venv-min/bin/python -m pip install -q --no-deps -e .
	QT_QPA_PLATFORM=offscreen .venv-min/bin/python -m pytest -p no:cacheprovider

$(BIN)/python:
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || $(call apt_install,python3-venv)
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

sysdeps-offscreen:
	@$(call install_missing,$(OFFSCREEN_LIBS))

sysdeps-window:
	@$(call install_missing,$(WINDOW_LIBS))

# $(call install_missing,so:pkg ...): apt-get install the packages whose libraries are not found,
# plus a font package when the machine has no font at all (Qt then draws no text).
define install_missing
	missing=""; \
	libs="$$( (/sbin/ldconfig -p || ldconfig -p) 2>/dev/null )"; \
	for pair in $(1); do \
		echo "$$libs" | grep -qF "$${pair%%:*}" || missing="$$missing $${pair##*:}"; \
	done; \
	find /usr/share/fonts /usr/local/share/fonts \( -name '*.ttf' -o -name '*.otf' \) 2>/dev/null | grep -q . \
		|| missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then $(call apt_install,$$missing); fi
endef

define apt_install
	if [ "$$(uname -s)" != Linux ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "note: Qt may need these system packages (Debian names):$(1)"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing system packages:$(1)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	else \
		echo "Missing system packages. Run this, then make again:"; \
		echo "    sudo apt-get install -y $(1)"; \
		exit 1; \
	fi
endef

clean:
	rm -rf $(VENV) .venv-min .pytest_cache .hypothesis .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
