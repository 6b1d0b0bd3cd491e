//! Per-call cost of the hooks, measured against baselines taken in the same run: the *floor*
//! (the same WIT world with empty bodies, so the boundary's own cost) and the engine called
//! natively (so the engine's own cost). No test asserts a time; this reports.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};

use retry_host::bindings::{
    PluginContext, ResourcePostFetchPayload, ToolPostInvokePayload, ToolPostInvokeResult,
};
use retry_host::guest_env::{DEFAULT_START_WALL_MS, GuestEnv};
use retry_host::hook::{Configure, ResourcePostFetch, ToolPostInvoke};
use retry_host::limits::{ExecutionBound, RuntimeOptions};
use retry_host::{PluginInstance, PluginPool, PluginRuntime, payload};

use crate::backend::{Backend, NativePlugin};

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
    /// Wasm instructions (fuel) the component spends per call, median of a few calls.
    pub plugin_fuel: u64,
    /// Wasm instructions (fuel) the floor spends per call.
    pub floor_fuel: u64,
}

/// The plugin and floor compiled with fuel metering, to count each call's wasm instructions:
/// unlike time, the count does not move with the machine's load.
pub struct FuelMeters {
    plugin: PluginRuntime,
    floor: PluginRuntime,
}

impl FuelMeters {
    /// Compiles `plugin_wasm` and `floor_wasm` with fuel metering.
    ///
    /// # Errors
    /// A component that does not compile.
    pub fn new(plugin_wasm: &[u8], floor_wasm: &[u8]) -> Result<Self> {
        let fuel = RuntimeOptions::default().with_execution_bound(ExecutionBound::Fuel);
        Ok(Self {
            plugin: PluginRuntime::from_bytes_with(plugin_wasm, fuel)?,
            floor: PluginRuntime::from_bytes_with(floor_wasm, fuel)?,
        })
    }
}

/// The median fuel of `CALLS` calls of `hook` on a fresh, configured instance of `runtime`
/// (the calls run through the same retry cycle the timed runs do).
fn fuel_per_call(
    runtime: &PluginRuntime,
    config: &str,
    hook: &Hook,
    context: &PluginContext,
) -> Result<u64> {
    const CALLS: usize = 11;
    let env = GuestEnv::new(DEFAULT_START_WALL_MS, 1);
    let mut backend = Backend::Wasm(configured(runtime, &env, config)?);
    let mut used = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        call_once(&mut backend, hook, context)?;
        if let Backend::Wasm(instance) = &backend {
            used.push(instance.fuel_used().unwrap_or(0));
        }
    }
    used.sort_unstable();
    Ok(used.get(CALLS / 2).copied().unwrap_or(0))
}

enum Hook {
    Tool(ToolPostInvokePayload),
    /// Tool calls made in turn, one per call (a failure then a success, say).
    Alternating {
        payloads: Vec<ToolPostInvokePayload>,
        next: std::cell::Cell<usize>,
    },
    Resource(ResourcePostFetchPayload),
}

