# Two commands matter to a newcomer: `make run` and `make test`.
GO        ?= go
# go.mod names toolchain go1.26.10: the go1.26.8 this machine ships has
# standard-library vulnerabilities (crypto/x509, html/template, ...) that
# `make vuln` reports, fixed in go1.26.9 and go1.26.10. "auto" lets the go
# command fetch that toolchain from the module proxy where the local Go is
# older; the machine's go.env says "local", which would ignore go.mod.
export GOTOOLCHAIN = auto
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK = $(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0
# govulncheck reads the Go vulnerability database from vuln.go.dev, which
# sandboxes often cannot reach. The same database is built here from the
# golang.org/x/vulndb module (its data/osv reports) that the Go module proxy
# serves, with that module's own indexdb command. VULNDB_VERSION=latest
# resolves to the newest; each resolved version is built once into .cache/.
VULNDB_VERSION ?= latest

.PHONY: run test services lint tidy fmt vuln bench bench-compare demo

## run: the example app on in-memory defaults (no servers needed)
run:
	$(GO) run ./examples/daily-report -demo

# An iteration count, not a duration: with a duration, go test's fuzzer can
# fail with "context deadline exceeded" when the deadline lands while it is
# minimising a new input.
FUZZTIME ?= 30000x

## test: every test with -race, against private Redis and PostgreSQL servers the tests start, then a few seconds of each fuzz target
test: services
	$(GO) test -race -count=1 -timeout 5m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzKeysShareHashTag$$' -fuzztime $(FUZZTIME) ./providers/redislocks
	$(GO) test -run '^$$' -fuzz '^FuzzMetadataRoundTrip$$' -fuzztime $(FUZZTIME) ./providers/redislocks
	$(GO) test -run '^$$' -fuzz '^FuzzParseSpec$$' -fuzztime $(FUZZTIME) ./scheduler

## services: install redis-server and PostgreSQL if missing (nothing is started or configured)
services:
	@./scripts/services.sh

## lint: tidy modules, gofmt, go vet, staticcheck and govulncheck, in both modules
lint: tidy fmt
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd bench && $(GO) vet ./... && $(STATICCHECK) ./...
	$(MAKE) vuln

## tidy: fail if go.mod or go.sum of either module is not what go mod tidy leaves
tidy:
	$(GO) mod tidy -diff
	cd bench && $(GO) mod tidy -diff

## fmt: fail if a file is not gofmt-formatted
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## vuln: govulncheck both modules against a vulnerability database built from the module proxy
vuln:
	@set -e; \
	ver=$$(cd / && $(GO) list -m -f '{{.Version}}' golang.org/x/vulndb@$(VULNDB_VERSION)); \
	db=$(CURDIR)/.cache/vulndb/$$ver; \
	if [ ! -f $$db/index/db.json ]; then \
		echo "vuln: building the vulnerability database from golang.org/x/vulndb@$$ver"; \
		src=$$(cd / && $(GO) mod download -json golang.org/x/vulndb@$$ver | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
		rm -rf $$db.tmp && (cd / && $(GO) run golang.org/x/vulndb/cmd/indexdb@$$ver -vulns $$src/data/osv -out $$db.tmp) && mv $$db.tmp $$db; \
	fi; \
	$(GOVULNCHECK) -db file://$$db ./...; \
	cd bench && $(GOVULNCHECK) -db file://$$db ./...

## bench: the benchmarks of every package
bench: services
	$(GO) test -run '^$$' -bench . -benchmem ./...

## demo: 3 instances of the example on one private Redis for ~20 s; prints who ran each tick
demo: services
	$(GO) run ./examples/daily-report/demo -for 20s

## bench-compare: Beignet vs redsync, redislock, bare go-redis and gocron v2; rewrites docs/benchmarks.md
## (BENCH_NOTE="..." records the run's conditions in the page)
bench-compare: services
	cd bench && $(GO) run . -out ../docs/benchmarks.md -note "$(BENCH_NOTE)"
