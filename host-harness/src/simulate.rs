//! `retry-harness simulate`: what a retry policy does to an upstream, before production shows it.
//!
//! N clients each send requests to one of K tools at a fixed rate, for a while; the upstream answers
//! by a failure profile (an outage window, a flaky rate, or a rate limit that says
//! `Retry-After`). Every answer goes through the real component, in virtual time with seeded
//! random: when it says retry, the retry is scheduled after the delay it asked for, as a gateway
//! would sleep. The report counts the calls offered against the calls made (the load
//! amplification), the requests that succeeded, the latency retries added, the refusals by
//! decision and the breaker's opens, and keeps a per-second timeline for the plot.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use retry_engine::{Rng, SplitMix64};
use retry_host::bindings::ConfigError;
use retry_host::guest_env::{DEFAULT_START_WALL_MS, GuestEnv, VirtualClock};
use retry_host::hook::{Configure, Stats, ToolPostInvoke};
use retry_host::{PluginRuntime, payload};

/// How the upstream fails.
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// Every call fails with 503 between `start_s` and `end_s` (seconds from the start).
    Outage {
        /// When the outage begins, in s.
        start_s: f64,
        /// When it ends, in s.
        end_s: f64,
    },
    /// Each call fails with 503 with probability `rate`.
    Flaky {
        /// The failure probability, in [0, 1].
        rate: f64,
    },
    /// Past `rps` calls in a second, calls fail with 429 and `Retry-After: 1`.
    RateLimited {
        /// Calls per second the upstream accepts.
        rps: u32,
    },
    /// Phases read from a YAML file, each lasting until its `until_s`.
    Phases {
        /// The file they came from.
        file: String,
        /// The phases, in order.
        phases: Vec<Phase>,
    },
}

/// One phase of a `phases` profile: until `until_s`, calls fail with 503 with probability
/// `failure_rate` and, past `rate_limit_rps` calls a second, with 429 and `Retry-After: 1`.
/// After the last phase the upstream is healthy.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// When the phase ends, in s from the start.
    pub until_s: f64,
    /// The probability that a call fails with 503 (default 0).
    #[serde(default)]
    pub failure_rate: f64,
    /// Calls per second accepted (default: no limit).
    #[serde(default)]
    pub rate_limit_rps: Option<u32>,
}

/// The file of phases: `phases: [{until_s, failure_rate, rate_limit_rps}, ...]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseFile {
    phases: Vec<Phase>,
}

impl std::str::FromStr for Profile {
    type Err = String;

    /// `outage:START-END` (seconds), `flaky:RATE`, `rate-limited:RPS`, or a YAML file of
    /// phases (a path ending in `.yaml` or `.yml`).
    fn from_str(text: &str) -> Result<Self, String> {
        let rule = "a profile is outage:START-END (seconds), flaky:RATE, rate-limited:RPS or a FILE.yaml of phases";
        if text.ends_with(".yaml") || text.ends_with(".yml") {
            let source = std::fs::read_to_string(text).map_err(|err| format!("{text}: {err}"))?;
            let file: PhaseFile =
                serde_yaml_ng::from_str(&source).map_err(|err| format!("{text}: {err}"))?;
            if file
                .phases
                .iter()
                .any(|phase| !(0.0..=1.0).contains(&phase.failure_rate))
            {
                return Err(format!("{text}: a failure_rate is within 0..=1"));
            }
            return Ok(Self::Phases {
                file: text.to_owned(),
                phases: file.phases,
            });
        }
        let (kind, argument) = text.split_once(':').ok_or_else(|| rule.to_owned())?;
        let number = |value: &str| value.trim().parse::<f64>().map_err(|_| rule.to_owned());
        match kind {
            "outage" => {
                let (start, end) = argument.split_once('-').ok_or_else(|| rule.to_owned())?;
                let (start_s, end_s) = (number(start)?, number(end)?);
                if !(0.0 <= start_s && start_s <= end_s) {
                    return Err(format!("{rule}; the outage must start before it ends"));
                }
                Ok(Self::Outage { start_s, end_s })
            }
            "flaky" => {
                let rate = number(argument)?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("{rule}; the rate is within 0..=1"));
                }
                Ok(Self::Flaky { rate })
            }
            "rate-limited" => {
                let rps = argument.trim().parse().map_err(|_| rule.to_owned())?;
                Ok(Self::RateLimited { rps })
            }
            _ => Err(rule.to_owned()),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Outage { start_s, end_s } => write!(f, "outage from {start_s} s to {end_s} s"),
            Self::Flaky { rate } => write!(f, "flaky, {:.0}% of calls failing", rate * 100.0),
            Self::RateLimited { rps } => write!(f, "rate-limited to {rps} calls/s"),
            Self::Phases { file, phases } => write!(f, "{} phases from {file}", phases.len()),
        }
    }
}

