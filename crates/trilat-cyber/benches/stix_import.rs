//! STIX import rate: parse + validate + map to report drafts (what `trilat
//! cyber import` does; no signing), on the MITRE ATT&CK DPRK subset and the
//! ICS bundle (target ≥ 50,000 objects/s). `parse_validate*` parse on every
//! core; `parse_validate_map_1thread` on one.
//! Run: `cargo bench -p trilat-cyber --bench stix_import`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trilat_core::{Marking, Party, Timestamp, Tlp};

fn shared_data() -> std::path::PathBuf {
    std::env::var_os("TRILAT_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into())
}

fn bench_import(c: &mut Criterion) {
    let owner = Party::new("USA").unwrap();
    let default = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
    let mut group = c.benchmark_group("stix_import");
    for name in [
        "enterprise-attack-v18_dprk-groups_subset.stix21.json",
        "ics-attack-18.1.json",
    ] {
        let path = shared_data().join("cyber/mitre_attack").join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {} is absent", path.display());
            continue;
        };
        let n_objects = trilat_cyber::parse_bundle(&text, |_, _| {})
            .unwrap()
            .entries
            .len();
        group.throughput(Throughput::Elements(n_objects as u64));
        group.bench_function(format!("parse_validate/{name}"), |b| {
            b.iter(|| trilat_cyber::parse_bundle(&text, |_, _| {}).unwrap())
        });
        group.bench_function(format!("parse_validate_map/{name}"), |b| {
            b.iter(|| {
                let parsed = trilat_cyber::parse_bundle(&text, |_, _| {}).unwrap();
                trilat_cyber::import_bundle_on(
                    &parsed,
                    &owner,
                    &default,
                    Timestamp::from_unix_ms(0),
                    1,
                )
            })
        });
        // The same on one thread: the per-core figure.
        group.bench_function(format!("parse_validate_map_1thread/{name}"), |b| {
            b.iter(|| {
                let parsed = trilat_cyber::bundle::parse_bundle_on(&text, 1, |_, _| {}).unwrap();
                trilat_cyber::import_bundle(&parsed, &owner, &default, Timestamp::from_unix_ms(0))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_import);
criterion_main!(benches);
