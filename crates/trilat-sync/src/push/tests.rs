use std::sync::Arc;

use trilat_core::{Kind, Marking, NodeKey, Party, Report, ReportDraft, Timestamp, Tlp, Withdrawal};

use super::*;

fn small() -> SyncConfig {
    SyncConfig {
        push_batch_max: 2,
        push_queue_max: 4,
        backoff_ms_min: 100,
        backoff_ms_max: 1_000,
        push_attempts_max: 3,
        ..SyncConfig::default()
    }
}

fn link() -> PushLink {
    PushLink::new(Party::new("JPN").unwrap(), small(), 42)
}

fn key() -> NodeKey {
    NodeKey::from_seed([1; 32])
}

fn report(text: &str) -> Report {
    ReportDraft::new(
        Party::new("USA").unwrap(),
        Kind::new("note").unwrap(),
        Marking::new("SECRET", Tlp::Amber, ["JPN"]),
        serde_json::json!({ "text": text }),
        Timestamp::from_unix_ms(1_700_000_000_000),
    )
    .sign(&key())
    .unwrap()
}

fn next(report: &Report) -> Report {
    report
        .next_version(report.modified.add_ms(1_000))
        .sign(&key())
        .unwrap()
}

fn offer(report: &Report) -> Outgoing {
    Outgoing::Report(Arc::new(report.clone()))
}

#[track_caller]
fn send(link: &mut PushLink, now_ms: i64) -> PushBatch {
    match link.next_action(now_ms) {
        PushAction::Send(batch) => batch,
        other => panic!("expected a batch, got {other:?}"),
    }
}

#[test]
fn pushes_in_bounded_batches_in_order() {
    let mut link = link();
    assert_eq!(link.next_action(0), PushAction::Idle { until_ms: None });
    let reports: Vec<Report> = (0..3).map(|n| report(&n.to_string())).collect();
    for (seq, report) in (1..).zip(&reports) {
        link.offer(seq, offer(report));
    }
    let batch = send(&mut link, 0);
    assert_eq!(batch.seqs, vec![1, 2]);
    assert_eq!(batch.reports.len(), 2);
    // One batch in flight at a time.
    assert_eq!(link.next_action(0), PushAction::Idle { until_ms: None });
    link.push_done(1, Ok(()));
    assert_eq!(send(&mut link, 1).seqs, vec![3]);
    link.push_done(2, Ok(()));
    assert_eq!(link.stats().batches_ok, 2);
    assert_eq!(link.next_action(2), PushAction::Idle { until_ms: None });
}

#[test]
fn a_superseded_version_is_not_pushed_its_withdrawal_is() {
    let mut link = link();
    let v1 = report("v1");
    let v2 = next(&v1);
    link.offer(1, offer(&v1));
    link.offer(
        2,
        Outgoing::Withdrawal(Withdrawal::sign(&v2, &key()).unwrap()),
    );
    let batch = send(&mut link, 0);
    assert_eq!(batch.seqs, vec![1, 2]);
    assert!(batch.reports.is_empty(), "v1 alone would look current");
    assert_eq!(batch.withdrawals.len(), 1);
    assert_eq!(link.stats().superseded, 1);
}

#[test]
fn a_batch_of_only_superseded_versions_sends_nothing() {
    let mut link = PushLink::new(
        Party::new("JPN").unwrap(),
        SyncConfig {
            push_batch_max: 1,
            ..small()
        },
        1,
    );
    let v1 = report("v1");
    let v2 = next(&v1);
    link.offer(1, offer(&v1));
    link.offer(2, offer(&v2));
    let batch = send(&mut link, 0);
    assert_eq!(batch.seqs, vec![2], "seq 1 skipped, not sent empty");
    assert_eq!(batch.reports[0].version, 2);
}

#[test]
fn overflow_drops_the_queue_and_keeps_the_newest() {
    let mut link = link();
    for seq in 1..=5 {
        link.offer(seq, offer(&report(&seq.to_string())));
    }
    assert_eq!(link.queue_len(), 1);
    assert_eq!(link.stats().queue_overflows, 1);
    assert_eq!(link.stats().offers_dropped, 4);
    assert_eq!(send(&mut link, 0).seqs, vec![5]);
}

#[test]
fn a_failed_push_is_retried_with_backoff_then_given_up() {
    let mut link = link();
    for seq in 1..=3 {
        link.offer(seq, offer(&report(&seq.to_string())));
    }
    let mut now = 0;
    for attempt in 1..=3 {
        assert_eq!(send(&mut link, now).seqs, vec![1, 2], "attempt {attempt}");
        link.push_done(now, Err("connection refused".into()));
        assert_eq!(link.failures(), attempt);
        match link.next_action(now) {
            PushAction::Idle {
                until_ms: Some(until_ms),
            } if attempt < 3 => {
                assert!(until_ms > now && until_ms - now <= 1_000);
                now = until_ms;
            }
            PushAction::Idle { .. } if attempt == 3 => {}
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    // Given up: the batch and the queue are dropped; the pull brings them.
    assert_eq!(link.queue_len(), 0);
    assert_eq!(link.stats().offers_dropped, 3);
    link.offer(4, offer(&report("4")));
    let PushAction::Idle {
        until_ms: Some(until_ms),
    } = link.next_action(now)
    else {
        panic!("still backing off");
    };
    assert_eq!(send(&mut link, until_ms).seqs, vec![4]);
    link.push_done(until_ms, Ok(()));
    assert_eq!(link.failures(), 0);
}

#[test]
fn jitter_is_deterministic_per_seed() {
    let delays = |seed| {
        let mut link = PushLink::new(Party::new("KOR").unwrap(), small(), seed);
        let mut now = 0;
        (0..2)
            .map(|n| {
                link.offer(n, offer(&report(&n.to_string())));
                let _ = send(&mut link, now);
                link.push_done(now, Err("down".into()));
                let PushAction::Idle {
                    until_ms: Some(until_ms),
                } = link.next_action(now)
                else {
                    panic!("backing off");
                };
                let delay = until_ms - now;
                now = until_ms;
                delay
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(delays(1), delays(1));
    assert_ne!(delays(1), delays(2));
}
