//! The STIX import of the `stix_import` bench as a plain program, for
//! `valgrind --tool=callgrind` instruction counts:
//! `import_profile FILE [ROUNDS] [THREADS]` parses, validates and maps FILE
//! ROUNDS times on THREADS threads and prints objects per second.

use trilat_core::{Marking, Party, Timestamp, Tlp};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: import_profile FILE [ROUNDS] [THREADS]");
    let rounds: usize = args.next().map_or(10, |a| a.parse().expect("ROUNDS"));
    let threads: usize = args.next().map_or(1, |a| a.parse().expect("THREADS"));
    let text = std::fs::read_to_string(&path).expect("readable bundle");
    let owner = Party::new("USA").unwrap();
    let default = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
    let started = std::time::Instant::now();
    let mut objects = 0;
    for _ in 0..rounds {
        let parsed = trilat_cyber::bundle::parse_bundle_on(&text, threads, |_, _| {}).unwrap();
        let outcome = trilat_cyber::import_bundle_on(
            &parsed,
            &owner,
            &default,
            Timestamp::from_unix_ms(0),
            threads,
        );
        objects += outcome.drafts.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{objects} drafts in {secs:.3} s = {:.0} objects/s",
        objects as f64 / secs
    );
}
