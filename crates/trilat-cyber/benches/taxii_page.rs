//! TAXII page of 1,000 objects (target p99 ≤ 50 ms), engine side: select
//! one page out of a 20,000-object collection view (version matching,
//! sorting, cursor) and write the envelope from the objects' text. The
//! node's store read and HTTP are not included.
//! Run: `cargo bench -p trilat-cyber --bench taxii_page`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trilat_cyber::taxii::{select, ObjectQuery, Record};

fn shared_data() -> std::path::PathBuf {
    std::env::var_os("TRILAT_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into())
}

fn bench_page(c: &mut Criterion) {
    let path = shared_data().join("cyber/mitre_attack/ics-attack-18.1.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    let bundle = trilat_cyber::parse_bundle(&text, |_, _| {}).unwrap();
    // 20,000 records: the ICS objects repeated under distinct ids.
    let ids: Vec<String> = (0..20_000).map(|i| format!("indicator--{i:036}")).collect();
    let records: Vec<Record<'_>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let entry = &bundle.entries[i % bundle.entries.len()];
            let common = entry.object.common();
            Record {
                id,
                type_name: common.type_name,
                version: common.modified.unwrap_or("2024-01-01T00:00:00.000Z"),
                date_added_ms: i as i64,
                object: &entry.text,
            }
        })
        .collect();
    let first = ObjectQuery::parse([("limit", "1000")]).unwrap();
    let cursor = select(&records, &first).next.unwrap();
    let second = ObjectQuery::parse([("limit", "1000"), ("next", cursor.as_str())]).unwrap();
    let mut group = c.benchmark_group("taxii_page");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("first_page_1000_of_20000", |b| {
        b.iter(|| select(&records, &first).envelope())
    });
    group.bench_function("second_page_1000_of_20000", |b| {
        b.iter(|| select(&records, &second).envelope())
    });
    group.finish();
}

criterion_group!(benches, bench_page);
criterion_main!(benches);
