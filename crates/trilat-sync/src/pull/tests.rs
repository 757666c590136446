use trilat_core::Party;

use super::*;
use crate::PULL_PAGES_AHEAD_MAX;

type Link = PullLink<String, String>;

fn small(pages_ahead: usize) -> SyncConfig {
    SyncConfig {
        backoff_ms_min: 100,
        backoff_ms_max: 1_000,
        pull_interval_ms: 5_000,
        pull_pages_ahead: pages_ahead,
        ..SyncConfig::default()
    }
}

fn link(pages_ahead: usize) -> Link {
    PullLink::new(Party::new("JPN").unwrap(), small(pages_ahead), 42)
}

fn head(next: &str, more: bool) -> PageHead {
    PageHead {
        next_cursor: next.into(),
        received: 3,
        more,
    }
}

#[track_caller]
fn fetch(link: &mut Link, now_ms: i64, after: Option<&str>) -> PageId {
    match link.next_action(now_ms) {
        PullAction::Fetch { page, after: asked } => {
            assert_eq!(asked.as_deref(), after);
            page
        }
        other => panic!("expected a fetch after {after:?}, got {other:?}"),
    }
}

#[track_caller]
fn judge(link: &mut Link, now_ms: i64, expect: PageId) -> String {
    match link.next_action(now_ms) {
        PullAction::Judge { page, fetched } => {
            assert_eq!(page, expect);
            fetched
        }
        other => panic!("expected a judgement, got {other:?}"),
    }
}

#[track_caller]
fn store(link: &mut Link, now_ms: i64, expect: PageId) -> String {
    match link.next_action(now_ms) {
        PullAction::Store { page, judged } => {
            assert_eq!(page, expect);
            judged
        }
        other => panic!("expected a store, got {other:?}"),
    }
}

/// One page through the three stages, the cursor moving only once stored.
#[test]
fn a_page_is_fetched_judged_then_stored_and_only_then_moves_the_cursor() {
    let mut link = link(2);
    let page = fetch(&mut link, 0, None);
    assert_eq!(link.next_action(0), PullAction::Idle { until_ms: 5_000 });
    link.fetched(1, page, Ok((head("42", false), "body".into())));
    assert_eq!(judge(&mut link, 1, page), "body");
    link.judged(2, page, Ok("verdicts".into()));
    assert_eq!(store(&mut link, 2, page), "verdicts");
    assert_eq!(link.cursor(), None, "not stored yet");
    link.stored(3, page, Ok(()));
    assert_eq!(link.cursor(), Some("42"));
    // Nothing more: the next pull after an interval, from the cursor.
    assert_eq!(link.next_action(4), PullAction::Idle { until_ms: 5_003 });
    fetch(&mut link, 5_003, Some("42"));
}

/// While the peer has more, pages are fetched and judged ahead of the one
/// being stored, at most `pull_pages_ahead`, and stored in order.
#[test]
fn pages_are_fetched_and_judged_ahead_and_stored_in_order() {
    let mut link = link(2);
    let p0 = fetch(&mut link, 0, None);
    link.fetched(0, p0, Ok((head("a", true), "0".into())));
    judge(&mut link, 0, p0);
    let p1 = fetch(&mut link, 0, Some("a"));
    link.judged(0, p0, Ok("0".into()));
    store(&mut link, 0, p0);
    link.fetched(0, p1, Ok((head("b", true), "1".into())));
    judge(&mut link, 0, p1);
    let p2 = fetch(&mut link, 0, Some("b"));
    link.fetched(0, p2, Ok((head("c", true), "2".into())));
    link.judged(0, p1, Ok("1".into()));
    // Three pages in the pipeline: no fourth fetch; page 1 waits for 0.
    assert!(matches!(link.next_action(0), PullAction::Judge { page, .. } if page == p2));
    assert!(matches!(link.next_action(0), PullAction::Idle { .. }));
    link.stored(1, p0, Ok(()));
    assert_eq!(link.cursor(), Some("a"));
    store(&mut link, 1, p1);
    let p3 = fetch(&mut link, 1, Some("c"));
    assert!(link.holds(p3));
    assert_eq!(link.stats().pages_ahead, 3);
}

