# The README's two commands are `make demo` and `make test`; everything they
# need (virtualenv, pinned packages, MiniStack, kube-apiserver and etcd built
# with Go) is installed by the targets below on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The venv's interpreter: the distribution's CPython 3.11 when there is one. Debian builds it with
# profile-guided and link-time optimisation; a python3 built from source (pyenv's) usually is not,
# and spends about a third more CPU on the same unit tests and playbook runs (docs/commands.md).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# ansible finds this checkout as kubeauth.eks_oidc through this link.
COLLECTIONS_DIR := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/kubeauth/eks_oidc
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help venv collection k8s-binaries keycloak browser sandbox-up sandbox-down sandbox-status \
        unit sanity lint integration test demo build constraints clean

help:
	@echo "make demo   - start the sandbox and run playbooks/site.yml against it"
	@echo "make test   - install the toolchain and run every test (unit, sanity, integration)"
	@echo "make sandbox-up / sandbox-down / sandbox-status"

venv: $(VENV)/.installed $(VENV)/.ansiballz-bytecode-cache
$(VENV)/.installed: tests/requirements.txt tests/constraints.txt
	@echo ">> creating $(VENV) with pinned packages"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r tests/requirements.txt -c tests/constraints.txt
	@touch $@

# Modules that ansible-playbook runs on the venv's interpreter load their AnsiballZ payloads'
# compiled code from a cache instead of compiling ansible-core's module_utils at every run
# (tests/ansiballz_bytecode_cache.py): a .pth file installs the importer at start-up.
$(VENV)/.ansiballz-bytecode-cache: tests/ansiballz_bytecode_cache.py $(VENV)/.installed
	site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))') && \
	  cp tests/ansiballz_bytecode_cache.py "$$site/" && $(PY) -m compileall -q "$$site/ansiballz_bytecode_cache.py" && \
	  echo 'import ansiballz_bytecode_cache; ansiballz_bytecode_cache.install()' > "$$site/ansiballz_bytecode_cache.pth"
	@touch $@

collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn $(CURDIR) $@

# kube-apiserver and etcd for the EKS twin: KUBEBUILDER_ASSETS when set,
# otherwise built once from the Go module proxy into a cache outside git.
k8s-binaries: venv
	$(PY) tests/sandbox/binaries.py ensure

# Headless Chromium and its driver from Debian's packages: the login kit's end-to-end
# test signs in with a real browser. Installed once, when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo ">> installing chromium and chromium-driver (Debian packages)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; }

# Keycloak for SANDBOX_KEYCLOAK=1 and the Keycloak tests: fetched once through Maven from Maven
# Central (Maven from Debian's packages when missing) and prepared in a cache outside git.
keycloak: venv
	@command -v mvn >/dev/null || { \
	  echo ">> installing Maven (Debian package maven)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq maven; }
	$(PY) tests/sandbox/keycloak.py ensure

sandbox-up: venv collection $(if $(filter 1,$(SANDBOX_KEYCLOAK)),keycloak)
	$(PY) tests/sandbox/sandbox.py up

sandbox-down: venv
	$(PY) tests/sandbox/sandbox.py down

sandbox-status: venv
	$(PY) tests/sandbox/sandbox.py status

unit: venv collection
	$(PY) -m pytest -q tests/unit

sanity: venv
	$(PY) tests/run_sanity.py

lint: venv collection
	ansible-lint roles playbooks

# Four workers, each with its own sandbox: a test file's tests stay on one worker, except in
# files marked independent, whose tests are spread (tests/integration/conftest.py). Part of a
# test's time is waiting (associations, reloads, logins, Keycloak's start): on two cores, three
# workers left them idle 8% of the time, four 5% (docs/commands.md).
# The longest work starts first (conftest.py's LONGEST_FIRST, kept in that order by
# --no-loadscope-reorder). The 30 slowest are listed.
integration: venv collection k8s-binaries keycloak browser
	$(PY) -m pytest -q -n 4 --dist loadgroup --no-loadscope-reorder --durations=30 tests/integration

# unit, sanity and lint each keep one core busy: they run side by side (each one's output
# printed whole when it ends), then the integration suite, which needs both cores.
test: venv collection k8s-binaries
	$(MAKE) --no-print-directory -j3 --output-sync=target unit sanity lint
	$(MAKE) --no-print-directory integration

demo: venv collection k8s-binaries sandbox-up
	$(PY) tests/sandbox/demo.py

build: venv
	mkdir -p .build/dist && ansible-galaxy collection build --force --output-path .build/dist .

constraints: venv
	{ echo "# pip freeze of the venv that tests/requirements.txt builds; regenerate with 'make constraints'."; \
	  $(VENV)/bin/pip freeze --exclude-editable; } > tests/constraints.txt

clean: sandbox-down
	rm -rf .build .sandbox tests/output
