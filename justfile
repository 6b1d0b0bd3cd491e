# Recipes for retry-with-backoff. `just --list` shows them. Every recipe is plain cargo
# underneath; the harness's build script builds the wasm components itself.

# Replay the demo story through the component (manifest defaults, or `just demo path.yaml`).
demo config="":
    cargo run --release -q -p host-harness -- demo {{ if config != "" { "--config " + config } else { "" } }}

# The Rust test suite: engine unit tests, host and harness tests, conformance, CLI, robustness.
test:
    cargo test --release

# Run the conformance scenarios (both the component and the native engine).
conformance path="tests/conformance":
    cargo run --release -q -p host-harness -- conformance {{path}}

# Validate a config file and print the effective policy.
check-config file:
    cargo run --release -q -p host-harness -- check-config {{file}}

# A synthetic workload against a failing upstream through the component (`just simulate
# --config a.yaml --config b.yaml --profile outage:10-30 --plot out.svg`).
simulate *args:
    cargo run --release -q -p host-harness -- simulate {{args}}

# Per-call latency against the floor component and the native engine.
bench *args:
    cargo run --release -q -p host-harness -- bench {{args}}

# Per call: x86 instructions plus six for every miss of a simulated 32 KiB, 8-way level-1
# instruction cache (README, Performance). Needs valgrind.
# A bench row's deterministic cost, plugin against floor: it tracks the bench's time ratio.
cost-model row calls="2000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release -q -p host-harness
    for profile in plugin floor; do
        valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 \
            --LL=8388608,16,64 --collect-atstart=no --toggle-collect='*ToolPostInvoke*invoke*' \
            --toggle-collect='*ResourcePostFetch*invoke*' \
            --callgrind-out-file=target/cost-model.$profile target/release/retry-harness \
            bench --only "{{row}}" --profile $profile --calls {{calls}} >/dev/null 2>&1
        awk -v p=$profile -v n={{calls}} '/^totals:/ { printf "%s %.0f %.0f %.0f\n", p, $2 / n, $5 / n, ($2 + 6 * $5) / n }' \
            target/cost-model.$profile
    done | awk '{ print $1 ": instructions " $2 ", L1i misses " $3 ", cost " $4; cost[NR] = $4 }
        END { printf "plugin / floor: %.2f\n", cost[1] / cost[2] }'

# Build the two components (target/wasm/wasm32-wasip2/wasm-release/*.wasm).
wasm:
    rustup target add wasm32-wasip2
    cargo build --target wasm32-wasip2 --profile wasm-release -p retry-component -p floor-component --target-dir target/wasm

# Build the Python package into target/py-venv and run its tests (cpex's PluginManager, every
# conformance scenario through the Python runner).
test-python:
    python3 -m venv target/py-venv
    target/py-venv/bin/python -m pip install --quiet "./bindings/python[test]"
    cd bindings/python/tests && ../../../target/py-venv/bin/python -m pytest -q

# The Python benchmark: the published cpex plugin, this package and wasmtime-py, side by side.
bench-python *args:
    python3 -m venv target/py-bench-venv
    target/py-bench-venv/bin/python -m pip install --quiet "./bindings/python[bench]"
    target/py-bench-venv/bin/python bindings/python/bench.py {{args}}

# Install the npm package's locked dependencies and run its tests (the wrapper, and every
# conformance scenario through bin/conformance.mjs).
test-js:
    cd bindings/js && npm ci && npm test

# The Node benchmark: the wrapper, the bare transpiled export and the floor component.
bench-js *args:
    cd bindings/js && npm ci && npm run bench -- {{args}}

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy -p retry-with-backoff-python -- -D warnings
    cargo clippy -p retry-component -p floor-component --target wasm32-wasip2 -- -D warnings

# Everything CI runs.
ci:
    bash .ci/run
