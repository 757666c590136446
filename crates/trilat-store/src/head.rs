//! The heads of the change feed and the withdrawal log found by searching,
//! for a [`ReportStore`] that cannot read them at once (the default of
//! [`ReportStore::changes_head`] and [`ReportStore::withdrawals_last_seq`]).

use crate::{Cursor, ReportStore, StoreError};

/// The change feed's head, searched: a cursor of this store for a given
/// seq is written in the cursor's own form, and the head is the smallest
/// seq with nothing after it (about 2·log2(n) reads of one change).
pub(crate) fn search_changes_head<S: ReportStore + ?Sized>(
    store: &S,
) -> Result<Cursor, StoreError> {
    let first = store.changes(None, 1)?;
    if first.changes.is_empty() {
        return Ok(first.next);
    }
    let text = first.next.to_string();
    let (prefix, _) = text
        .rsplit_once('.')
        .ok_or_else(|| StoreError::BadCursor(format!("{text} has no seq")))?;
    let cursor_at = |seq: u64| Cursor::parse(&format!("{prefix}.{seq:x}"));
    let more_after = |seq: u64| -> Result<bool, StoreError> {
        Ok(!store.changes(Some(&cursor_at(seq)?), 1)?.changes.is_empty())
    };
    let head = head_by_search(more_after)?;
    cursor_at(head)
}

/// The withdrawal log's last seq (0 when empty), searched as
/// [`search_changes_head`] is.
pub(crate) fn search_withdrawals_last_seq<S: ReportStore + ?Sized>(
    store: &S,
) -> Result<u64, StoreError> {
    head_by_search(|seq| Ok(!store.withdrawals(seq, 1)?.is_empty()))
}

/// The smallest `seq` with `more_after(seq)` false, for a `more_after`
/// that is true below some head and false from it on.
fn head_by_search(
    mut more_after: impl FnMut(u64) -> Result<bool, StoreError>,
) -> Result<u64, StoreError> {
    if !more_after(0)? {
        return Ok(0);
    }
    // `more_after(low)` is true, `more_after(high)` false.
    let mut low = 0u64;
    let mut high = 1u64;
    while more_after(high)? {
        low = high;
        high = high
            .checked_mul(2)
            .ok_or_else(|| StoreError::Corrupt("the feed has no end below 2^63".into()))?;
    }
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if more_after(mid)? {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_found_for_every_feed_length() {
        for head in [0u64, 1, 2, 3, 7, 8, 9, 1000, 1023, 1024, 1025, 123_456] {
            let mut n_reads = 0;
            let found = head_by_search(|seq| {
                n_reads += 1;
                Ok(seq < head)
            })
            .unwrap();
            assert_eq!(found, head);
            assert!(n_reads <= 2 * 64, "{n_reads} reads for {head}");
        }
    }

    /// The search (what a store without its own answer uses) finds what
    /// the memory store reads at once.
    #[test]
    fn the_search_finds_the_stores_heads() {
        use crate::{AuditAction, AuditEvent, MemoryStore};
        use trilat_core::{Kind, Marking, NodeKey, Party, ReportDraft, Timestamp, Tlp, Withdrawal};
        let store = MemoryStore::new();
        let key = NodeKey::from_seed([3; 32]);
        for n in 0..=9_i64 {
            assert_eq!(
                search_changes_head(&store).unwrap(),
                store.changes_head().unwrap()
            );
            assert_eq!(
                search_withdrawals_last_seq(&store).unwrap(),
                store.withdrawals_last_seq().unwrap()
            );
            let draft = ReportDraft::new(
                Party::new("USA").unwrap(),
                Kind::new("note").unwrap(),
                Marking::new("UNCLASSIFIED", Tlp::Green, ["USA"]),
                serde_json::json!({ "text": n }),
                Timestamp::from_unix_ms(1_700_000_000_000 + n),
            );
            let report = draft.sign(&key).unwrap();
            let at = report.modified;
            store
                .put(&report, AuditEvent::new(at, "test", AuditAction::Create))
                .unwrap();
            if n % 3 == 0 {
                // Version 2 (not stored) withdraws the copies of version 1.
                let narrowed = report.next_version(at.add_ms(1)).sign(&key).unwrap();
                let withdrawal = Withdrawal::sign(&narrowed, &key).unwrap();
                store
                    .put_withdrawal(
                        &withdrawal,
                        AuditEvent::new(at, "test", AuditAction::Withdraw),
                    )
                    .unwrap();
            }
        }
        assert_eq!(store.withdrawals_last_seq().unwrap(), 4);
    }
}
