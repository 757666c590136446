//! What the protocol itself costs per report, apart from HTTP and SQLite:
//! the receive rule (dominated by the Ed25519 signature check), the send
//! rule, and the link's bookkeeping per pushed sequence number.
//!
//! `cargo bench -p trilat-sync --bench sync`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use trilat_core::{
    Kind, KindRegistry, Marking, NodeKey, Party, Policy, PublicKey, ReportDraft, Timestamp, Tlp,
};
use trilat_sync::{judge_incoming, should_send, Outgoing, PushAction, PushLink, SyncConfig};

fn bench(c: &mut Criterion) {
    let usa = Party::new("USA").unwrap();
    let jpn = Party::new("JPN").unwrap();
    let key = NodeKey::from_seed([1; 32]);
    let public = key.public_key();
    let owner_keys =
        move |p: &Party| -> Option<PublicKey> { (p.as_str() == "USA").then_some(public) };
    let policy = Policy::trilateral_default();
    let kinds = KindRegistry::with_core_kinds();
    let report = ReportDraft::new(
        usa.clone(),
        Kind::new("note").unwrap(),
        Marking::new("SECRET", Tlp::Amber, ["USA", "JPN"]),
        serde_json::json!({"text": "KN-23 launch from Sunan, apogee 50 km, range 600 km"}),
        Timestamp::from_unix_ms(1_764_000_000_000),
    )
    .sign(&key)
    .unwrap();

    let mut group = c.benchmark_group("receive");
    group.throughput(Throughput::Elements(1));
    group.bench_function("judge_incoming/new", |b| {
        b.iter(|| judge_incoming(&report, &usa, &jpn, None, &policy, &kinds, &owner_keys))
    });
    group.bench_function("judge_incoming/duplicate", |b| {
        b.iter(|| {
            judge_incoming(
                &report,
                &usa,
                &jpn,
                Some(&report),
                &policy,
                &kinds,
                &owner_keys,
            )
        })
    });
    // Where the time of a new report goes.
    group.bench_function("parts/signing_bytes", |b| b.iter(|| report.signing_bytes()));
    group.bench_function("parts/verify", |b| b.iter(|| report.verify(&public)));
    group.bench_function("parts/validate", |b| {
        b.iter(|| report.validate(&policy, &kinds))
    });
    group.bench_function("should_send", |b| {
        b.iter(|| should_send(&report, &usa, &jpn, &policy))
    });
    group.finish();

    let shared = std::sync::Arc::new(report.clone());
    let mut group = c.benchmark_group("link");
    let n_seqs = 10_000u64;
    group.throughput(Throughput::Elements(n_seqs));
    group.bench_function("offer+push 10k seqs", |b| {
        b.iter_batched(
            || PushLink::new(jpn.clone(), SyncConfig::default(), 1),
            |mut link| {
                let mut pushed = 0;
                for seq in 0..n_seqs {
                    link.offer(seq, Outgoing::Report(shared.clone()));
                    if let PushAction::Send(batch) = link.next_action(1) {
                        pushed += batch.seqs.len();
                        link.push_done(1, Ok(()));
                    }
                }
                pushed
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
