//! A small, repeatable ingest for instruction-count profiles (the same
//! reports as `benches/ingest.rs`). Signing happens before `put_batch`;
//! count only the store with
//!
//! ```text
//! valgrind --tool=callgrind --collect-atstart=no \
//!   --toggle-collect='*put_batch*' target/release/examples/ingest_profile 5000 normal
//! ```
//!
//! or natively, attaching once the reports are signed:
//!
//! ```text
//! INGEST_PROFILE_PAUSE_MS=1000 target/release/examples/ingest_profile 40000 full &
//! # when it prints "signed …":  perf record -g -p $! -o perf.data
//! ```

use trilat_core::{Kind, Marking, NodeKey, Party, ReportDraft, Timestamp, Tlp};
use trilat_store::{AuditAction, AuditEvent, Durability, ReportStore, SqliteStore};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(5_000, |a| a.parse().expect("report count"));
    let durability = match args.next().as_deref() {
        Some("full") | None => Durability::PowerLoss,
        Some("normal") => Durability::ProcessCrash,
        Some(other) => panic!("durability is full or normal, not {other}"),
    };
    let key = NodeKey::from_seed([42; 32]);
    let owner = Party::new("JPN-JCG").unwrap();
    let kind = Kind::new("note").unwrap();
    let t0 = 1_795_824_000_000i64;
    let reports: Vec<_> = (0..n)
        .map(|i| {
            let now = Timestamp::from_unix_ms(t0 + i as i64);
            let mut draft = ReportDraft::new(
                owner.clone(),
                kind.clone(),
                Marking::new("CONFIDENTIAL", Tlp::Amber, ["TRILAT"]),
                serde_json::json!({"text": format!("vessel MMSI 4450{i:05} loitering near 38.{i}N 124.{i}E, AIS dark for 6 h; ship-to-ship transfer suspected")}),
                now,
            );
            draft.geometry = Some(serde_json::json!({
                "type": "Point",
                "coordinates": [124.0 + (i % 100) as f64 * 0.01, 37.0 + (i % 97) as f64 * 0.01]
            }));
            let report = draft.sign(&key).unwrap();
            let event = AuditEvent::new(now, "peer:JPN", AuditAction::Receive)
                .report(report.key())
                .counterparty(owner.clone());
            (report, event)
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("trilat-ingest-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open_with(dir.join("store.db"), durability).unwrap();
    // For `perf record -p`: attach once this line appears.
    eprintln!("signed {n} reports; ingesting");
    if let Ok(pause_ms) = std::env::var("INGEST_PROFILE_PAUSE_MS") {
        let pause_ms: u64 = pause_ms
            .parse()
            .expect("INGEST_PROFILE_PAUSE_MS is milliseconds");
        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
    }
    let start = std::time::Instant::now();
    for batch in reports.chunks(1_000) {
        let outcomes = store.put_batch(batch).unwrap();
        assert!(outcomes.iter().all(|o| o.is_ok()));
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "{n} reports in {wall:.3} s ({:.0} reports/s)",
        n as f64 / wall
    );
    drop(store);
    // INGEST_PROFILE_KEEP=1 keeps the database for a look at its tables.
    if std::env::var_os("INGEST_PROFILE_KEEP").is_some() {
        eprintln!("kept {}", dir.join("store.db").display());
    } else {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
