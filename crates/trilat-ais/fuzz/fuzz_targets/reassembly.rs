//! A sequence of lines (the input split at `\n`) through one decoder and the
//! tracker behind it, as a feed would drive them. No panic; the counts add
//! up; pending groups stay within their bound whatever the fragments do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trilat_ais::analyser::Analyser;
use trilat_ais::decoder::PENDING_GROUPS_MAX;
use trilat_ais::track::{Config, Tracker};

fuzz_target!(|input: &[u8]| {
    let config = Config {
        vessels_max: 16,
        ..Config::default()
    };
    let mut analyser = Analyser::new(Tracker::new(config));
    let mut events = Vec::new();
    let mut n_lines = 0u64;
    for line in input.split(|&b| b == b'\n') {
        n_lines += 1;
        let _ = analyser.feed_line(line, Some(1_767_225_600_000), &mut events);
    }
    analyser.finish(&mut events);
    let stats = analyser.decode_stats();
    assert_eq!(stats.lines, n_lines);
    assert!(stats.messages <= stats.sentences);
    assert!(stats.sentences + stats.other_nmea + stats.blank + stats.errors >= stats.lines);
    assert!(analyser.tracker().vessel_count() <= 16);
    assert!(analyser.pending_groups() <= PENDING_GROUPS_MAX);
});