struct Case {
    path: String,
    config: Value,
    hook: Hook,
    context: PluginContext,
    /// Bytes of text content: large payloads get proportionally fewer calls per run.
    payload_bytes: usize,
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
    let untraced = payload::context("req-1", None, None);
    let case = |path: &str, config: &Value, result: Value| Case {
        path: path.to_owned(),
        config: config.clone(),
        hook: Hook::Tool(payload::tool_payload("api_caller", &result)),
        context: untraced.clone(),
        payload_bytes: 0,
    };
    let ok = json!({"content": [{"type": "text", "text": "ok"}]});
    let unavailable = json!({"isError": true, "structuredContent": {"status_code": 503},
                             "content": [{"type": "text", "text": "unavailable"}]});
    let not_found = json!({"isError": true, "structuredContent": {"status_code": 404},
                           "content": [{"type": "text", "text": "not found"}]});
    let rate_limited = json!({"isError": true, "structuredContent": {"status_code": 429},
                              "content": [{"type": "text", "text": "rate limited"}]});
    let reset = json!({"isError": true,
                       "content": [{"type": "text", "text": "read: connection was reset by peer"}]});
    let mut cases = vec![
        case("tool_post_invoke success", &flat, ok.clone()),
        case(
            "tool_post_invoke retryable failure (503)",
            &flat,
            unavailable.clone(),
        ),
        case(
            "tool_post_invoke non-retryable failure (404)",
            &flat,
            not_found,
        ),
        Case {
            context: payload::context("req-1", Some("trace-1"), Some("server-1")),
            ..case("flat: traced retryable failure", &flat, unavailable.clone())
        },
        case("nested: success (full annotations)", &nested, ok.clone()),
        case("nested: status policy (429)", &nested, rate_limited),
        case("nested: pattern match (connection reset)", &nested, reset),
        case(
            "nested: circuit open",
            &always_open,
            json!({"isError": true, "structuredContent": {"status_code": 503}}),
        ),
    ];
    // The issue 10 rows: annotations limited to the decision (every metadata flag off), a
    // server's hint, and a retry budget kept level by a success after each failure.
    let lean = json!({"default_policy": {"max_retries": 10, "jitter": false},
                      "metadata": {"include_policy": false, "include_next_retry_time": false,
                                   "include_attempt_count": false,
                                   "include_circuit_breaker_state": false,
                                   "include_budget_state": false}});
    let mut budgeted = lean.clone();
    budgeted["retry_budget"] = json!({"max_tokens": 10, "token_ratio": 1});
    let hinted = json!({"isError": true,
                        "structuredContent": {"status_code": 503, "retry_after_ms": 1500}});
    cases.push(case("nested: hinted retry (retry_after_ms)", &lean, hinted));
    cases.push(Case {
        hook: Hook::Alternating {
            payloads: vec![
                payload::tool_payload("api_caller", &unavailable),
                payload::tool_payload("api_caller", &ok),
            ],
            next: std::cell::Cell::new(0),
        },
        ..case(
            "nested: budget-checked retry, then a success",
            &budgeted,
            ok.clone(),
        )
    });
    for (label, bytes) in [("1 KiB", 1 << 10), ("64 KiB", 64 << 10), ("1 MiB", 1 << 20)] {
        let result =
            json!({"isError": true, "content": [{"type": "text", "text": "x".repeat(bytes)}]});
        cases.push(Case {
            payload_bytes: bytes,
            ..case(
                &format!("nested: failure with {label} of text"),
                &nested,
                result,
            )
        });
    }
    cases.push(Case {
        path: "resource_post_fetch".to_owned(),
        config: flat,
        hook: Hook::Resource(payload::resource_payload(
            "file:///data.txt",
            None::<&serde_json::Value>,
        )),
        context: untraced,
        payload_bytes: 0,
    });
    cases
}

fn call_once(backend: &mut Backend, hook: &Hook, context: &PluginContext) -> Result<()> {
    match hook {
        Hook::Tool(payload) => {
            black_box(backend.call(&ToolPostInvoke { payload, context })?);
        }
        Hook::Alternating { payloads, next } => {
            let payload = &payloads[next.get() % payloads.len()];
            next.set(next.get().wrapping_add(1));
            black_box(backend.call(&ToolPostInvoke { payload, context })?);
        }
        Hook::Resource(payload) => {
            black_box(backend.call(&ResourcePostFetch { payload, context })?);
        }
    }
    Ok(())
}

/// ns per call over one timed run of `iterations` calls.
fn time_run(
    backend: &mut Backend,
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
    backends: &mut [Backend],
    hook: &Hook,
    context: &PluginContext,
    options: BenchOptions,
) -> Result<Vec<f64>> {
    let iterations = options.iterations.max(1);
    for backend in backends.iter_mut() {
        for _ in 0..iterations.min(2_000) {
            call_once(backend, hook, context)?;
        }
    }
    let mut samples = vec![Vec::new(); backends.len()];
    for _ in 0..options.runs.max(1) {
        for (backend, samples) in backends.iter_mut().zip(&mut samples) {
            samples.push(time_run(backend, hook, context, iterations)?);
        }
    }
    Ok(samples.into_iter().map(median).collect())
}

