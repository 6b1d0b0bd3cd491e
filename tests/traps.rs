//! A guest trap fails only the call that trapped: the instance is replaced, its config
//! re-applied, and the host keeps serving. Traps are injected through the resource limits.

use host_harness::bindings::PluginContext;
use host_harness::guest_env::GuestEnv;
use host_harness::limits::{ExecutionBound, RuntimeOptions};
use host_harness::runtime::PLUGIN_WASM;
use host_harness::supervisor::SupervisedPlugin;
use host_harness::{PluginRuntime, payload};
use serde_json::json;

fn failure() -> host_harness::bindings::ToolPostInvokePayload {
    payload::tool_payload("t", &json!({"isError": true}))
}

#[test]
fn memory_limit_trap_fails_one_call_and_the_replacement_keeps_the_config() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut env = GuestEnv::new(0, 1);
    env.memory_limit_bytes = 4 << 20;
    let mut plugin = SupervisedPlugin::new(&runtime, env).unwrap();
    plugin.configure(r#"{"max_retries": 0}"#).unwrap().unwrap();
    let context = PluginContext::for_request("r");

    let huge = payload::tool_payload(
        "t",
        &json!({"content": [{"type": "text", "text": "x".repeat(8 << 20)}]}),
    );
    let err = plugin.tool_post_invoke(&huge, &context).unwrap_err();
    assert!(format!("{err:#}").contains("trapped"), "{err:#}");
    assert_eq!(plugin.replacements(), 1);

    // Served by the replacement, under the same config: max_retries 0 gives up at once.
    let answer = plugin.tool_post_invoke(&failure(), &context).unwrap();
    assert!(!answer.retry && answer.warning.is_some());
    assert_eq!(plugin.replacements(), 1);
}

#[test]
fn execution_bound_trap_fails_one_call_and_the_host_keeps_serving() {
    let starved = RuntimeOptions::default()
        .with_execution_bound(ExecutionBound::Fuel)
        .with_fuel_per_call(1_000_000);
    let runtime = PluginRuntime::load_with(PLUGIN_WASM, starved).unwrap();
    let mut plugin = SupervisedPlugin::new(&runtime, GuestEnv::new(0, 1)).unwrap();
    let context = PluginContext::for_request("r");
    // With check_text_content on, a 1 MiB JSON object in a text item must be parsed by the
    // guest: far more than a million units of fuel (a normal decision takes a few thousand).
    let object = json!({"padding": "y".repeat(1 << 20)}).to_string();
    let heavy = payload::tool_payload("t", &json!({"content": [{"type": "text", "text": object}]}));
    plugin
        .configure(r#"{"check_text_content": true}"#)
        .unwrap()
        .unwrap();
    assert!(plugin.tool_post_invoke(&heavy, &context).is_err());
    assert_eq!(plugin.replacements(), 1);
    for _ in 0..100 {
        assert!(plugin.tool_post_invoke(&failure(), &context).is_ok());
    }
    assert_eq!(plugin.replacements(), 1);
}

#[test]
fn epoch_bound_does_not_disturb_normal_calls() {
    let runtime = PluginRuntime::load_with(PLUGIN_WASM, RuntimeOptions::default()).unwrap();
    let mut plugin = SupervisedPlugin::new(&runtime, GuestEnv::new(0, 1)).unwrap();
    let context = PluginContext::for_request("r");
    for _ in 0..10_000 {
        plugin.tool_post_invoke(&failure(), &context).unwrap();
    }
    assert_eq!(plugin.replacements(), 0);
}
