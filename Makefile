# Two commands matter: `make run` and `make test` (see README). Everything else is a step.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test assets translations db demo browser fonts lint extract bench clean

run: install assets translations db demo
	$(FLASK) run --host $(HOST) --port $(PORT)

# Style, types and the import contracts first: a failure there stops the run before pytest.
test: lint assets translations browser fonts
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --omit=optional --no-audit --no-fund --loglevel=error

assets: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico.min.css
	cp node_modules/axe-core/axe.min.js static/vendor/axe.min.js
	cp node_modules/jsqr/dist/jsQR.js static/vendor/jsQR.js
	cp node_modules/pdfjs-dist/legacy/build/pdf.min.mjs static/vendor/pdf.min.mjs
	cp node_modules/pdfjs-dist/legacy/build/pdf.worker.min.mjs static/vendor/pdf.worker.min.mjs

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo-data --if-empty

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Fonts for certificates in Japanese, Thai and Vietnamese.
fonts:
	@test -d /usr/share/fonts/opentype/noto || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fonts-thai-tlwg fonts-dejavu-core >/dev/null)

# ruff and mypy read their settings from pyproject.toml (mypy: files = portal). The import
# contracts (.importlinter) are checked once the file exists; a broken contract fails.
lint: install-test
	$(BIN)/ruff check portal tests bench
	$(BIN)/mypy
	@if [ -f .importlinter ]; then $(BIN)/lint-imports --no-cache .importlinter; \
	else echo "lint-imports: no .importlinter, no import contracts to check"; fi

extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations

bench: install-test assets
	for b in list_latency upload_throughput zip_memory events_burst review_assignment; do $(BIN)/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/vendor