/// Which backend [`profile_loop`] drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfiledBackend {
    /// The component.
    Plugin,
    /// The floor component.
    Floor,
    /// The engine called natively.
    Native,
}

/// The plugin, the floor and the native engine, in that order, each configured with `config`.
fn configured_backends(
    plugin: &PluginRuntime,
    floor: &PluginRuntime,
    config: &str,
) -> Result<[Backend; 3]> {
    let env = GuestEnv::new(DEFAULT_START_WALL_MS, 1);
    let mut backends = [
        Backend::Wasm(plugin.instantiate(&env)?),
        Backend::Wasm(floor.instantiate(&env)?),
        Backend::Native(Box::new(NativePlugin::new(&env))),
    ];
    for backend in &mut backends {
        backend
            .call(&Configure(config))?
            .map_err(|e| anyhow::anyhow!(e.text()))?;
    }
    Ok(backends)
}

/// Makes `calls` calls of every path whose name contains `only` on one backend, untimed: a
/// loop for profilers. Under `valgrind --tool=callgrind --collect-atstart=no
/// --toggle-collect='*ToolPostInvoke*invoke*'` it counts the x86 instructions of those calls
/// alone (JIT code included), a repeatable measure of what a change costs, unlike time on a
/// shared machine, and closer to it than fuel (which counts a `memory.copy` into the host or a
/// 128-bit multiplication routine as one instruction).
///
/// # Errors
/// No row matching `only`, a component that cannot be instantiated or configured, or a trap.
pub fn profile_loop(
    plugin: &PluginRuntime,
    floor: &PluginRuntime,
    backend: ProfiledBackend,
    only: &str,
    calls: u64,
) -> Result<()> {
    let chosen: Vec<Case> = cases()
        .into_iter()
        .filter(|case| case.path.contains(only))
        .collect();
    if chosen.is_empty() {
        anyhow::bail!("no bench row's path contains `{only}`");
    }
    for case in chosen {
        let mut backends = configured_backends(plugin, floor, &case.config.to_string())?;
        let index = match backend {
            ProfiledBackend::Plugin => 0,
            ProfiledBackend::Floor => 1,
            ProfiledBackend::Native => 2,
        };
        for _ in 0..calls {
            call_once(&mut backends[index], &case.hook, &case.context)?;
        }
    }
    Ok(())
}

/// Measures every path (or those whose name contains `only`) on the plugin, the floor and the
/// native engine.
///
/// # Errors
/// A component that cannot be instantiated or configured, or a trap.
pub fn run(
    plugin: &PluginRuntime,
    floor: &PluginRuntime,
    meters: &FuelMeters,
    options: BenchOptions,
    only: Option<&str>,
) -> Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    let chosen = cases()
        .into_iter()
        .filter(|case| only.is_none_or(|text| case.path.contains(text)));
    for case in chosen {
        // About the same bytes per run for every payload size: a 1 MiB row makes ~20 calls.
        let kibibytes = u32::try_from(case.payload_bytes / 1024)
            .unwrap_or(u32::MAX)
            .max(1);
        let options = BenchOptions {
            iterations: (options.iterations / kibibytes).max(5),
            ..options
        };
        let config = case.config.to_string();
        let mut backends = configured_backends(plugin, floor, &config)?;
        let medians = time_interleaved(&mut backends, &case.hook, &case.context, options)?;
        let (plugin_ns, floor_ns, native_ns) = (medians[0], medians[1], medians[2]);
        rows.push(BenchRow {
            plugin_fuel: fuel_per_call(&meters.plugin, &config, &case.hook, &case.context)?,
            floor_fuel: fuel_per_call(&meters.floor, &config, &case.hook, &case.context)?,
            path: case.path,
            plugin_ns,
            floor_ns,
            native_ns,
            ratio_to_floor: plugin_ns / floor_ns,
            ratio_to_native: plugin_ns / native_ns,
        });
    }
    Ok(rows)
}

