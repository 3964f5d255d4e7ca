# jiko — front door.  `make demo` and `make check` install what is missing
# (scripts/deps.sh), configure, build and run.  See README.md.

BUILD   ?= build
ASAN    ?= build-asan
FUZZDIR ?= build-fuzz
FUZZ_SECONDS ?= 60
SMOKE_SECONDS ?= 15
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build asan fuzz-build demo check test bench fuzz fuzz-smoke valgrind clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@test -f $(ASAN)/CMakeCache.txt || cmake -S . -B $(ASAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DJIKO_SANITIZE=ON
	cmake --build $(ASAN) -j $(JOBS)

fuzz-build: deps
	@test -f $(FUZZDIR)/CMakeCache.txt || CC=clang cmake -S . -B $(FUZZDIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DJIKO_SANITIZE=ON -DJIKO_FUZZ=ON
	cmake --build $(FUZZDIR) -j $(JOBS) --target fuzz_incident fuzz_rules fuzz_holiday fuzz_influx fuzz_prom fuzz_report fuzz_serve fuzz_watch fuzz_config fuzz_notice

demo: build
	@bash scripts/demo.sh $(BUILD)

# Every test: unit and data-driven tests under ASan+UBSan, the same under
# valgrind on the plain build (with the tests that need a plain build:
# label "plain"), CLI tests, and a short run of each fuzzer.
check: build asan fuzz-build
	ctest --test-dir $(ASAN) --output-on-failure -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -L 'valgrind|plain' -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

test: check

fuzz-smoke:
	@bash scripts/fuzz.sh $(FUZZDIR) $(SMOKE_SECONDS)

fuzz: fuzz-build
	@bash scripts/fuzz.sh $(FUZZDIR) $(FUZZ_SECONDS)

bench: build
	./$(BUILD)/bench_classify
	./$(BUILD)/bench_detect
	./$(BUILD)/bench_forecast
	./$(BUILD)/bench_ingest
	./$(BUILD)/bench_live_engine
	./$(BUILD)/bench_report $(BUILD)/bench-report-1m.db
	python3 bench/import_bench.py --jiko $(BUILD)/jiko --pg
	bash bench/serve_bench.sh $(BUILD)
	bash bench/live_bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZDIR)
