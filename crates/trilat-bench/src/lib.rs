//! Trilat's benchmark harnesses, out of the `trilat` binary: the binary
//! parses the flags of `trilat bench …`, `trilat cyber bench-taxii` and
//! `trilat sanctions bench`, calls [`federation::run`], [`bus::run`], [`audit::run`], [`missile::run`],
//! [`taxii::run`] or [`sanctions::run`], and prints the [`federation::Figures`]
//! (etc.) they return.
//!
//! Every harness measures with [`measure`]: CPU clocks (thread and process,
//! from the `cpu-time` crate), resident memory, nearest-rank percentiles,
//! [`measure::Latencies`] (p50 / p99 / max) and the [`measure::Conditions`]
//! (build profile, cores, load) a figure depends on. Criterion benches in
//! the engine crates measure their own hot paths; `BENCHMARKS.md` lists
//! every bench and `docs/bench/` keeps each one's history.
//!
//! The node harnesses start real nodes in this process (loopback HTTP, a
//! SQLite store each, in a temporary directory removed afterwards); they
//! are harnesses, not an API: errors are `anyhow` and name what failed.
//!
//! What every harness does with its samples (running a harness itself
//! starts nodes and takes seconds to minutes: `trilat bench --help`):
//!
//! ```
//! use std::time::Duration;
//! use trilat_bench::measure::{self, Latencies};
//!
//! let cpu_before = measure::thread_cpu();
//! let mut samples: Vec<Duration> = (1..=200).rev().map(Duration::from_micros).collect();
//! let latencies = Latencies::of(&mut samples).unwrap();
//! assert_eq!(latencies.p50, Duration::from_micros(101)); // nearest rank: the 101st of 200
//! assert_eq!(latencies.p99, Duration::from_micros(198));
//! assert_eq!(latencies.max, Duration::from_micros(200));
//! assert!(measure::thread_cpu() >= cpu_before);
//! println!("{latencies}; {}", measure::Conditions::now());
//! ```
#![deny(missing_docs)]

pub mod audit;
pub mod bus;
pub mod federation;
pub mod measure;
pub mod missile;
mod nodes;
pub mod sanctions;
pub mod taxii;