/// What it costs to go from a `.wasm` file to a first answer.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// Creating a wasmtime engine (once per host process), ms.
    pub engine_ms: f64,
    /// Compiling the `.wasm` and linking it, ms.
    pub compile_ms: f64,
    /// Loading the precompiled artifact from a file into an existing engine and linking it, ms.
    pub load_precompiled_ms: f64,
    /// A new store and instance from the pre-instantiated component, µs.
    pub instantiate_us: f64,
    /// The first `tool-post-invoke` of a new instance, µs.
    pub first_call_us: f64,
    /// Precompiled load + instantiate + first call, ms.
    pub precompiled_to_first_answer_ms: f64,
    /// The component's size on disk, bytes.
    pub component_bytes: usize,
    /// The precompiled artifact's size, bytes.
    pub precompiled_bytes: usize,
}

/// Measures [`ColdStart`] for the component in `wasm` (median of `runs`).
///
/// # Errors
/// A component that does not compile, load or instantiate, or a trap.
pub fn cold_start(wasm: &[u8], runs: u32) -> Result<ColdStart> {
    let call = payload::tool_payload("t", &json!({"content": [{"type": "text", "text": "ok"}]}));
    let context = payload::context("req-1", None, None);
    let env = GuestEnv::new(DEFAULT_START_WALL_MS, 1);
    let mut samples: [Vec<f64>; 6] = Default::default();
    let mut precompiled_bytes = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let engine = PluginRuntime::new_engine(RuntimeOptions::default())?;
        samples[5].push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let compiled = PluginRuntime::from_bytes(wasm)?;
        samples[0].push(start.elapsed().as_secs_f64() * 1e3);
        let artifact = compiled.precompile()?;
        precompiled_bytes = artifact.len();

        let file =
            std::env::temp_dir().join(format!("retry-cold-start-{}.cwasm", std::process::id()));
        std::fs::write(&file, &artifact)?;
        let start = Instant::now();
        let loaded =
            PluginRuntime::from_precompiled_file(engine, &file, RuntimeOptions::default())?;
        let loaded_at = start.elapsed();
        let mut instance = loaded.instantiate(&env)?;
        let instantiated_at = start.elapsed();
        black_box(instance.call(&ToolPostInvoke {
            payload: &call,
            context: &context,
        })?);
        let answered_at = start.elapsed();
        samples[1].push(loaded_at.as_secs_f64() * 1e3);
        samples[2].push((instantiated_at - loaded_at).as_secs_f64() * 1e6);
        samples[3].push((answered_at - instantiated_at).as_secs_f64() * 1e6);
        samples[4].push(answered_at.as_secs_f64() * 1e3);
    }
    let _ = std::fs::remove_file(
        std::env::temp_dir().join(format!("retry-cold-start-{}.cwasm", std::process::id())),
    );
    let [compile, load, instantiate, first, total, engine] = samples.map(median);
    Ok(ColdStart {
        engine_ms: engine,
        compile_ms: compile,
        load_precompiled_ms: load,
        instantiate_us: instantiate,
        first_call_us: first,
        precompiled_to_first_answer_ms: total,
        component_bytes: wasm.len(),
        precompiled_bytes,
    })
}

/// The config of the throughput rows.
const LOAD_CONFIG: &str = r#"{"max_retries": 3}"#;

/// Decisions per second with some number of threads.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// How the threads reach instances: each its own, or a shared pool.
    pub setup: String,
    /// Threads.
    pub threads: usize,
    /// Decisions per second, all threads together.
    pub decisions_per_sec: f64,
    /// Against one thread.
    pub speedup: f64,
}

