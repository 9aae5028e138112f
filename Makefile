# stacq — make build | test | demo | fuzz | bench
GO      ?= go
BIN     ?= bin/stacq
FUZZTIME ?= 20s
# Minimizing each new interesting input may otherwise take up to a minute and
# outlast FUZZTIME (go test then fails with "context deadline exceeded").
FUZZMINTIME ?= 1s

.PHONY: build install test test-duckdb vet demo fuzz bench bench-download clean

build:
	$(GO) build -o $(BIN) ./cmd/stacq

install:
	$(GO) install ./cmd/stacq

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

# The whole suite, with the race detector, then the DuckDB checks of the
# stac-geoparquet files (a module of its own: DuckDB is cgo and stays out of
# stacq's go.mod).
test: vet
	$(GO) test -race -count=1 ./...
	$(MAKE) test-duckdb

# DuckDB reads what stacparquet writes (its prebuilt library comes as a Go
# module; the first build takes about 20 s). No -race here: with cgo it
# takes minutes, and the race detector already runs over stacparquet.
test-duckdb:
	cd stacparquet/internal/duckdbtest && $(GO) vet ./... && $(GO) test -count=1 ./...

# A real search, offline: a local STAC API (behind OAuth2 client credentials)
# is started by the demo itself and searched with the stacq binary.
demo: build
	$(GO) run ./cmd/stacq/internal/demo -stacq $(BIN)

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for fn in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$fn"; \
	    $(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINTIME) $$pkg; \
	  done; \
	done

# Throughput and memory of stacq search against a local STAC API, next to
# GDAL's ogr2ogr (installed with apt-get when absent) and a raw fetch of the
# same pages. A few minutes; not part of `make test`. BENCHFLAGS=-quick for
# the 10k-item cases only.
bench: build
	$(GO) run ./cmd/stacq/internal/bench -stacq $(BIN) $(BENCHFLAGS)
	@echo "== a local stac-geoparquet search against DuckDB running the same query (100k items)"
	cd stacparquet/internal/duckdbtest && STACPARQUET_BENCH=100000 $(GO) test -count=1 -run TestSearchBenchmark -v . | grep -v '^=== RUN'

# stacq download against curl on loopback: one large file (throughput,
# target 90% of curl's) and 200 small files at 50 ms latency (target:
# --concurrency 8 at least 6x --concurrency 1). A minute or two; installs
# curl when absent; not part of `make test`. BENCHDLFLAGS=-large 268435456
# for a smaller file.
bench-download: build
	$(GO) run ./cmd/stacq/internal/benchdl -stacq $(BIN) $(BENCHDLFLAGS)

clean:
	rm -rf bin
