# Ringlet: the two commands are `make run` and `make test`.
# CMake does the building underneath; this file only names the tasks.

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_OPT ?=
FUZZ_SECS ?= 600        # per target, for `make fuzz`
SMOKE_SECS ?= 20        # per target, inside `make test`

.PHONY: all build deps run test unit test-asan fuzz-build fuzz-smoke fuzz valgrind \
	bench-parse bench-tsx bench-wheel bench-loc bench-reg bench-peer bench-proxy clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_OPT) >/dev/null
	@cmake --build build -j $(JOBS)

# The test build: ASan + UBSan, every unit and black-box test through ctest.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRINGLET_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

fuzz-build: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRINGLET_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Each fuzz target briefly, seeded from ../shared/torture and fuzz/seeds.
fuzz-smoke: fuzz-build
	@./scripts/fuzz.sh $(SMOKE_SECS)

fuzz: fuzz-build
	@./scripts/fuzz.sh $(FUZZ_SECS)

# The release binaries under valgrind: no leaks, no invalid access.
valgrind: build
	@./scripts/valgrind.sh

test: build test-asan valgrind fuzz-smoke
	@echo "make test: all passed"

run: build
	@./scripts/run.sh

# Ringlet's parser against libosip2 and sofia-sip (bench/parse); last line `ratio: N.NN`.
# Builds only what the bench needs, so a broken test elsewhere does not block it.
bench-parse: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_OPT) >/dev/null
	@cmake --build build -j $(JOBS) --target bench_parse
	@./build/bench/parse/bench_parse bench/parse/corpus

# Timer wheel: ns per start/cancel of 10 million timers.
bench-wheel: build
	@./build/bench/wheel/bench_wheel

# Location store updates/s: memory and SQLite, 1 and 2 threads.
bench-loc: build
	@./build/bench/loc/bench_loc

# Transactions/s through ringletd with SIPp, 1 and 2 workers.  Needs both cores: run it alone.
bench-tsx: build
	@RINGLET_BUILD=$(CURDIR)/build python3 bench/tsx/bench_tsx.py

# Registrations/s through ringletd with SIPp: auth off/on, memory/SQLite, 1 and 2 workers
# (bench/reg); last line `reg: mem-w1 N ...`.  Needs both cores: run it alone.
bench-reg: build
	@RINGLET_BUILD=$(CURDIR)/build python3 bench/reg/bench_reg.py

# ringletd beside Kamailio 5.6 and the SIPp baseline, REGISTER step of ../shared/bench;
# last line `reg ratio: N.NN`.  Needs both cores and UDP 5060, 5070-5078: run it alone.
bench-peer: build
	@./scripts/deps-bench.sh
	@RINGLET_BUILD=$(CURDIR)/build python3 bench/reg/bench_peer.py

# ringletd as registrar + stateful proxy beside Kamailio 5.6 (2 children) and the SIPp
# baseline in one run of ../shared/bench: calls/s and REGISTER/s, CPU, PSS (bench/proxy);
# last line `cps ratio: N.NN reg ratio: N.NN`.  Needs both cores and UDP 5060, 5070-5078
# for 10-20 minutes (3 rounds; PEER_REPEAT=1 for a quick one): run it alone.
bench-proxy: build
	@./scripts/deps-bench.sh
	@RINGLET_BUILD=$(CURDIR)/build python3 bench/proxy/bench_proxy.py

clean:
	rm -rf build build-asan build-fuzz
