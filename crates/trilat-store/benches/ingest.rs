//! Store throughput: batched ingest into SQLite on a temp file (and into
//! PostgreSQL in the same run, when `TRILAT_TEST_POSTGRES` names a server),
//! single `put` latency, and change-feed page reads. Reports are signed
//! before the timed part (signing is the node's cost, not the store's).
//!
//! `cargo bench -p trilat-store --bench ingest`
//!
//! With PostgreSQL (a throwaway server, as the tests use):
//! `dir=$(mktemp -d); export TRILAT_TEST_POSTGRES=$(scripts/postgres start $dir);
//! cargo bench -p trilat-store --bench ingest -- ingest_cpu; scripts/postgres stop $dir`
//! (`-- feed_and_audit` for the change-feed read and single audit appends).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use trilat_core::{Kind, Marking, NodeKey, Party, Report, ReportDraft, Timestamp, Tlp};
use trilat_store::{
    AuditAction, AuditEvent, Durability, PostgresStore, ReportStore, SqliteStore, BATCH_LEN_MAX,
    QUERY_LIMIT_MAX,
};

/// Reports per ingest iteration, put in batches of [`BATCH_LEN`].
const INGEST_REPORTS: usize = 20_000;
const BATCH_LEN: usize = 1_000;
/// Rounds of `ingest_cpu` per durability (a median needs a few).
const INGEST_CPU_ROUNDS: usize = 5;

/// `n` signed maritime-incident-like notes with a point geometry each.
fn signed_reports(n: usize) -> Vec<(Report, AuditEvent)> {
    let key = NodeKey::from_seed([42; 32]);
    let owner = Party::new("JPN-JCG").unwrap();
    let kind = Kind::new("note").unwrap();
    let t0 = 1_795_824_000_000i64;
    (0..n)
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
        .collect()
}

fn fresh_store(dir: &tempfile::TempDir, durability: Durability) -> SqliteStore {
    let path = dir.path().join(format!("bench-{}.db", rand_suffix()));
    SqliteStore::open_with(path, durability).unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn ingest(c: &mut Criterion) {
    let reports = signed_reports(INGEST_REPORTS);
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("ingest_batched");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(INGEST_REPORTS as u64));
    for (name, durability) in [
        ("full", Durability::PowerLoss),
        ("normal", Durability::ProcessCrash),
    ] {
        group.bench_function(format!("sqlite_{name}_batch{BATCH_LEN}"), |b| {
            b.iter_batched(
                || fresh_store(&dir, durability),
                |store| {
                    for batch in reports.chunks(BATCH_LEN) {
                        let outcomes = store.put_batch(batch).unwrap();
                        assert!(outcomes.iter().all(|o| o.is_ok()));
                    }
                    store
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn single_put(c: &mut Criterion) {
    let reports = signed_reports(5_000);
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("put_single");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (name, durability) in [
        ("full", Durability::PowerLoss),
        ("normal", Durability::ProcessCrash),
    ] {
        group.bench_function(format!("sqlite_{name}"), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut store = fresh_store(&dir, durability);
                for i in 0..iters as usize {
                    if i > 0 && i % reports.len() == 0 {
                        store = fresh_store(&dir, durability);
                    }
                    let (report, event) = &reports[i % reports.len()];
                    let start = Instant::now();
                    store.put(report, event.clone()).unwrap();
                    elapsed += start.elapsed();
                }
                elapsed
            });
        });
    }
    group.finish();
}

fn change_feed(c: &mut Criterion) {
    let reports = signed_reports(INGEST_REPORTS);
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(&dir, Durability::ProcessCrash);
    for batch in reports.chunks(BATCH_LEN) {
        store.put_batch(batch).unwrap();
    }
    let mut group = c.benchmark_group("changes");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(INGEST_REPORTS as u64));
    group.bench_function(format!("sqlite_pages_of_{QUERY_LIMIT_MAX}"), |b| {
        b.iter(|| {
            let mut cursor = None;
            let mut n_changes = 0;
            loop {
                let page = store.changes(cursor.as_ref(), QUERY_LIMIT_MAX).unwrap();
                n_changes += page.changes.len();
                cursor = Some(page.next);
                if !page.more {
                    break;
                }
            }
            assert_eq!(n_changes, INGEST_REPORTS);
        });
    });
    group.finish();
}

/// CPU time this thread has used, or `None` where the clock is unavailable.
/// On a shared machine the wall-clock rate depends on what else runs; the
/// CPU-time rate says what the store costs. The same clock as
/// `trilat_bench::measure::thread_cpu` (the `cpu-time` crate), which this
/// crate cannot depend on without building the node for its tests.
fn thread_cpu() -> Option<Duration> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|t| t.as_duration())
}