/// The synthetic workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Clients sending requests.
    pub clients: u32,
    /// Tools the clients call (client `i` calls tool `i mod tools`).
    pub tools: u32,
    /// Requests per second per client.
    pub rate: f64,
    /// How long clients send new requests, in s (retries may run past it).
    pub duration_s: f64,
    /// How the upstream fails.
    pub profile: Profile,
    /// The seed of the component's random source and of the workload's.
    pub seed: u64,
}

/// One second of the timeline.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Second {
    /// First attempts sent to the upstream.
    pub first_attempts: u64,
    /// Retries sent to the upstream.
    pub retries: u64,
    /// Calls the upstream failed.
    pub failures: u64,
    /// The breaker of the tool called last in the second (`closed`, `open`, `half_open`),
    /// when the config reports it.
    pub breaker: Option<String>,
}

/// What one config did to the workload.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The config's label (its file name, or `defaults`).
    pub label: String,
    /// Requests the clients sent (first attempts).
    pub calls_offered: u64,
    /// Calls the upstream received, retries included.
    pub calls_made: u64,
    /// `calls_made / calls_offered`.
    pub amplification: f64,
    /// Requests that ended in a success.
    pub succeeded: u64,
    /// Requests that ended in a failure the plugin did not retry.
    pub failed: u64,
    /// `succeeded / (succeeded + failed)`.
    pub success_rate: f64,
    /// Latency retries added to the successful requests: median, in ms.
    pub added_latency_p50_ms: u64,
    /// The same, 99th percentile.
    pub added_latency_p99_ms: u64,
    /// Failures not retried, by decision.
    pub refused: BTreeMap<String, u64>,
    /// Times a breaker opened.
    pub breaker_opens: u64,
    /// Per second: first attempts, retries and failures.
    pub timeline: Vec<Second>,
}

/// A call due at `at_ms`: request `request` to tool number `tool`, first sent at `first_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at_ms: u64,
    request: u64,
    tool: u32,
    first_ms: u64,
    retry: bool,
}

/// The name of tool number `index`.
fn tool_name(index: u32) -> String {
    format!("upstream_api_{index}")
}

