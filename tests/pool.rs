//! The instance pool under concurrent threads: each tool's state stays exact.

use retry_host::bindings::PluginContext;
use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, ToolPostInvoke};
use retry_host::pool::PluginPool;
use retry_host::{PluginRuntime, payload};
use serde_json::json;

#[test]
fn concurrent_tools_keep_exact_per_tool_state() {
    let runtime = PluginRuntime::plugin().unwrap();
    let pool = PluginPool::new(&runtime, 2, &GuestEnv::new(0, 1)).unwrap();
    pool.call(&Configure(r#"{"max_retries": 3, "jitter": false}"#))
        .unwrap()
        .unwrap();
    let tools: Vec<String> = (0..6).map(|i| format!("tool-{i}")).collect();
    assert!(
        tools.iter().any(|t| pool.shard_of(t) == 0) && tools.iter().any(|t| pool.shard_of(t) == 1)
    );
    std::thread::scope(|scope| {
        for tool in &tools {
            let pool = &pool;
            scope.spawn(move || {
                let failure = payload::tool_payload(tool, &json!({"isError": true}));
                let context = PluginContext::for_request("shared-request-id");
                for _ in 0..200 {
                    let delays: Vec<u64> = (0..4)
                        .map(|_| {
                            pool.call(&ToolPostInvoke {
                                payload: &failure,
                                context: &context,
                            })
                            .unwrap()
                            .retry_delay_ms
                        })
                        .collect();
                    assert_eq!(delays, [200, 400, 800, 0], "{tool}");
                }
            });
        }
    });
    // The statistics of both instances, merged: every tool with its own exact counts.
    let stats = pool.stats().unwrap();
    for tool in &tools {
        assert_eq!(stats[tool]["calls"], 800, "{tool}");
        assert_eq!(stats[tool]["retries_granted"], 600, "{tool}");
        assert_eq!(stats[tool]["failures"]["give_up"], 200, "{tool}");
    }
}

#[test]
fn pool_configure_reports_a_refusal() {
    let runtime = PluginRuntime::plugin().unwrap();
    let pool = PluginPool::new(&runtime, 3, &GuestEnv::new(0, 1)).unwrap();
    assert_eq!(pool.len(), 3);
    assert!(
        pool.call(&Configure(r#"{"max_retries": 99}"#))
            .unwrap()
            .is_err()
    );
}

/// A pool's state, exported and imported into a pool of another size: every tool's request
/// counters and statistics carry over, whichever instance owns it on either side.
#[test]
fn pool_state_moves_to_a_pool_of_another_size() {
    let runtime = PluginRuntime::plugin().unwrap();
    let config = Configure(r#"{"max_retries": 5, "jitter": false}"#);
    let tools: Vec<String> = (0..6).map(|i| format!("tool-{i}")).collect();
    let fail = |pool: &PluginPool, tool: &str| {
        let failure = payload::tool_payload(tool, &json!({"isError": true}));
        let context = PluginContext::for_request("r");
        pool.call(&ToolPostInvoke {
            payload: &failure,
            context: &context,
        })
        .unwrap()
        .retry_delay_ms
    };
    let before = PluginPool::new(&runtime, 3, &GuestEnv::new(0, 1)).unwrap();
    before.call(&config).unwrap().unwrap();
    for tool in &tools {
        assert_eq!((fail(&before, tool), fail(&before, tool)), (200, 400));
    }
    let snapshot = before.export_state().unwrap();
    for shards in [1, 2] {
        let after = PluginPool::new(&runtime, shards, &GuestEnv::new(0, 1)).unwrap();
        after.call(&config).unwrap().unwrap();
        assert_eq!(after.import_state(&snapshot).unwrap(), Ok(()));
        for tool in &tools {
            assert_eq!(fail(&after, tool), 800, "{tool} on {shards} instance(s)");
        }
        let stats = after.stats().unwrap();
        for tool in &tools {
            assert_eq!(stats[tool]["calls"], 3, "{tool}");
        }
        // A refusal changes nothing.
        assert!(after.import_state("not a snapshot").unwrap().is_err());
        assert!(after.import_state(r#"{"version": 99}"#).unwrap().is_err());
        assert_eq!(fail(&after, &tools[0]), 1_600);
    }
}
