# Everyday commands. `make test` is what CI runs (through .ci/run).
GO       ?= go
PKGS     ?= ./...
BENCHOUT ?= bench.out
# golangci-lint (errcheck, staticcheck, govet, ineffassign, unused, gofmt;
# .golangci.yml), built once from the Go module proxy at this version.
GOLANGCI_LINT_VERSION ?= v2.15.0
TOOLS    ?= $(CURDIR)/.cache/tools
GOLANGCI_LINT := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: test test-race bench bench-product soak scale lint demo build run fmt

## test: vet and run every test, then list the skipped ones and why (PostgreSQL tests need SFSYNC_TEST_POSTGRES_URL; they skip without it, except on CI)
test:
	$(GO) vet $(PKGS)
	$(GO) run ./internal/tools/gotest -count=1 -timeout 14m $(PKGS)

## test-race: the same under the race detector (slower)
test-race:
	$(GO) test -count=1 -race -timeout 30m $(PKGS)

## bench: every benchmark once, figures to $(BENCHOUT); copy them into BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m $(PKGS) | tee $(BENCHOUT)

## bench-product: the product-path benchmarks alone (issue 14): the built binary as serve and emulator processes, the first sync through the JSON API beside jsforce's download, bulk import from this process, the push of a bulk import, push latency of a steady stream of API changes (SFSYNC_BENCH_PUSH_RATE, _SECONDS), the emulator's start with 1M contacts; SFSYNC_BENCH_LARGE=1 adds 1M, SFSYNC_BENCH_CONTACTS=N sets the size
bench-product:
	$(GO) test -run '^$$' -bench 'Product' -benchtime 1x -timeout 240m ./internal/productbench/ | tee bench-product.out

## soak: the model-based convergence test at 5,000 random operations per database and per object (Contact, Lead, Person Account; SFSYNC_MODEL_SEED=N replays one)
soak:
	SFSYNC_SOAK=1 $(GO) test -count=1 -run 'TestModelConvergence' -timeout 60m -v ./internal/syncer/ | grep -E '^(=== RUN|--- |ok|FAIL)|model_(objects_)?test.go'

## scale: the scale-out test on PostgreSQL (needs SFSYNC_TEST_POSTGRES_URL): 10,000 tenants each with its own emulated org, serve and three workers as real processes, 30 measured minutes; SCALE_FLAGS="-tenants 200 -duration 3m -poll-interval 1m -idle-window 1m -big 50000" runs a short one. Report in scale-report.md
scale: build
	$(GO) run ./internal/tools/scale -bin bin/sfsync $(SCALE_FLAGS)

## demo: the whole product with an emulated Salesforce
demo:
	$(GO) run ./cmd/sfsync demo

## lint: gofmt, go vet, golangci-lint (.golangci.yml), and go.mod/go.sum as go mod tidy leaves them
lint: $(GOLANGCI_LINT)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GOLANGCI_LINT) run $(PKGS)
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy (diff above): run go mod tidy and commit"; exit 1; }

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/golangci-lint $@

## build: the sfsync binary into ./bin
build:
	$(GO) build -o bin/sfsync ./cmd/sfsync

## run: the service with zero configuration (SQLite in ./sfsync-data)
run:
	$(GO) run ./cmd/sfsync serve

fmt:
	gofmt -w $$(git ls-files '*.go')
