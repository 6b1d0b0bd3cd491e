//! The `retry-harness` CLI's library: the conformance runner, the demo, the config checker's
//! report and the benchmarks, built on the `retry-host` library (which loads and calls the
//! component).

pub mod backend;
pub mod bench;
pub mod config_file;
pub mod config_report;
pub mod conformance;
pub mod demo;
pub mod matcher;
pub mod scenario;
pub mod simulate;
pub mod table;
pub mod yaml;