/// Runs `workload` against the component configured with `config` (`None`: its defaults).
///
/// # Errors
/// A config the component refuses, or a trap.
pub fn run(
    runtime: &PluginRuntime,
    label: &str,
    config: Option<&Value>,
    workload: &Workload,
) -> Result<Report> {
    let clock = VirtualClock::new(DEFAULT_START_WALL_MS);
    let mut instance = runtime.instantiate(&GuestEnv::with_clock(clock.clone(), workload.seed))?;
    if let Some(config) = config {
        instance
            .call(&Configure(&config.to_string()))?
            .map_err(|err: ConfigError| anyhow::anyhow!("{label}: {}", err.text()))?;
    }
    let mut random = SplitMix64::new(workload.seed);
    let mut queue = BinaryHeap::new();
    let interval_ms = (1000.0 / workload.rate.max(0.001)).max(1.0);
    let end_ms = (workload.duration_s * 1000.0) as u64;
    let mut request = 0;
    let tools = workload.tools.max(1);
    for client in 0..workload.clients {
        // Each client starts at a random phase of its interval, so calls do not arrive in lockstep.
        let mut at = random.next_f64() * interval_ms;
        while (at as u64) < end_ms {
            request += 1;
            let at_ms = at as u64;
            queue.push(Reverse(Due {
                at_ms,
                request,
                tool: client % tools,
                first_ms: at_ms,
                retry: false,
            }));
            at += interval_ms;
        }
    }
    let calls_offered = request;
    let mut report = Report {
        label: label.to_owned(),
        calls_offered,
        calls_made: 0,
        amplification: 0.0,
        succeeded: 0,
        failed: 0,
        success_rate: 0.0,
        added_latency_p50_ms: 0,
        added_latency_p99_ms: 0,
        refused: BTreeMap::new(),
        breaker_opens: 0,
        timeline: Vec::new(),
    };
    let mut latencies = Vec::new();
    let mut calls_this_second = (u64::MAX, 0u32);
    while let Some(Reverse(due)) = queue.pop() {
        clock.set_ms(due.at_ms);
        let second = (due.at_ms / 1000) as usize;
        if report.timeline.len() <= second {
            report.timeline.resize(second + 1, Second::default());
        }
        if calls_this_second.0 != due.at_ms / 1000 {
            calls_this_second = (due.at_ms / 1000, 0);
        }
        calls_this_second.1 += 1;
        let result = upstream(
            &workload.profile,
            due.at_ms,
            calls_this_second.1,
            &mut random,
        );
        let failed = result.get("isError") == Some(&Value::Bool(true));
        let slot = &mut report.timeline[second];
        if due.retry {
            slot.retries += 1;
        } else {
            slot.first_attempts += 1;
        }
        slot.failures += u64::from(failed);
        report.calls_made += 1;
        let answer = instance.call(&ToolPostInvoke {
            payload: &payload::tool_payload(&tool_name(due.tool), &result),
            context: &payload::context(&format!("req-{}", due.request), None, None),
        })?;
        let metadata: Value = serde_json::from_str(&answer.metadata).unwrap_or(Value::Null);
        let verdict = &metadata["retry_with_backoff"];
        if let Some(state) = verdict["circuit_breaker"]["state"].as_str() {
            report.timeline[second].breaker = Some(state.to_owned());
        }
        if answer.retry {
            queue.push(Reverse(Due {
                at_ms: due.at_ms + answer.retry_delay_ms,
                retry: true,
                ..due
            }));
        } else if failed {
            report.failed += 1;
            let decision = verdict["decision"].as_str().unwrap_or("give_up").to_owned();
            *report.refused.entry(decision).or_default() += 1;
        } else {
            report.succeeded += 1;
            latencies.push(due.at_ms - due.first_ms);
        }
    }
    report.amplification = report.calls_made as f64 / calls_offered.max(1) as f64;
    report.success_rate =
        report.succeeded as f64 / (report.succeeded + report.failed).max(1) as f64;
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round().max(0.0) as usize)
            .copied()
            .unwrap_or(0)
    };
    report.added_latency_p50_ms = percentile(0.5);
    report.added_latency_p99_ms = percentile(0.99);
    let stats: Value = serde_json::from_str(&instance.call(&Stats)?)?;
    report.breaker_opens = stats
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, counts)| counts["breaker_opens"].as_u64())
        .sum();
    Ok(report)
}

/// The upstream's answer at `at_ms`, the `nth` call of its second.
fn upstream(profile: &Profile, at_ms: u64, nth: u32, random: &mut SplitMix64) -> Value {
    let unavailable = || json!({"isError": true, "structuredContent": {"status_code": 503}});
    let limited = || {
        json!({"isError": true, "structuredContent":
            {"status_code": 429, "headers": {"Retry-After": "1"}}})
    };
    match *profile {
        Profile::Outage { start_s, end_s } => {
            let at_s = at_ms as f64 / 1000.0;
            if (start_s..end_s).contains(&at_s) {
                return unavailable();
            }
        }
        Profile::Flaky { rate } => {
            if random.next_f64() < rate {
                return unavailable();
            }
        }
        Profile::RateLimited { rps } => {
            if nth > rps {
                return limited();
            }
        }
        Profile::Phases { ref phases, .. } => {
            let at_s = at_ms as f64 / 1000.0;
            if let Some(phase) = phases.iter().find(|phase| at_s < phase.until_s) {
                if phase.rate_limit_rps.is_some_and(|rps| nth > rps) {
                    return limited();
                }
                if random.next_f64() < phase.failure_rate {
                    return unavailable();
                }
            }
        }
    }
    json!({"content": [{"type": "text", "text": "ok"}]})
}

/// The reports as text: one block per config.
pub fn render(reports: &[Report]) -> String {
    let mut out = String::new();
    for report in reports {
        let refused: Vec<String> = report
            .refused
            .iter()
            .map(|(decision, count)| format!("{decision} {count}"))
            .collect();
        out.push_str(&format!(
            "{}: offered {} calls, made {} ({:.2}x); succeeded {} ({:.1}%), failed {}; added latency p50 {} ms, p99 {} ms; refused: {}; breaker opens {}\n",
            report.label,
            report.calls_offered,
            report.calls_made,
            report.amplification,
            report.succeeded,
            report.success_rate * 100.0,
            report.failed,
            report.added_latency_p50_ms,
            report.added_latency_p99_ms,
            if refused.is_empty() { "none".to_owned() } else { refused.join(", ") },
            report.breaker_opens
        ));
    }
    out
}