/// Batched ingest measured by hand: wall time and this thread's CPU time
/// for the same work (printed; criterion reports wall time only). SQLite
/// at both durabilities, then PostgreSQL (batches of 1,000 and of
/// [`BATCH_LEN_MAX`]) when a server is configured.
fn ingest_cpu(_c: &mut Criterion) {
    // Criterion's name filter does not reach a hand-made measurement: honour
    // a positional filter argument here.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "ingest_cpu".contains(f.as_str())) {
        return;
    }
    let reports = signed_reports(INGEST_REPORTS);
    let dir = tempfile::tempdir().unwrap();
    for (name, durability) in [
        ("full", Durability::PowerLoss),
        ("normal", Durability::ProcessCrash),
    ] {
        // Closing checkpoints the WAL into the database file: counted,
        // because a sustained ingest pays for checkpoints (20,000 reports
        // are about one autocheckpoint's worth of WAL).
        measure_ingest(
            &format!("sqlite_{name}_batch{BATCH_LEN}"),
            &reports,
            (BATCH_LEN, 1),
            || fresh_store(&dir, durability),
        );
    }
    let Ok(url) = std::env::var("TRILAT_TEST_POSTGRES") else {
        println!(
            "SKIP ingest_cpu/postgres: TRILAT_TEST_POSTGRES not set (see the module's comment)"
        );
        return;
    };
    let schemas = std::cell::RefCell::new(Vec::new());
    // Two writers: what a node does when several sources ingest at once
    // (one writer's encoding overlaps the other's turn at the head).
    for (batch_len, writers) in [(BATCH_LEN, 1), (BATCH_LEN_MAX, 1), (BATCH_LEN, 2)] {
        let suffix = if writers == 1 {
            String::new()
        } else {
            format!("_writers{writers}")
        };
        measure_ingest(
            &format!("postgres_batch{batch_len}{suffix}"),
            &reports,
            (batch_len, writers),
            || {
                let schema = format!("bench_{:016x}", rand::random::<u64>());
                schemas.borrow_mut().push(schema.clone());
                PostgresStore::open_in_schema(&url, &schema).unwrap()
            },
        );
    }
    drop_schemas(&url, &schemas.into_inner());
}

