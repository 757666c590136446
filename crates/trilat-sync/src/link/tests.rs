use super::*;

fn link(config: SyncConfig) -> PeerLink {
    PeerLink::new(Party::new("JPN").unwrap(), config, 42)
}

fn small() -> SyncConfig {
    SyncConfig {
        push_batch_max: 2,
        push_queue_max: 4,
        pull_page_max: 10,
        backoff_ms_min: 100,
        backoff_ms_max: 1_000,
        pull_interval_ms: 5_000,
        push_attempts_max: 3,
    }
}

fn page(cursor: &str, more: bool) -> Result<PullResult, String> {
    Ok(PullResult {
        next_cursor: cursor.into(),
        received: 1,
        more,
    })
}

#[test]
fn contract_example() {
    let mut link = link(SyncConfig::default());
    assert_eq!(link.next_action(0), Action::Pull { cursor: None });
    link.pull_done(5, page("42", false));
    link.offer(17);
    assert_eq!(link.next_action(6), Action::Push(vec![17]));
    link.push_done(9, Ok(()));
    assert_eq!(link.next_action(10), Action::Idle { until_ms: 5_005 });
    assert_eq!(link.cursor(), Some("42"));
    assert_eq!(
        link.next_action(5_005),
        Action::Pull {
            cursor: Some("42".into())
        }
    );
}

#[test]
fn pushes_in_bounded_batches_in_order() {
    let mut link = link(small());
    assert!(matches!(link.next_action(0), Action::Pull { .. }));
    for seq in [1, 2, 3] {
        link.offer(seq);
    }
    assert_eq!(link.next_action(0), Action::Push(vec![1, 2]));
    // One push in flight at a time; the pull is in flight too.
    assert!(matches!(link.next_action(0), Action::Idle { .. }));
    link.push_done(1, Ok(()));
    assert_eq!(link.next_action(1), Action::Push(vec![3]));
}

#[test]
fn overflow_drops_the_queue_and_keeps_the_newest() {
    let mut link = link(small());
    for seq in 1..=5 {
        link.offer(seq);
    }
    assert_eq!(link.push_queue_len(), 1);
    assert_eq!(link.stats().push_queue_overflows, 1);
    assert_eq!(link.stats().push_seqs_dropped, 4);
    assert_eq!(link.next_action(0), Action::Push(vec![5]));
}

#[test]
fn failed_push_requeues_then_gives_up() {
    let mut link = link(small());
    link.pull_done_for_test();
    link.offer(1);
    link.offer(2);
    link.offer(3);
    let mut now = 0;
    for attempt in 1..=3 {
        assert_eq!(
            link.next_action(now),
            Action::Push(vec![1, 2]),
            "attempt {attempt}"
        );
        link.push_done(now, Err("connection refused".into()));
        assert_eq!(link.failures(), attempt);
        let Action::Idle { until_ms } = link.next_action(now) else {
            panic!("backing off");
        };
        let delay = until_ms - now;
        let base = (100 << (attempt - 1)).min(1_000);
        assert!(
            delay >= base / 2 && delay <= base,
            "delay {delay}, base {base}"
        );
        now = until_ms;
    }
    // push_attempts_max reached: batch and queue dropped; the peer's pull covers them.
    assert_eq!(link.push_queue_len(), 0);
    assert_eq!(link.stats().push_seqs_dropped, 3);
    link.push_done_is_not_pending();
}

#[test]
fn backoff_is_capped_and_reset_by_success() {
    let mut link = link(small());
    let mut now = 0;
    for _ in 0..20 {
        let action = link.next_action(now);
        assert!(matches!(action, Action::Pull { .. }), "{action:?}");
        link.pull_done(now, Err("timeout".into()));
        let Action::Idle { until_ms } = link.next_action(now) else {
            panic!("backing off");
        };
        assert!(until_ms - now <= 1_000);
        now = until_ms;
    }
    assert_eq!(link.stats().pull_failures, 20);
    assert!(matches!(
        link.next_action(now),
        Action::Pull { cursor: None }
    ));
    link.pull_done(now, page("7", true));
    assert_eq!(link.failures(), 0);
    // `more`: pull again at once.
    assert_eq!(
        link.next_action(now),
        Action::Pull {
            cursor: Some("7".into())
        }
    );
}

#[test]
fn overlong_cursor_is_a_failed_pull() {
    let mut link = link(small());
    link.restore_cursor("5".into());
    assert_eq!(
        link.next_action(0),
        Action::Pull {
            cursor: Some("5".into())
        }
    );
    link.pull_done(0, page(&"x".repeat(CURSOR_LEN_MAX + 1), false));
    assert_eq!(link.cursor(), Some("5"));
    assert_eq!(link.stats().pull_failures, 1);
    link.restore_cursor("y".repeat(CURSOR_LEN_MAX + 1));
    assert_eq!(link.cursor(), Some("5"));
}

#[test]
fn reset_cursor_restarts_from_the_beginning() {
    let mut link = link(small());
    link.restore_cursor("c1.dead".into());
    assert!(matches!(
        link.next_action(0),
        Action::Pull { cursor: Some(_) }
    ));
    link.pull_done(0, Err("400 bad_cursor".into()));
    link.reset_cursor();
    let Action::Idle { until_ms } = link.next_action(0) else {
        panic!("still backing off after the failure");
    };
    assert_eq!(link.next_action(until_ms), Action::Pull { cursor: None });
}

#[test]
fn jitter_is_deterministic_per_seed() {
    let delays = |seed| {
        let mut link = PeerLink::new(Party::new("KOR").unwrap(), small(), seed);
        let mut now = 0;
        (0..6)
            .map(|_| {
                assert!(matches!(link.next_action(now), Action::Pull { .. }));
                link.pull_done(now, Err("down".into()));
                match link.next_action(now) {
                    Action::Idle { until_ms } => {
                        let delay = until_ms - now;
                        now = until_ms;
                        delay
                    }
                    other => panic!("{other:?}"),
                }
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(delays(1), delays(1));
    assert_ne!(delays(1), delays(2));
}

#[test]
fn config_validation() {
    assert_eq!(SyncConfig::default().validate(), Ok(()));
    let bad = SyncConfig {
        push_batch_max: 0,
        ..SyncConfig::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "push_batch_max");
    let inverted = SyncConfig {
        backoff_ms_min: 10,
        backoff_ms_max: 5,
        ..SyncConfig::default()
    };
    assert_eq!(inverted.validate().unwrap_err().field, "backoff_ms_max");
    // An invalid config is clamped, never a panic.
    let link = PeerLink::new(Party::new("USA").unwrap(), inverted, 0);
    assert_eq!(link.config().validate(), Ok(()));
}

impl PeerLink {
    /// Completes the initial pull so the tests below start from a quiet link.
    fn pull_done_for_test(&mut self) {
        assert!(matches!(self.next_action(0), Action::Pull { .. }));
        self.pull_done(0, page("0", false));
    }

    fn push_done_is_not_pending(&self) {
        assert!(self.push_in_flight.is_none());
    }
}
