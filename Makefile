# fenqi: `make run` brings the whole system up locally, `make test` runs
# every test. See README.md.

SHELL     := /bin/bash
BIN       := .fenqi/bin
TEMPORAL  := $(BIN)/temporal
WFCHECK   := $(BIN)/workflowcheck
GO_TEST_TIMEOUT ?= 15m

.PHONY: run preflight build test test-unit test-faults lint bench bench-scale fuzz clean tools record-histories

## run: build everything and start PostgreSQL, Temporal (UI on :8233), the worker, the API and the codec server (:8081)
run: preflight build
	@$(BIN)/devstack

# preflight: say at once, before the long first build, what is missing.
preflight:
	@command -v go >/dev/null || { echo "fenqi: Go is not installed (https://go.dev/dl)"; exit 3; }
	@[ -n "$$DATABASE_URL" ] || [ -n "$$PG_BIN" ] || command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || \
	  { echo "fenqi: PostgreSQL server binaries (initdb, pg_ctl) not found; install them with"; \
	    echo "  sudo apt-get install -y postgresql"; \
	    echo "or set PG_BIN to their folder, or DATABASE_URL to use an existing server."; exit 3; }

## build: the binaries under .fenqi/bin (devstack, api, worker, codec-server, migrate, starter, pinned temporal CLI)
build: $(TEMPORAL)
	go build -o $(BIN)/ ./cmd/devstack ./cmd/api ./worker ./cmd/codec-server ./cmd/migrate ./starter

## tools: the pinned Temporal CLI and workflowcheck (versions in tools/go.mod)
tools: $(TEMPORAL) $(WFCHECK)

$(TEMPORAL): tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && go build -o ../$(TEMPORAL) github.com/temporalio/cli/cmd/temporal

$(WFCHECK): tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && go build -o ../$(WFCHECK) go.temporal.io/sdk/contrib/tools/workflowcheck

## test: unit tests with -race, the integration tests (throwaway PostgreSQL and Temporal) and the browser tests (headless Chromium; screenshots in .fenqi/test-artifacts)
test: $(TEMPORAL)
	@mkdir -p $(CURDIR)/.fenqi/test-artifacts
	go test -race -count=1 -timeout $(GO_TEST_TIMEOUT) -artifacts -outputdir $(CURDIR)/.fenqi/test-artifacts ./...

## test-faults: only the fault tests (100 plans; worker SIGKILLs, PostgreSQL restarts, every message twice; about 2 min; FENQI_FAULTS_SEED=N replays a run). `make test` runs them too
test-faults: $(TEMPORAL)
	go test -race -count=1 -run '^TestFaults' -timeout 10m -v ./integration/

## test-unit: only the tests that need no server
test-unit:
	go test -race -count=1 -short ./calc/... ./starter/...

## lint: go vet, gofmt and workflowcheck
lint: $(WFCHECK)
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^tools/')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(WFCHECK) ./...

## record-histories: re-record the workflow histories replayed by the tests (workflows/testdata/histories)
record-histories: $(TEMPORAL)
	FENQI_RECORD_HISTORIES=1 go test -count=1 -run . ./api/ ./integration/
	@ls -1 workflows/testdata/histories

## bench: the Go benchmarks, then `starter bench` on throwaway servers: throughput against a baseline, cancel-quote latency, cost of a 12- and a 360-instalment plan, worker memory with 1,000 plans (docs/benchmarks.md; about 10 min)
bench: build
	go test -run '^$$' -bench . -benchmem $$(go list ./... | grep -v /integration)
	$(BIN)/starter bench --local --n 400 --rounds 4 --latency-plans 50 --scale 1000

## bench-scale: the worker's memory with 10,000 active plans waiting on timers (about 15 min)
bench-scale: build
	$(BIN)/starter bench --local --skip-throughput --skip-latency --skip-cost --scale 10000 --concurrency 16

## fuzz: each fuzz target of the calculator for FUZZTIME (default 20s)
FUZZTIME ?= 20s
fuzz:
	@for f in $$(go test -list '^Fuzz' ./calc/ | grep '^Fuzz'); do \
	  echo "== $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./calc/ || exit 1; done

## clean: stop nothing, remove the local state (.fenqi) — the database and plans are lost
clean:
	rm -rf .fenqi