/// Rounds of ingest of `reports` in batches of `batch_len` by `writers`
/// threads (batch `i` by writer `i % writers`) into fresh stores from
/// `make`, the store dropped inside the timed part; prints each round and
/// the median. The CPU time is the writers' threads' together.
fn measure_ingest<S: ReportStore + Sync>(
    name: &str,
    reports: &[(Report, AuditEvent)],
    (batch_len, writers): (usize, usize),
    make: impl Fn() -> S,
) {
    let mut rates = Vec::new();
    for round in 0..INGEST_CPU_ROUNDS {
        let store = make();
        let batches: Vec<_> = reports.chunks(batch_len).collect();
        let wall_start = Instant::now();
        let cpus: Vec<Option<Duration>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..writers)
                .map(|writer| {
                    let (store, batches) = (&store, &batches);
                    scope.spawn(move || {
                        let cpu_start = thread_cpu();
                        for batch in batches.iter().skip(writer).step_by(writers) {
                            let outcomes = store.put_batch(batch).unwrap();
                            assert!(outcomes.iter().all(|o| o.is_ok()));
                        }
                        cpu_start
                            .zip(thread_cpu())
                            .map(|(start, end)| end.saturating_sub(start))
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let cpu_close_start = thread_cpu();
        drop(store);
        let wall = wall_start.elapsed().as_secs_f64();
        let cpu_close = cpu_close_start
            .zip(thread_cpu())
            .map(|(start, end)| end.saturating_sub(start));
        let cpu = cpus
            .into_iter()
            .chain([cpu_close])
            .sum::<Option<Duration>>()
            .map(|cpu| cpu.as_secs_f64());
        let n = reports.len() as f64;
        rates.push((n / wall, cpu.map(|cpu| n / cpu)));
        match cpu {
            Some(cpu) => println!(
                "ingest_cpu/{name} round {round}: {} reports, wall {wall:.3} s ({:.0} reports/s), thread CPU {cpu:.3} s ({:.0} reports per CPU-second)",
                reports.len(),
                n / wall,
                n / cpu
            ),
            None => println!(
                "ingest_cpu/{name} round {round}: wall {wall:.3} s ({:.0} reports/s), CPU time unavailable",
                n / wall
            ),
        }
    }
    // The figure the targets are stated in (reports/s wall, close
    // included), as the median of the rounds.
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let wall_median = median(rates.iter().map(|(wall, _)| *wall).collect());
    let cpu_rates: Vec<f64> = rates.iter().filter_map(|(_, cpu)| *cpu).collect();
    let cpu_median = if cpu_rates.is_empty() {
        "unavailable".to_string()
    } else {
        format!("{:.0}", median(cpu_rates))
    };
    println!(
        "ingest_cpu/{name} median of {INGEST_CPU_ROUNDS} rounds: {wall_median:.0} reports/s wall, {cpu_median} reports per CPU-second of the writer threads"
    );
}

/// Audit appends timed one by one (each its own transaction, as the node
/// records a read or a refusal).
const AUDIT_APPENDS: usize = 2_000;

/// The other two figures `docs/scale.md` builds on, by hand as
/// `ingest_cpu`, for SQLite (`FULL`) and, when a server is configured,
/// PostgreSQL: reading the whole change feed of 20,000 reports in pages of
/// [`QUERY_LIMIT_MAX`] (what a peer catching up or a TAXII client pulls),
/// and single audit appends.
fn feed_and_audit(_c: &mut Criterion) {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty()
        && !filters
            .iter()
            .any(|f| "feed_and_audit".contains(f.as_str()))
    {
        return;
    }
    let reports = signed_reports(INGEST_REPORTS);
    let dir = tempfile::tempdir().unwrap();
    measure_feed_and_audit(
        "sqlite_full",
        &reports,
        fresh_store(&dir, Durability::PowerLoss),
    );
    let Ok(url) = std::env::var("TRILAT_TEST_POSTGRES") else {
        println!("SKIP feed_and_audit/postgres: TRILAT_TEST_POSTGRES not set");
        return;
    };
    let schema = format!("bench_{:016x}", rand::random::<u64>());
    let store = PostgresStore::open_in_schema(&url, &schema).unwrap();
    measure_feed_and_audit("postgres", &reports, store);
    drop_schemas(&url, &[schema]);
}

fn measure_feed_and_audit<S: ReportStore>(name: &str, reports: &[(Report, AuditEvent)], store: S) {
    for batch in reports.chunks(BATCH_LEN) {
        store.put_batch(batch).unwrap();
    }
    for round in 0..INGEST_CPU_ROUNDS {
        let (cpu_start, wall_start) = (thread_cpu(), Instant::now());
        let mut cursor = None;
        let mut n_changes = 0;
        loop {
            let page = store.changes(cursor.as_ref(), QUERY_LIMIT_MAX).unwrap();
            n_changes += page.changes.len();
            cursor = Some(page.next);
            if !page.more {
                break;
            }
        }
        assert_eq!(n_changes, reports.len());
        print_rate(
            &format!("feed_read/{name}"),
            round,
            n_changes,
            wall_start,
            cpu_start,
            "changes",
        );
    }
    for round in 0..INGEST_CPU_ROUNDS {
        let (cpu_start, wall_start) = (thread_cpu(), Instant::now());
        for i in 0..AUDIT_APPENDS {
            let at = Timestamp::from_unix_ms(1_795_824_000_000 + i as i64);
            store
                .append_audit(AuditEvent::new(at, "api:reader", AuditAction::Read).detail("bench"))
                .unwrap();
        }
        print_rate(
            &format!("audit_append/{name}"),
            round,
            AUDIT_APPENDS,
            wall_start,
            cpu_start,
            "appends",
        );
    }
}

fn print_rate(
    what: &str,
    round: usize,
    n: usize,
    wall_start: Instant,
    cpu_start: Option<Duration>,
    unit: &str,
) {
    let wall = wall_start.elapsed().as_secs_f64();
    let cpu = cpu_start
        .zip(thread_cpu())
        .map(|(start, end)| end.saturating_sub(start).as_secs_f64());
    let per_cpu = cpu.map_or("unavailable".to_string(), |cpu| {
        format!("{:.0}", n as f64 / cpu)
    });
    println!(
        "{what} round {round}: {n} {unit}, wall {wall:.3} s ({:.0} {unit}/s), {per_cpu} {unit} per CPU-second of this thread",
        n as f64 / wall
    );
}

/// Drops the benchmark's PostgreSQL schemas.
fn drop_schemas(url: &str, schemas: &[String]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(connection);
        for schema in schemas {
            client
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .unwrap();
        }
        drop(client);
        let _ = driver.await;
    });
}

criterion_group!(
    benches,
    ingest_cpu,
    feed_and_audit,
    ingest,
    single_put,
    change_feed
);
criterion_main!(benches);
