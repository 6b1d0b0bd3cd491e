//! A guest trap fails only the call that trapped: the instance is replaced, its config
//! re-applied, and the host keeps serving. Traps are injected through the resource limits.

use retry_host::bindings::PluginContext;
use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, ToolPostInvoke};
use retry_host::limits::{ExecutionBound, RuntimeOptions};
use retry_host::runtime::PLUGIN_WASM;
use retry_host::supervisor::SupervisedPlugin;
use retry_host::{PluginRuntime, payload};
use serde_json::json;

fn failure() -> retry_host::bindings::ToolPostInvokePayload {
    payload::tool_payload("t", &json!({"isError": true}))
}

#[test]
fn memory_limit_trap_fails_one_call_and_the_replacement_keeps_the_config() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut env = GuestEnv::new(0, 1);
    env.memory_limit_bytes = 4 << 20;
    let mut plugin = SupervisedPlugin::new(&runtime, env).unwrap();
    plugin
        .call(&Configure(r#"{"max_retries": 0}"#))
        .unwrap()
        .unwrap();
    let context = PluginContext::for_request("r");

    let huge = payload::tool_payload(
        "t",
        &json!({"content": [{"type": "text", "text": "x".repeat(8 << 20)}]}),
    );
    let err = plugin
        .call(&ToolPostInvoke {
            payload: &huge,
            context: &context,
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("trapped"), "{err:#}");
    assert_eq!(plugin.replacements(), 1);

    // Served by the replacement, under the same config: max_retries 0 gives up at once.
    let answer = plugin
        .call(&ToolPostInvoke {
            payload: &failure(),
            context: &context,
        })
        .unwrap();
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
        .call(&Configure(r#"{"check_text_content": true}"#))
        .unwrap()
        .unwrap();
    assert!(
        plugin
            .call(&ToolPostInvoke {
                payload: &heavy,
                context: &context
            })
            .is_err()
    );
    assert_eq!(plugin.replacements(), 1);
    for _ in 0..100 {
        assert!(
            plugin
                .call(&ToolPostInvoke {
                    payload: &failure(),
                    context: &context
                })
                .is_ok()
        );
    }
    assert_eq!(plugin.replacements(), 1);
}

#[test]
fn epoch_bound_does_not_disturb_normal_calls() {
    let runtime = PluginRuntime::load_with(PLUGIN_WASM, RuntimeOptions::default()).unwrap();
    let mut plugin = SupervisedPlugin::new(&runtime, GuestEnv::new(0, 1)).unwrap();
    let context = PluginContext::for_request("r");
    for _ in 0..10_000 {
        plugin
            .call(&ToolPostInvoke {
                payload: &failure(),
                context: &context,
            })
            .unwrap();
    }
    assert_eq!(plugin.replacements(), 0);
}
