//! State stays bounded whatever the traffic: a million distinct requests that each fail once
//! leave the component's linear memory where it was once the request cap was reached.

use retry_host::bindings::PluginContext;
use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, ToolPostInvoke};
use retry_host::{PluginRuntime, payload};
use serde_json::json;

const CAP: usize = 10_000;
const REQUESTS: usize = 1_000_000;

#[test]
fn a_million_requests_that_fail_once_do_not_grow_memory_past_the_cap() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = runtime.instantiate(&GuestEnv::new(0, 1)).unwrap();
    let config = json!({"max_retries": 3, "max_tracked_requests": CAP});
    plugin
        .call(&Configure(&config.to_string()))
        .unwrap()
        .unwrap();
    let failure = payload::tool_payload("web_scraper", &json!({"isError": true}));
    let mut context = PluginContext::for_request("");
    let mut call = |plugin: &mut retry_host::PluginInstance, index: usize| {
        context.request_id = format!("request-{index:07}");
        let answer = plugin
            .call(&ToolPostInvoke {
                payload: &failure,
                context: &context,
            })
            .unwrap();
        assert!(answer.retry, "a first failure is always retried");
    };

    let before = plugin.memory_bytes();
    for index in 0..CAP {
        call(&mut plugin, index);
    }
    let at_cap = plugin.memory_bytes();
    // Churn a while past the cap so the allocator reaches its steady state.
    for index in CAP..5 * CAP {
        call(&mut plugin, index);
    }
    let settled = plugin.memory_bytes();
    for index in 5 * CAP..REQUESTS {
        call(&mut plugin, index);
    }
    let after = plugin.memory_bytes();
    eprintln!(
        "linear memory: {before} B before, {at_cap} B at the cap ({} B per tracked entry), \
         {settled} B after {} requests, {after} B after {REQUESTS}",
        (at_cap - before) / CAP,
        5 * CAP
    );
    assert_eq!(after, settled, "memory grew after the cap was reached");
}
