# mss-sidecar — the two commands a newcomer needs are `make sandbox` and `make test`.
SHELL := /bin/bash
NODE ?= node
TEST_CONCURRENCY ?= 4
# Per-file deadline: a hung test file fails instead of blocking CI (the package test has its
# own, PACKAGE_TEST_TIMEOUT_MS: scripts/run-tests.sh says why).
TEST_TIMEOUT_MS ?= 600000
PACKAGE_TEST_TIMEOUT_MS ?= 3600000
export PACKAGE_TEST_TIMEOUT_MS
STAMP := node_modules/.package-lock.json
# The linter and formatter have their own packages and lockfile (tools/lint/package.json says why).
LINT_STAMP := tools/lint/node_modules/.package-lock.json
LINT_BIN := tools/lint/node_modules/.bin
# What `make format` formats: the code, not the docs (Markdown) nor the configuration samples.
FORMAT_FILES := '**/*.{ts,js,mjs,json}'

.PHONY: all deps lint-deps system-deps build typecheck lint format format-check test unit integration sandbox bench compliance deb clean

all: build

# npm ci only when the lockfile changed since the last install.
$(STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $(STAMP)

deps: $(STAMP)

$(LINT_STAMP): tools/lint/package-lock.json tools/lint/package.json
	npm ci --prefix tools/lint --no-audit --no-fund
	@touch $(LINT_STAMP)

lint-deps: $(LINT_STAMP)

# ESLint: typescript-eslint, import cycles, the folder boundaries of tools/lint/boundaries.json.
lint: lint-deps
	$(LINT_BIN)/eslint -c tools/lint/eslint.config.js --max-warnings 0 .

# Prettier (.prettierrc.json; the HTML inside html`` templates is left as written); `make test` checks the format.
format: lint-deps
	$(LINT_BIN)/prettier --write $(FORMAT_FILES)

format-check: lint-deps
	$(LINT_BIN)/prettier --check $(FORMAT_FILES)

# Postfix, Dovecot, Redis (and tools the integration tests drive) from Debian packages.
system-deps:
	@scripts/install-system-deps.sh

build: deps
	@rm -rf dist
	npx tsc -b tsconfig.build.json

# The whole tree as one program, from sources alone (tsconfig.json): what an editor or a bare
# `npx tsc --noEmit` in a fresh checkout reports, with no dist/ built first.
typecheck: deps
	npx tsc --noEmit

# Every test: lint, unit and integration (real Postfix, Dovecot and Redis on loopback).
test: deps system-deps build typecheck lint format-check
	NODE=$(NODE) TEST_CONCURRENCY=$(TEST_CONCURRENCY) TEST_TIMEOUT_MS=$(TEST_TIMEOUT_MS) scripts/run-tests.sh $$(find dist/test -name '*.test.js' | sort)

unit: build lint-deps
	$(NODE) --enable-source-maps --test --test-concurrency=$(TEST_CONCURRENCY) $$(find dist/test/unit -name '*.test.js' | sort)

integration: deps system-deps build
	NODE=$(NODE) TEST_CONCURRENCY=$(TEST_CONCURRENCY) TEST_TIMEOUT_MS=$(TEST_TIMEOUT_MS) scripts/run-tests.sh $$(find dist/test/integration -name '*.test.js' | sort)

# The sandbox self-check: the ANS side simulated on loopback, no Postfix or ANS needed.
sandbox: build
	bin/mss-sidecar sandbox selfcheck

bench: system-deps build
	@for b in $$(find dist/bench -name '*.js' -not -path '*/lib/*' | sort); do echo "== $$b"; $(NODE) --expose-gc $$b || exit 1; done

# docs/COMPLIANCE.md (one line per ID) and docs/COMPLIANCE-details.md (every place and test, linked).
compliance: build
	$(NODE) dist/scripts/compliance.js

# The Debian package build/mss-sidecar_<version>_all.deb (docs/install.md, debian/build-deb.sh).
deb: build
	debian/build-deb.sh

clean:
	rm -rf dist build
	rm -rf debian/changelog debian/files debian/mss-sidecar debian/.debhelper debian/debhelper-build-stamp debian/*.substvars debian/*.debhelper debian/*.debhelper.log
