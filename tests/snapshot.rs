//! Replacing an instance without forgetting: an upgrade mid-outage takes the state snapshot of
//! the old instance, and a supervised instance that traps comes back with its last snapshot.
//! Either way the tool's breaker is still open after the swap.

use retry_host::bindings::{PluginContext, ToolPostInvokeResult};
use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, ExportState, ImportState, Stats, ToolPostInvoke};
use retry_host::supervisor::{SNAPSHOT_INTERVAL, SupervisedPlugin};
use retry_host::{PluginInstance, PluginRuntime, VirtualClock, payload};
use serde_json::{Value, json};

const CONFIG: &str = r#"{"default_policy": {"max_retries": 3, "jitter": false},
    "circuit_breaker": {"failure_threshold": 3, "recovery_timeout_ms": 60000}}"#;

fn call(
    plugin: &mut PluginInstance,
    tool: &str,
    request: &str,
    result: &Value,
) -> ToolPostInvokeResult {
    plugin
        .call(&ToolPostInvoke {
            payload: &payload::tool_payload(tool, result),
            context: &PluginContext::for_request(request),
        })
        .unwrap()
}

fn decision(answer: &ToolPostInvokeResult) -> String {
    answer
        .decision()
        .expect("the nested schema names its decision")
}

fn configured(runtime: &PluginRuntime, env: &GuestEnv) -> PluginInstance {
    let mut instance = runtime.instantiate(env).unwrap();
    instance.call(&Configure(CONFIG)).unwrap().unwrap();
    instance
}

#[test]
fn an_upgrade_mid_outage_keeps_the_breaker_open() {
    let runtime = PluginRuntime::plugin().unwrap();
    let clock = VirtualClock::new(0);
    let env = GuestEnv::with_clock(clock.clone(), 7);
    let outage = json!({"isError": true, "structuredContent": {"status_code": 503}});

    let mut old = configured(&runtime, &env);
    for (at, request) in [(1_000, "a"), (2_000, "b"), (3_000, "c")] {
        clock.set_ms(at);
        call(&mut old, "search", request, &outage);
    }
    clock.set_ms(4_000);
    assert_eq!(
        decision(&call(&mut old, "search", "d", &outage)),
        "circuit_open"
    );
    let state = old.call(&ExportState).unwrap();

    // The upgrade: a new instance, configured, takes the old one's state over.
    clock.set_ms(5_000);
    let mut new = configured(&runtime, &env);
    new.call(&ImportState(&state)).unwrap().unwrap();
    assert_eq!(
        decision(&call(&mut new, "search", "e", &outage)),
        "circuit_open"
    );
    let stats: Value = serde_json::from_str(&new.call(&Stats).unwrap()).unwrap();
    assert_eq!(stats["search"]["breaker_opens"], 1);
    assert_eq!(stats["search"]["calls"], 5);

    // Without the snapshot the new instance would have retried.
    let mut forgetful = configured(&runtime, &env);
    assert_eq!(
        decision(&call(&mut forgetful, "search", "e", &outage)),
        "retry"
    );

    // A foreign snapshot is refused with its reason and changes nothing.
    let refused = new
        .call(&ImportState(r#"{"version": 2}"#))
        .unwrap()
        .unwrap_err();
    assert!(refused.contains("version 2"), "{refused}");
}

#[test]
fn a_supervised_instance_comes_back_from_a_trap_with_its_last_snapshot() {
    let runtime = PluginRuntime::plugin().unwrap();
    let clock = VirtualClock::new(0);
    let mut env = GuestEnv::with_clock(clock.clone(), 7);
    env.memory_limit_bytes = 4 << 20;
    let mut plugin = SupervisedPlugin::new(&runtime, env).unwrap();
    plugin.call(&Configure(CONFIG)).unwrap().unwrap();
    let outage = json!({"isError": true});
    let answer = |plugin: &mut SupervisedPlugin, request: &str, result: &Value| {
        plugin.call(&ToolPostInvoke {
            payload: &payload::tool_payload("search", result),
            context: &PluginContext::for_request(request),
        })
    };
    // Open the breaker, then make enough calls for a snapshot to be taken.
    for index in 0..SNAPSHOT_INTERVAL {
        clock.set_ms(1_000 + u64::from(index));
        answer(&mut plugin, &format!("r{index}"), &outage).unwrap();
    }
    let huge = json!({"content": [{"type": "text", "text": "x".repeat(8 << 20)}]});
    assert!(
        answer(&mut plugin, "huge", &huge).is_err(),
        "the guest traps"
    );
    assert_eq!(plugin.replacements(), 1);
    let after = answer(&mut plugin, "next", &outage).unwrap();
    assert_eq!(decision(&after), "circuit_open");
}