/// Measures decisions per second with 1 thread and with one thread per core, each thread
/// driving its own instance, then with the threads sharing a [`PluginPool`].
///
/// # Errors
/// A component that cannot be instantiated or configured, or a trap.
pub fn throughput(plugin: &PluginRuntime, calls_per_thread: u32) -> Result<Vec<Throughput>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut results: Vec<Throughput> = Vec::new();
    for threads in [1, cores.max(2)] {
        let rate = decisions_per_sec(threads, calls_per_thread, |thread| {
            let mut instance = configured(plugin, &GuestEnv::new(0, thread as u64), LOAD_CONFIG)?;
            mixed_workload("t", calls_per_thread, |payload, context| {
                instance.call(&ToolPostInvoke { payload, context })
            })
        })?;
        results.push(throughput_row(
            "an instance per thread",
            threads,
            rate,
            &results,
        ));
    }
    let pool = PluginPool::new(plugin, cores.max(2), &GuestEnv::new(0, 1))?;
    pool.call(&Configure(LOAD_CONFIG))?
        .map_err(|e| anyhow::anyhow!(e.text()))?;
    // One tool per instance, so the threads never wait for each other's lock.
    let mut tools: Vec<String> = Vec::new();
    for candidate in (0..10_000).map(|i| format!("tool-{i}")) {
        if tools.len() == pool.len() {
            break;
        }
        if tools
            .iter()
            .all(|t| pool.shard_of(t) != pool.shard_of(&candidate))
        {
            tools.push(candidate);
        }
    }
    let rate = decisions_per_sec(tools.len(), calls_per_thread, |thread| {
        mixed_workload(&tools[thread], calls_per_thread, |payload, context| {
            pool.call(&ToolPostInvoke { payload, context })
        })
    })?;
    let setup = format!("a shared pool of {} instances", pool.len());
    results.push(throughput_row(&setup, tools.len(), rate, &results));
    Ok(results)
}

fn throughput_row(setup: &str, threads: usize, rate: f64, earlier: &[Throughput]) -> Throughput {
    Throughput {
        setup: setup.to_owned(),
        threads,
        decisions_per_sec: rate,
        speedup: earlier
            .first()
            .map_or(1.0, |one| rate / one.decisions_per_sec),
    }
}

/// Runs `work(thread)` on `threads` threads at once, each making `calls_per_thread` decisions,
/// and returns the decisions per second of all of them together.
fn decisions_per_sec(
    threads: usize,
    calls_per_thread: u32,
    work: impl Fn(usize) -> Result<()> + Sync,
) -> Result<f64> {
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let work = &work;
        let workers: Vec<_> = (0..threads)
            .map(|thread| scope.spawn(move || work(thread)))
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(f64::from(calls_per_thread) * threads as f64 / start.elapsed().as_secs_f64())
}

/// Three successes then a retryable failure, over and over, for `tool`.
fn mixed_workload(
    tool: &str,
    calls: u32,
    mut call: impl FnMut(&ToolPostInvokePayload, &PluginContext) -> Result<ToolPostInvokeResult>,
) -> Result<()> {
    let success =
        payload::tool_payload(tool, &json!({"content": [{"type": "text", "text": "ok"}]}));
    let failure = payload::tool_payload(
        tool,
        &json!({"isError": true, "structuredContent": {"status_code": 503}}),
    );
    let context = payload::context("req-1", None, None);
    for n in 0..calls {
        black_box(call(
            if n % 4 == 3 { &failure } else { &success },
            &context,
        )?);
    }
    Ok(())
}

/// The per-call cost of one execution bound.
#[derive(Debug, Clone, Serialize)]
pub struct BoundCost {
    /// The bound.
    pub bound: ExecutionBound,
    /// `tool_post_invoke` success, ns per call.
    pub success_ns: f64,
    /// `tool_post_invoke` retryable failure, ns per call.
    pub failure_ns: f64,
}

