# medsettle: `make help` lists the targets.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
BUF       ?= $(GOBIN)/buf
# FUZZTIME is a count of executions (Nx), not a duration: go1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" when a
# duration ends (golang/go#75804); a count never arms that deadline.
FUZZTIME  ?= 30000x
BENCHTIME ?= 2s
BENCHCOUNT ?= 6
# make loadtest: benchmarks/README.md, "Load test".
LOADTEST_STORES       ?= memstore,pgstore
LOADTEST_DURATION     ?= 15s
LOADTEST_WARMUP       ?= 3s
LOADTEST_CONNECTIONS  ?= 8
LOADTEST_DATABASE_URL ?=
LOADTEST_OUT          ?=
LOADTEST_SERVE_ARGS   ?=
LOADTEST_COMPARE      ?=
LOADTEST_PROFILE      ?=
LOADTEST_SERVER_GOMAXPROCS ?=
# make plan-bench: benchmarks/README.md, "Contribution plan (issue 11)".
PLANBENCH_PERSONS      ?= 1000000
PLANBENCH_RUNS         ?= 3
PLANBENCH_DATABASE_URL ?=

BUF_VERSION              := v1.75.0
PROTOC_GEN_GO_VERSION    := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2

PGDATA_DIR   ?= $(CURDIR)/.pgdata
PGPORT       ?= 54329
DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres?sslmode=disable

.DEFAULT_GOAL := help
.PHONY: help tools generate check-generated lint build serve demo-report postgres postgres-stop serve-pg test test-unit fuzz bench probe loadtest plan-bench bench-allocs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

tools: ## install buf and the protoc plugins (go install, pinned)
	$(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

generate: ## regenerate proto/ Go code with buf
	PATH="$(GOBIN):$$PATH" $(BUF) generate

check-generated: generate ## fail when the committed generated code is stale
	git diff --exit-code -- proto/

lint: ## buf lint (STANDARD), gofmt and go vet
	$(BUF) lint
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: run gofmt -w on the files above"; exit 1; }
	$(GO) vet ./...

build: ## build bin/medsettle
	$(GO) build -o bin/medsettle ./cmd/medsettle

serve: build ## serve the demo data on 127.0.0.1:50051 (embedded store)
	./bin/medsettle serve --demo

demo-report: build ## with `make serve` running: create the demo settlements, clear them, write report.html
	./bin/medsettle demo settle
	./bin/medsettle clear drg --region 350500 --scheme employee --year 2026 --budget 345000 --html report.html

postgres: ## start a local PostgreSQL in .pgdata on 127.0.0.1:54329 (creates it the first time)
	@bin=$$(dirname "$$(readlink -f "$$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n 1)")"); \
	as=""; if [ "$$(id -u)" = 0 ]; then mkdir -p "$(PGDATA_DIR)"; chown postgres "$(PGDATA_DIR)"; chmod 700 "$(PGDATA_DIR)"; as="runuser -u postgres --"; fi; \
	[ -f "$(PGDATA_DIR)/PG_VERSION" ] || $$as "$$bin/initdb" -D "$(PGDATA_DIR)" -U postgres -A trust -E UTF8 >/dev/null; \
	$$as "$$bin/pg_ctl" -D "$(PGDATA_DIR)" status >/dev/null 2>&1 || \
	  $$as "$$bin/pg_ctl" -D "$(PGDATA_DIR)" -o "-p $(PGPORT) -k $(PGDATA_DIR) -c listen_addresses=127.0.0.1" -l "$(PGDATA_DIR)/log" -w start >/dev/null || \
	  { echo "PostgreSQL did not start; see $(PGDATA_DIR)/log"; exit 1; }; \
	echo "PostgreSQL is up: $(DATABASE_URL)"

postgres-stop: ## stop the local PostgreSQL of `make postgres`
	@bin=$$(dirname "$$(readlink -f "$$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n 1)")"); \
	as=""; [ "$$(id -u)" = 0 ] && as="runuser -u postgres --"; $$as "$$bin/pg_ctl" -D "$(PGDATA_DIR)" -w stop

serve-pg: build ## serve the demo data on the PostgreSQL of `make postgres` (DATABASE_URL)
	./bin/medsettle serve --demo --database-url '$(DATABASE_URL)'

test: test-unit fuzz ## run every test: go test -race ./..., then short fuzz runs

test-unit:
	$(GO) test -race -count=1 ./...
	# The load client's raw system calls are off under -race: test them too.
	$(GO) test -count=1 ./benchmarks/loadtest/

fuzz: ## run each fuzz target for FUZZTIME executions (default 30000x)
	@set -e; for file in $$(grep -l '^func Fuzz' $$(git ls-files '*_test.go')); do \
	  for f in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
	    echo "fuzz ./$$(dirname $$file) $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./$$(dirname $$file); \
	  done; \
	done

bench: ## run the Go benchmarks (BENCHCOUNT runs each, for benchstat)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./benchmarks/

probe: ## denial-of-service probes at full size against the real binary: 19,900 idle connections, 15 s floods of oversized calls
	MEDSETTLE_PROBE=full $(GO) test -count=1 -v -timeout 20m -run 'Probe' ./cmd/medsettle/

loadtest: ## ghz at 64 calls on each store, and the national gateway (LOADTEST_STORES, _DURATION, _WARMUP, _CONNECTIONS, _DATABASE_URL, _OUT; LOADTEST_COMPARE=1: only gRPC Settle and the gateway; LOADTEST_PROFILE=DIR: CPU profiles of the server; LOADTEST_SERVER_GOMAXPROCS=N: the server's GOMAXPROCS; LOADTEST_GHZ_ENV='GOGC=off GOMEMLIMIT=8GiB': added to ghz's environment, not issue 9's method): one table of req/s, p50, p99, errors, ratios
	$(GO) run ./benchmarks/loadtest -stores '$(LOADTEST_STORES)' -duration $(LOADTEST_DURATION) -warmup $(LOADTEST_WARMUP) \
	  -connections $(LOADTEST_CONNECTIONS) -database-url '$(LOADTEST_DATABASE_URL)' -out '$(LOADTEST_OUT)' -serve-args '$(LOADTEST_SERVE_ARGS)' $(if $(LOADTEST_COMPARE),-compare) $(if $(LOADTEST_PROFILE),-profile '$(LOADTEST_PROFILE)') $(if $(LOADTEST_SERVER_GOMAXPROCS),-server-gomaxprocs $(LOADTEST_SERVER_GOMAXPROCS)) $(if $(LOADTEST_GHZ_ENV),-ghz-env '$(LOADTEST_GHZ_ENV)')

plan-bench: ## issue 11: a contribution plan of PLANBENCH_PERSONS (1,000,000) residents on a throwaway PostgreSQL (or PLANBENCH_DATABASE_URL): wall time, server peak memory
	$(GO) run ./benchmarks/planbench -persons $(PLANBENCH_PERSONS) -runs $(PLANBENCH_RUNS) -database-url '$(PLANBENCH_DATABASE_URL)'

bench-allocs: ## fail when a benchmark allocates more per op than benchmarks/allocs-ceiling.txt allows
	$(GO) run ./benchmarks/allocscheck -ceilings benchmarks/allocs-ceiling.txt
