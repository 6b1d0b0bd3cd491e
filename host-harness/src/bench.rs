//! Per-call cost of the hooks, measured against baselines taken in the same run: the *floor*
//! (the same WIT world with empty bodies, so the boundary's own cost) and the engine called
//! natively (so the engine's own cost). No test asserts a time; this reports.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};

use crate::backend::{NativePlugin, PluginBackend};
use crate::bindings::{PluginContext, ResourcePostFetchPayload, ToolPostInvokePayload};
use crate::guest_env::GuestEnv;
use crate::payload;
use crate::runtime::PluginRuntime;

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Calls per timed run.
    pub iterations: u32,
    /// Timed runs per row and backend, interleaved (the median is reported).
    pub runs: u32,
}

impl Default for BenchOptions {
    /// 20 000 calls per run, 7 runs.
    fn default() -> Self {
        Self {
            iterations: 20_000,
            runs: 7,
        }
    }
}

/// One measured path.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// What is called.
    pub path: String,
    /// The component, ns per call (median of the runs).
    pub plugin_ns: f64,
    /// The floor component on the same input, ns per call.
    pub floor_ns: f64,
    /// The engine called natively on the same input, ns per call.
    pub native_ns: f64,
    /// `plugin_ns / floor_ns`.
    pub ratio_to_floor: f64,
    /// `plugin_ns / native_ns`.
    pub ratio_to_native: f64,
}

enum Hook {
    Tool(ToolPostInvokePayload),
    Resource(ResourcePostFetchPayload),
}

struct Case {
    path: &'static str,
    config: Value,
    hook: Hook,
}

/// The specification's example config (from `examples/`), with its breaker switched off so a
/// row measures the policy path rather than an open breaker.
fn spec_example_without_breaker() -> Value {
    let document = crate::yaml::parse(include_str!("../../examples/spec-example-plugins.yaml"))
        .expect("the bundled example is valid YAML");
    let (mut config, _) =
        crate::config_file::extract(document).expect("the example has the plugin");
    config["circuit_breaker"]["enabled"] = json!(false);
    config
}

fn cases() -> Vec<Case> {
    let flat = json!({"max_retries": 10});
    let nested = spec_example_without_breaker();
    let mut always_open = nested.clone();
    always_open["circuit_breaker"] =
        json!({"enabled": true, "failure_threshold": 1, "recovery_timeout_ms": u64::MAX});
    let nested_case = |path, config: &Value, result: Value| Case {
        path,
        config: config.clone(),
        hook: Hook::Tool(payload::tool_payload("api_caller", &result)),
    };
    let tool = |path, result: Value| Case {
        path,
        config: flat.clone(),
        hook: Hook::Tool(payload::tool_payload("web_scraper", &result)),
    };
    vec![
        tool(
            "tool_post_invoke success",
            json!({"content": [{"type": "text", "text": "ok"}]}),
        ),
        tool(
            "tool_post_invoke retryable failure (503)",
            json!({"isError": true, "structuredContent": {"status_code": 503},
                   "content": [{"type": "text", "text": "unavailable"}]}),
        ),
        tool(
            "tool_post_invoke non-retryable failure (404)",
            json!({"isError": true, "structuredContent": {"status_code": 404},
                   "content": [{"type": "text", "text": "not found"}]}),
        ),
        nested_case(
            "nested: success (full annotations)",
            &nested,
            json!({"content": [{"type": "text", "text": "ok"}]}),
        ),
        nested_case(
            "nested: status policy (429)",
            &nested,
            json!({"isError": true, "structuredContent": {"status_code": 429},
                   "content": [{"type": "text", "text": "rate limited"}]}),
        ),
        nested_case(
            "nested: pattern match (connection reset)",
            &nested,
            json!({"isError": true, "content": [{"type": "text", "text": "read: connection was reset by peer"}]}),
        ),
        nested_case(
            "nested: circuit open",
            &always_open,
            json!({"isError": true, "structuredContent": {"status_code": 503}}),
        ),
        Case {
            path: "resource_post_fetch",
            config: flat.clone(),
            hook: Hook::Resource(payload::resource_payload("file:///data.txt", None)),
        },
    ]
}