/// Measures the success and retryable-failure calls with the component compiled for each
/// execution bound, the three interleaved run by run.
///
/// # Errors
/// A component that cannot be compiled, instantiated or configured, or a trap.
pub fn bound_costs(wasm: &[u8], options: BenchOptions) -> Result<Vec<BoundCost>> {
    let bounds = [
        ExecutionBound::None,
        ExecutionBound::Epoch,
        ExecutionBound::Fuel,
    ];
    let runtimes = bounds
        .iter()
        .map(|&bound| {
            PluginRuntime::from_bytes_with(
                wasm,
                RuntimeOptions::default().with_execution_bound(bound),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let env = GuestEnv::new(DEFAULT_START_WALL_MS, 1);
    let mut instances = runtimes
        .iter()
        .map(|runtime| configured(runtime, &env, r#"{"max_retries": 10}"#).map(Backend::Wasm))
        .collect::<Result<Vec<_>>>()?;
    let context = payload::context("req-1", None, None);
    let success = Hook::Tool(payload::tool_payload(
        "t",
        &json!({"content": [{"type": "text", "text": "ok"}]}),
    ));
    let failure = Hook::Tool(payload::tool_payload(
        "t",
        &json!({"isError": true, "structuredContent": {"status_code": 503}}),
    ));
    let mut medians = Vec::new();
    for hook in [&success, &failure] {
        medians.push(time_interleaved(&mut instances, hook, &context, options)?);
    }
    Ok(bounds
        .iter()
        .enumerate()
        .map(|(index, &bound)| BoundCost {
            bound,
            success_ns: medians[0][index],
            failure_ns: medians[1][index],
        })
        .collect())
}

/// An instance of `runtime` in the world of `env`, configured with `config`.
fn configured(runtime: &PluginRuntime, env: &GuestEnv, config: &str) -> Result<PluginInstance> {
    let mut instance = runtime.instantiate(env)?;
    instance
        .call(&Configure(config))?
        .map_err(|e| anyhow::anyhow!(e.text()))?;
    Ok(instance)
}

/// Everything `bench` measures.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Per-call latency rows.
    pub rows: Vec<BenchRow>,
    /// Cold start and sizes.
    pub cold_start: ColdStart,
    /// Multi-core throughput.
    pub throughput: Vec<Throughput>,
    /// What each execution bound costs per call.
    pub execution_bounds: Vec<BoundCost>,
}

/// The cold start and throughput parts as text.
pub fn render_extras(report: &BenchReport) -> String {
    let cold = &report.cold_start;
    let mut out = format!(
        "\ncold start: engine {:.2} ms (once per process); compile {:.1} ms; from a precompiled artifact: load {:.2} ms, instantiate {:.0} us, first call {:.0} us, total {:.2} ms\n\
         size: component {} bytes, precompiled artifact {} bytes\n",
        cold.engine_ms,
        cold.compile_ms,
        cold.load_precompiled_ms,
        cold.instantiate_us,
        cold.first_call_us,
        cold.precompiled_to_first_answer_ms,
        cold.component_bytes,
        cold.precompiled_bytes,
    );
    let unbounded = report.execution_bounds.first();
    for cost in &report.execution_bounds {
        let relative = |ns: f64, base: Option<f64>| base.map_or(1.0, |base| ns / base);
        out.push_str(&format!(
            "execution bound {:?}: success {:.0} ns ({:.2}x), retryable failure {:.0} ns ({:.2}x)\n",
            cost.bound,
            cost.success_ns,
            relative(cost.success_ns, unbounded.map(|u| u.success_ns)),
            cost.failure_ns,
            relative(cost.failure_ns, unbounded.map(|u| u.failure_ns)),
        ));
    }
    for row in &report.throughput {
        out.push_str(&format!(
            "throughput: {} thread(s), {}: {:.0} decisions/s ({:.2}x one thread)\n",
            row.threads, row.setup, row.decisions_per_sec, row.speedup
        ));
    }
    out
}

/// The rows as a text table.
pub fn render(rows: &[BenchRow]) -> String {
    use crate::table::Align::{Left, Right};
    let header = [
        "path",
        "plugin ns",
        "floor ns",
        "native ns",
        "x floor",
        "x native",
        "plugin fuel",
        "floor fuel",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.path.clone(),
                format!("{:.0}", row.plugin_ns),
                format!("{:.0}", row.floor_ns),
                format!("{:.0}", row.native_ns),
                format!("{:.2}", row.ratio_to_floor),
                format!("{:.1}", row.ratio_to_native),
                row.plugin_fuel.to_string(),
                row.floor_fuel.to_string(),
            ]
        })
        .collect();
    let mut align = vec![Right; header.len()];
    align[0] = Left;
    crate::table::render(&header, &align, &cells)
}