/// An SVG of the reports' timelines: per config, one panel of upstream calls per second,
/// first attempts and retries stacked, with the failure rate as a line.
///
/// # Errors
/// No report to draw.
pub fn plot(reports: &[Report], title: &str) -> Result<String> {
    if reports.is_empty() {
        bail!("nothing to plot");
    }
    const WIDTH: f64 = 860.0;
    const PANEL: f64 = 200.0;
    const LEFT: f64 = 60.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 40.0;
    let seconds = reports
        .iter()
        .map(|r| r.timeline.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let peak = reports
        .iter()
        .flat_map(|r| &r.timeline)
        .map(|s| s.first_attempts + s.retries)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let height = TOP + PANEL * reports.len() as f64 + 30.0;
    let x = |second: usize| LEFT + (WIDTH - LEFT - RIGHT) * second as f64 / seconds as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="20" font-size="14">{}</text>"#,
        escape(title)
    );
    for (index, report) in reports.iter().enumerate() {
        let top = TOP + PANEL * index as f64;
        let bottom = top + PANEL - 40.0;
        let y = |value: f64| bottom - (bottom - top - 20.0) * value / peak;
        let bar = ((WIDTH - LEFT - RIGHT) / seconds as f64).max(1.0);
        svg.push_str(&format!(
            r#"<text x="{LEFT}" y="{}">{} ({:.2}x calls, {:.1}% succeeded)</text><line x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="black"/><text x="5" y="{}">{peak:.0}/s</text>"#,
            top + 12.0,
            escape(&report.label),
            report.amplification,
            report.success_rate * 100.0,
            WIDTH - RIGHT,
            top + 26.0
        ));
        let mut failure_points = Vec::new();
        for (second, slot) in report.timeline.iter().enumerate() {
            let first = slot.first_attempts as f64;
            let all = first + slot.retries as f64;
            svg.push_str(&format!(
                r##"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#4e79a7"/><rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#f28e2b"/>"##,
                x(second),
                y(first),
                bottom - y(first),
                x(second),
                y(all),
                y(first) - y(all)
            ));
            let rate = if all > 0.0 {
                slot.failures as f64 / all
            } else {
                0.0
            };
            failure_points.push(format!(
                "{:.1},{:.1}",
                x(second) + bar / 2.0,
                bottom - (bottom - top - 20.0) * rate
            ));
        }
        svg.push_str(&format!(
            r##"<polyline points="{}" fill="none" stroke="#e15759" stroke-width="1.5"/>"##,
            failure_points.join(" ")
        ));
        // The breaker's state as a band under the axis: open red, half-open amber.
        let mut state = None;
        for (second, slot) in report.timeline.iter().enumerate() {
            state = slot.breaker.as_deref().or(state);
            let colour = match state {
                Some("open") => "#e15759",
                Some("half_open") => "#edc948",
                Some(_) => "#d9d9d9",
                None => continue,
            };
            svg.push_str(&format!(
                r#"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="6" fill="{colour}"/>"#,
                x(second),
                bottom + 2.0
            ));
        }
        svg.push_str(&format!(
            r#"<text x="{}" y="{}" text-anchor="end">{seconds} s</text>"#,
            WIDTH - RIGHT,
            bottom + 14.0
        ));
    }
    let legend = height - 10.0;
    svg.push_str(&format!(
        r##"<rect x="{LEFT}" y="{}" width="10" height="10" fill="#4e79a7"/><text x="{}" y="{legend}">first attempts per second</text><rect x="{}" y="{}" width="10" height="10" fill="#f28e2b"/><text x="{}" y="{legend}">retries per second</text><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e15759" stroke-width="1.5"/><text x="{}" y="{legend}">failure rate (panel height = 100%); band under each panel: breaker open (red), half-open (amber)</text></svg>"##,
        legend - 9.0,
        LEFT + 14.0,
        LEFT + 200.0,
        legend - 9.0,
        LEFT + 214.0,
        LEFT + 360.0,
        legend - 4.0,
        LEFT + 380.0,
        legend - 4.0,
        LEFT + 386.0
    ));
    Ok(svg)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_refuse_nonsense() {
        assert_eq!(
            "outage:10-20".parse(),
            Ok(Profile::Outage {
                start_s: 10.0,
                end_s: 20.0
            })
        );
        assert_eq!("flaky:0.2".parse(), Ok(Profile::Flaky { rate: 0.2 }));
        assert_eq!(
            "rate-limited:50".parse(),
            Ok(Profile::RateLimited { rps: 50 })
        );
        for bad in [
            "outage:20-10",
            "flaky:2",
            "storm:1",
            "outage",
            "missing.yaml",
        ] {
            assert!(bad.parse::<Profile>().is_err(), "{bad}");
        }
    }
}