fn call_once(backend: &mut dyn PluginBackend, hook: &Hook, context: &PluginContext) -> Result<()> {
    match hook {
        Hook::Tool(payload) => {
            black_box(backend.tool_post_invoke(payload, context)?);
        }
        Hook::Resource(payload) => {
            black_box(backend.resource_post_fetch(payload, context)?);
        }
    }
    Ok(())
}

/// ns per call over one timed run of `iterations` calls.
fn time_run(
    backend: &mut dyn PluginBackend,
    hook: &Hook,
    context: &PluginContext,
    iterations: u32,
) -> Result<f64> {
    let start = Instant::now();
    for _ in 0..iterations {
        call_once(backend, hook, context)?;
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(iterations))
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Times the backends in turn, run after run, so that drift in the machine's speed during the
/// measurement touches each of them alike; returns each one's median ns per call.
fn time_interleaved(
    backends: &mut [&mut dyn PluginBackend],
    hook: &Hook,
    context: &PluginContext,
    options: BenchOptions,
) -> Result<Vec<f64>> {
    let iterations = options.iterations.max(1);
    for backend in backends.iter_mut() {
        for _ in 0..iterations.min(2_000) {
            call_once(&mut **backend, hook, context)?;
        }
    }
    let mut samples = vec![Vec::new(); backends.len()];
    for _ in 0..options.runs.max(1) {
        for (backend, samples) in backends.iter_mut().zip(&mut samples) {
            samples.push(time_run(&mut **backend, hook, context, iterations)?);
        }
    }
    Ok(samples.into_iter().map(median).collect())
}

/// Measures every path on the plugin, the floor and the native engine.
///
/// # Errors
/// A component that cannot be instantiated or configured, or a trap.
pub fn run(
    plugin: &PluginRuntime,
    floor: &PluginRuntime,
    options: BenchOptions,
) -> Result<Vec<BenchRow>> {
    let context = payload::context("req-1", None, None);
    let mut rows = Vec::new();
    for case in cases() {
        let config = case.config.to_string();
        let env = GuestEnv::new(crate::guest_env::DEFAULT_START_WALL_MS, 1);
        let mut wasm = plugin.instantiate(&env)?;
        wasm.configure(&config)?
            .map_err(|e| anyhow::anyhow!(e.text()))?;
        let mut empty = floor.instantiate(&env)?;
        let mut native = NativePlugin::new(&env);
        PluginBackend::configure(&mut native, &config)?.map_err(|e| anyhow::anyhow!(e.text()))?;

        let medians = time_interleaved(
            &mut [&mut wasm, &mut empty, &mut native],
            &case.hook,
            &context,
            options,
        )?;
        let (plugin_ns, floor_ns, native_ns) = (medians[0], medians[1], medians[2]);
        rows.push(BenchRow {
            path: case.path.to_owned(),
            plugin_ns,
            floor_ns,
            native_ns,
            ratio_to_floor: plugin_ns / floor_ns,
            ratio_to_native: plugin_ns / native_ns,
        });
    }
    Ok(rows)
}

/// The rows as a text table.
pub fn render(rows: &[BenchRow]) -> String {
    let mut out = format!(
        "{:<46} {:>12} {:>12} {:>12} {:>9} {:>10}\n",
        "path", "plugin ns", "floor ns", "native ns", "x floor", "x native"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<46} {:>12.0} {:>12.0} {:>12.0} {:>9.2} {:>10.1}\n",
            row.path,
            row.plugin_ns,
            row.floor_ns,
            row.native_ns,
            row.ratio_to_floor,
            row.ratio_to_native
        ));
    }
    out
}
