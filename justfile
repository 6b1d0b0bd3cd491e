# Recipes for retry-with-backoff. `just --list` shows them. Every recipe is plain cargo
# underneath; the harness's build script builds the wasm components itself.

# Replay the demo story through the component (manifest defaults, or `just demo path.yaml`).
demo config="":
    cargo run --release -q -p host-harness -- demo {{ if config != "" { "--config " + config } else { "" } }}

# The whole test suite: engine unit tests, harness tests, conformance, CLI and robustness.
test:
    cargo test --release

# Run the conformance scenarios (both the component and the native engine).
conformance path="tests/conformance":
    cargo run --release -q -p host-harness -- conformance {{path}}

# Validate a config file and print the effective policy.
check-config file:
    cargo run --release -q -p host-harness -- check-config {{file}}

# Per-call latency against the floor component and the native engine.
bench *args:
    cargo run --release -q -p host-harness -- bench {{args}}

# Build the two components (target/wasm/wasm32-wasip2/wasm-release/*.wasm).
wasm:
    rustup target add wasm32-wasip2
    cargo build --target wasm32-wasip2 --profile wasm-release -p retry-component -p floor-component --target-dir target/wasm

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy -p retry-component -p floor-component --target wasm32-wasip2 -- -D warnings

# Everything CI runs.
ci:
    bash .ci/run
