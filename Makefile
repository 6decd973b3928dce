# Two commands matter to a newcomer: `make run` and `make test`.
GO        ?= go
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test services lint bench bench-compare demo

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

## lint: go vet plus staticcheck
lint:
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd bench && $(GO) vet ./... && $(STATICCHECK) ./...

## bench: the benchmarks of every package
bench: services
	$(GO) test -run '^$$' -bench . -benchmem ./...

## demo: 3 instances of the example on one Redis for ~20 s; prints who ran each tick
demo: services
	$(GO) run ./examples/daily-report/demo -for 20s

## bench-compare: Beignet vs redsync, redislock, bare go-redis and gocron v2; rewrites docs/benchmarks.md
bench-compare: services
	cd bench && $(GO) run . -out ../docs/benchmarks.md