/// A failed store write drops the pages judged after it; the cursor stays
/// where the failed page started, and the next pull fetches it again.
#[test]
fn a_failed_store_write_pulls_the_page_again_from_the_cursor() {
    let mut link = link(2);
    let p0 = fetch(&mut link, 0, None);
    link.fetched(0, p0, Ok((head("a", true), "0".into())));
    judge(&mut link, 0, p0);
    link.judged(0, p0, Ok("0".into()));
    store(&mut link, 0, p0);
    link.stored(0, p0, Ok(()));
    let p1 = fetch(&mut link, 0, Some("a"));
    link.fetched(0, p1, Ok((head("b", true), "1".into())));
    judge(&mut link, 0, p1);
    link.judged(0, p1, Ok("1".into()));
    store(&mut link, 0, p1);
    let p2 = fetch(&mut link, 0, Some("b"));
    link.fetched(0, p2, Ok((head("c", true), "2".into())));
    judge(&mut link, 0, p2);
    link.stored(10, p1, Err("disk full".into()));
    assert!(!link.holds(p2), "judged after a failed page: dropped");
    assert_eq!(link.cursor(), Some("a"));
    assert_eq!(link.stats().pages_dropped, 1);
    // A late outcome of the dropped page changes nothing.
    link.judged(11, p2, Ok("2".into()));
    let PullAction::Idle { until_ms } = link.next_action(11) else {
        panic!("backing off");
    };
    assert!(until_ms > 11 && until_ms <= 110);
    fetch(&mut link, until_ms, Some("a"));
}

/// Without pipelining a page is stored before the next is fetched.
#[test]
fn no_pages_ahead_takes_one_page_at_a_time() {
    let mut link = link(0);
    let p0 = fetch(&mut link, 0, None);
    link.fetched(0, p0, Ok((head("a", true), "0".into())));
    judge(&mut link, 0, p0);
    assert!(matches!(link.next_action(0), PullAction::Idle { .. }));
    link.judged(0, p0, Ok("0".into()));
    store(&mut link, 0, p0);
    assert!(matches!(link.next_action(0), PullAction::Idle { .. }));
    link.stored(0, p0, Ok(()));
    fetch(&mut link, 0, Some("a"));
}

#[test]
fn a_refused_cursor_is_reset_once_the_pipeline_is_empty() {
    let mut link = link(2);
    link.restore_cursor("c1.dead".into());
    let p0 = fetch(&mut link, 0, Some("c1.dead"));
    link.fetched(0, p0, Err(FetchError::BadCursor("400 bad_cursor".into())));
    assert_eq!(
        link.next_action(0),
        PullAction::ResetCursor {
            reason: "400 bad_cursor".into()
        }
    );
    link.reset_cursor();
    let PullAction::Idle { until_ms } = link.next_action(0) else {
        panic!("still backing off after the failure");
    };
    fetch(&mut link, until_ms, None);
}

#[test]
fn an_overlong_cursor_is_a_failed_pull() {
    let mut link = link(2);
    link.restore_cursor("5".into());
    let p0 = fetch(&mut link, 0, Some("5"));
    let long = "x".repeat(CURSOR_LEN_MAX + 1);
    link.fetched(0, p0, Ok((head(&long, false), String::new())));
    assert_eq!(link.cursor(), Some("5"));
    assert_eq!(link.stats().failures, 1);
    let mut fresh = self::link(2);
    fresh.restore_cursor("y".repeat(CURSOR_LEN_MAX + 1));
    assert_eq!(fresh.cursor(), None);
}

#[test]
fn backoff_is_capped_and_reset_by_success() {
    let mut link = link(2);
    let mut now = 0;
    for _ in 0..20 {
        let page = fetch(&mut link, now, None);
        link.fetched(now, page, Err(FetchError::Failed("timeout".into())));
        let PullAction::Idle { until_ms } = link.next_action(now) else {
            panic!("backing off");
        };
        assert!(until_ms > now && until_ms - now <= 1_000);
        now = until_ms;
    }
    assert_eq!(link.failures(), 20);
    let page = fetch(&mut link, now, None);
    link.fetched(now, page, Ok((head("7", true), String::new())));
    judge(&mut link, now, page);
    link.judged(now, page, Ok(String::new()));
    store(&mut link, now, page);
    link.stored(now, page, Ok(()));
    assert_eq!(link.failures(), 0);
    // `more`: pull again at once.
    fetch(&mut link, now, Some("7"));
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
    let deep = SyncConfig {
        pull_pages_ahead: PULL_PAGES_AHEAD_MAX + 1,
        ..SyncConfig::default()
    };
    assert_eq!(deep.validate().unwrap_err().field, "pull_pages_ahead");
    // An invalid config is clamped, never a panic.
    let link: Link = PullLink::new(Party::new("USA").unwrap(), inverted, 0);
    assert_eq!(link.config().validate(), Ok(()));
}
