//! `retry-harness`: runs the retry-with-backoff component under wasmtime.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use host_harness::backend::BackendChoice;
use host_harness::bench::{self, BenchOptions};
use host_harness::config_file::{self, ConfigSource};
use host_harness::{config_report, conformance, demo, simulate};
use retry_host::bindings::ConfigError;
use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, Describe};
use retry_host::limits::RuntimeOptions;
use retry_host::runtime::{FLOOR_WASM, PLUGIN_WASM};
use retry_host::{PluginRuntime, artifact_cache};

const AFTER_HELP: &str = "\
Exit codes:
  0  success: every scenario passed, the config is valid
  1  a scenario failed, or the config is invalid
  2  usage error, unreadable input, or a component that cannot be loaded";

/// Runs the retry-with-backoff WebAssembly component under wasmtime: conformance scenarios, a
/// demo, a config checker and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "retry-harness", version, after_help = AFTER_HELP)]
struct Cli {
    /// The component to load (default: the one built with this harness).
    #[arg(long, global = true, value_name = "WASM")]
    component: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replays a short story of tool calls and prints the decisions as a table.
    Demo {
        /// A config file (YAML or JSON: a config mapping, a plugins file or a manifest);
        /// default: the story's own (the manifest defaults for `basics`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Which story: `basics` (retries, give-up, under the defaults) or `safety` (server
        /// hints, idempotency, deadlines, the retry budget).
        #[arg(long, value_enum, default_value_t = demo::Story::Basics)]
        story: demo::Story,
    },
    /// Runs conformance scenario files, or every *.yaml below directories.
    Conformance {
        /// Files or directories.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Which implementation to run; `both` requires the component and the native engine
        /// to agree on every step.
        #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
        backend: BackendChoice,
    },
    /// Validates a config file and prints the effective policy, or every error with its key.
    CheckConfig {
        /// A YAML or JSON file: a config mapping, a ContextForge plugins file, or a manifest.
        file: PathBuf,
        /// Print the effective policy as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Drives the component with a synthetic workload against a failing upstream, in virtual
    /// time, and reports the load amplification, success rate, added latency, refusals and
    /// breaker opens (several configs: the same workload and seed for each).
    Simulate {
        /// Config files to compare (YAML or JSON, as for check-config); none: the defaults.
        #[arg(long = "config", value_name = "FILE")]
        configs: Vec<PathBuf>,
        /// More config files to compare, after any `--config` (`--compare A.yaml B.yaml`).
        #[arg(long, value_name = "FILE", num_args = 1..)]
        compare: Vec<PathBuf>,
        /// Clients sending requests.
        #[arg(long, default_value_t = 50)]
        clients: u32,
        /// Tools the clients call (client i calls tool i mod N; every tool has its own breaker).
        #[arg(long, default_value_t = 1)]
        tools: u32,
        /// Requests per second per client.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Seconds during which clients send new requests.
        #[arg(long, default_value_t = 60.0)]
        duration_s: f64,
        /// How the upstream fails: outage:START-END (seconds), flaky:RATE, rate-limited:RPS, or
        /// a YAML file of phases (`phases: [{until_s, failure_rate, rate_limit_rps}]`).
        #[arg(long, default_value = "outage:10-30")]
        profile: simulate::Profile,
        /// The seed of the workload and of the component's random source.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also draw the timelines into this SVG file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
    /// Measures per-call latency against the empty-bodied floor component and the native
    /// engine.
    Bench {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Calls per timed run.
        #[arg(long, default_value_t = BenchOptions::default().iterations)]
        iterations: u32,
        /// Timed runs per row (the median is reported).
        #[arg(long, default_value_t = BenchOptions::default().runs)]
        runs: u32,
        /// Only the rows whose path contains this text, and none of the cold start,
        /// throughput and execution bound measurements (for profiling one path).
        #[arg(long)]
        only: Option<String>,
        /// Instead of measuring, make `--calls` untimed calls of the `--only` rows on this
        /// backend alone (for callgrind or perf).
        #[arg(long, value_enum, requires = "only")]
        profile: Option<bench::ProfiledBackend>,
        /// Calls per row for `--profile`.
        #[arg(long, default_value_t = 20_000)]
        calls: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", one_line(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}

/// Folds a multi-line error (wasmtime's parse errors span lines) into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The component to run: `--component`, or the one built with this harness; compiled once per
/// machine and then loaded from the artifact cache.
fn load_plugin(component: Option<&PathBuf>) -> Result<PluginRuntime> {
    let path = component
        .cloned()
        .unwrap_or_else(|| PathBuf::from(PLUGIN_WASM));
    artifact_cache::load_file(
        &artifact_cache::default_cache_dir(),
        &path,
        RuntimeOptions::default(),
    )
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Demo { config, story } => {
            let config = config
                .map(|path| config_file::load(&path).map(|(config, _)| config))
                .transpose()?;
            let runtime = load_plugin(cli.component.as_ref())?;
            print!("{}", demo::run(&runtime, config.as_ref(), story)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Conformance { paths, backend } => {
            let runtime = load_plugin(cli.component.as_ref())?;
            let summary =
                conformance::run_paths(&runtime, &paths, backend, |line| println!("{line}"))?;
            println!("{summary}");
            Ok(if summary.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::CheckConfig { file, json } => check_config(cli.component.as_ref(), &file, json),
        Command::Simulate {
            configs,
            compare,
            clients,
            tools,
            rate,
            duration_s,
            profile,
            seed,
            json,
            plot,
        } => {
            let runtime = load_plugin(cli.component.as_ref())?;
            let workload = simulate::Workload {
                clients,
                tools,
                rate,
                duration_s,
                profile: profile.clone(),
                seed,
            };
            let mut runs: Vec<(String, Option<serde_json::Value>)> = Vec::new();
            for path in configs.iter().chain(&compare) {
                let (config, _) = config_file::load(path)?;
                let label = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                runs.push((label, Some(config)));
            }
            if runs.is_empty() {
                runs.push(("defaults".to_owned(), None));
            }
            let reports = runs
                .iter()
                .map(|(label, config)| simulate::run(&runtime, label, config.as_ref(), &workload))
                .collect::<Result<Vec<_>>>()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else {
                print!("{}", simulate::render(&reports));
            }
            if let Some(path) = plot {
                let title = format!(
                    "{clients} clients x {rate} request/s to {tools} tool(s) for {duration_s} s; upstream: {profile}"
                );
                std::fs::write(&path, simulate::plot(&reports, &title)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            json,
            iterations,
            runs,
            only,
            profile,
            calls,
        } => {
            let plugin_path = cli
                .component
                .clone()
                .unwrap_or_else(|| PathBuf::from(PLUGIN_WASM));
            let plugin = load_plugin(Some(&plugin_path))?;
            let floor = PluginRuntime::floor()?;
            if let (Some(backend), Some(only)) = (profile, only.as_deref()) {
                bench::profile_loop(&plugin, &floor, backend, only, calls)?;
                return Ok(ExitCode::SUCCESS);
            }
            let options = BenchOptions { iterations, runs };
            let wasm = std::fs::read(&plugin_path)
                .with_context(|| format!("cannot read {}", plugin_path.display()))?;
            let floor_wasm =
                std::fs::read(FLOOR_WASM).with_context(|| format!("cannot read {FLOOR_WASM}"))?;
            let meters = bench::FuelMeters::new(&wasm, &floor_wasm)?;
            let rows = bench::run(&plugin, &floor, &meters, options, only.as_deref())?;
            if only.is_some() {
                if json {
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                } else {
                    print!("{}", bench::render(&rows));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let report = bench::BenchReport {
                rows,
                cold_start: bench::cold_start(&wasm, runs)?,
                throughput: bench::throughput(&plugin, iterations.saturating_mul(10))?,
                execution_bounds: bench::bound_costs(&wasm, options)?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", bench::render(&report.rows));
                print!("{}", bench::render_extras(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_config(
    component: Option<&PathBuf>,
    file: &std::path::Path,
    json: bool,
) -> Result<ExitCode> {
    let (config, source) = config_file::load(file)?;
    let where_from = match &source {
        ConfigSource::Bare => String::new(),
        ConfigSource::PluginsEntry(name) => format!(" (plugin entry {name:?})"),
        ConfigSource::Manifest => " (manifest default_configs)".to_owned(),
    };
    // The verdict and the description both come from the component itself, as a gateway
    // would get them, so `--component` never mixes two versions.
    let runtime = load_plugin(component)?;
    let mut instance = runtime.instantiate(&GuestEnv::default())?;
    match instance.call(&Configure(&config.to_string()))? {
        Ok(()) => {
            let described = instance.call(&Describe)?;
            let effective: serde_json::Value = serde_json::from_str(&described)
                .with_context(|| format!("the component's description is not JSON: {described}"))?;
            println!("valid{where_from}");
            if json {
                println!("{}", serde_json::to_string_pretty(&effective)?);
            } else {
                print!("{}", config_report::render(&effective));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ConfigError::Malformed(message)) => {
            println!("invalid{where_from}");
            println!("error: {message}");
            Ok(ExitCode::from(1))
        }
        Err(ConfigError::Invalid(issues)) => {
            println!("invalid{where_from}: {} error(s)", issues.len());
            for issue in issues {
                println!("error [{}]: {}", issue.key, issue.message);
            }
            Ok(ExitCode::from(1))
        }
    }
}
