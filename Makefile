# influx-relay: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE ?= node
TEST_FILES = $(shell find dist/test/unit dist/test/integration dist/test/e2e dist/test/bench -name '*.test.js' 2>/dev/null | sort)

.PHONY: help deps build typecheck lint docs docs-check wasm test test-unit test-integration up down restart-relay reload-haproxy drain ready status bench haproxy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

deps: ## Install what is missing: npm packages, and Debian influxdb, haproxy, collectd, nginx, wrk, chromium, prometheus, netdata, clang, lld
	@bash scripts/ensure-deps.sh influxdb haproxy collectd-core nginx-light wrk docker-compose chromium prometheus netdata-core clang lld

build: ## Compile TypeScript to dist/
	@bash scripts/ensure-deps.sh --npm-only
	@rm -rf dist && npx tsc -p tsconfig.json

typecheck: ## Type-check without emitting
	@npx tsc -p tsconfig.json --noEmit

lint: ## ESLint over src and test
	@npx eslint src test

docs: build ## Regenerate docs/configuration.md (and haproxy/haproxy.cfg) from their schemas
	@$(NODE) dist/src/config/docs-cli.js
	@$(MAKE) --no-print-directory haproxy

docs-check: ## Fail when generated docs, configs or the scanner's WebAssembly drift from their sources
	@$(NODE) dist/src/config/docs-cli.js --check
	@bash scripts/build-wasm.sh --check
	@for c in haproxy/cluster.example.toml:haproxy/haproxy.cfg docker/cluster.toml:docker/haproxy/haproxy.cfg; do \
		$(NODE) dist/src/main.js haproxy -cluster $${c%%:*} | diff -u $${c##*:} - \
		|| { echo "$${c##*:} is stale: run 'make haproxy'"; exit 1; }; done

# Every relay a test starts overwrites pooled body memory when it returns, so a read after that fails a test (body-pool.ts).
test test-unit test-integration: export INFLUX_RELAY_BODY_POOL_CHECK = 1

test: deps build lint docs-check ## Everything CI runs: install, build, lint, docs drift, unit + integration tests
	@$(NODE) --test --test-reporter=spec $(TEST_FILES)

test-unit: build ## Unit tests only
	@$(NODE) --test $(shell find dist/test/unit -name '*.test.js' | sort)

test-integration: build ## Integration and end-to-end tests (real influxd)
	@$(NODE) --test $(shell find dist/test/integration dist/test/e2e -name '*.test.js' 2>/dev/null | sort)

wasm: ## Rebuild the scanner's WebAssembly fast path (src/lineprotocol/fast-line.c → fast-line-wasm.ts); needs clang, lld
	@bash scripts/ensure-deps.sh clang lld
	@bash scripts/build-wasm.sh

up: ## Start the HA stack on loopback: two influxd, two relays, HAProxy, the cluster page, Prometheus; prints the URLs
	@bash scripts/up.sh

down: ## Stop what `make up` started (by PID)
	@bash scripts/down.sh

restart-relay: ## Restart one relay of `make up`: N=1 or N=2; SIGNAL=KILL to crash it instead of draining it
	@SIGNAL="$(or $(SIGNAL),TERM)" bash scripts/restart-relay.sh $(N)

reload-haproxy: ## Apply a changed haproxy/cluster.example.toml to the HAProxy of `make up` (new process with -sf; no connection dropped)
	@bash scripts/reload-haproxy.sh

drain: ## Take a server of `make up` out of HAProxy's pools, waiting for its sessions: RELAY=relay-1 or DB=influxdb-a
	@bash scripts/drain.sh drain "$(or $(RELAY),$(DB))"

ready: ## Put it back: RELAY=relay-1 or DB=influxdb-a
	@bash scripts/drain.sh ready "$(or $(RELAY),$(DB))"

status: ## The cluster of `make up` at a glance, in the terminal (its page: the status URL make up printed)
	@$(NODE) dist/src/main.js status -cluster run/cluster.toml

haproxy: build ## Generate haproxy/haproxy.cfg (make up) and docker/haproxy/haproxy.cfg (compose) from their cluster files
	@$(NODE) dist/src/main.js haproxy -cluster haproxy/cluster.example.toml -out haproxy/haproxy.cfg
	@$(NODE) dist/src/main.js haproxy -cluster docker/cluster.toml -out docker/haproxy/haproxy.cfg

bench: build ## Benchmarks: scanner, relay → two nginx sinks, relay → two influxd; writes docs/benchmarks.md
	@bash scripts/ensure-deps.sh influxdb nginx-light wrk
	@bash test/bench/run.sh

clean: ## Remove build output
	@rm -rf dist
