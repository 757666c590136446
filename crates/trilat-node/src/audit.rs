//! How the node records that many report versions left it at once (a page
//! of reports, of the change feed, of a TAXII collection, a peer's pull or
//! a push) within the store's bounded audit detail
//! ([`trilat_store::AUDIT_DETAIL_LEN_MAX`]).
//!
//! One release becomes one or more entries ("parts"), written in one
//! transaction ([`crate::AppState::audit_all`]). Each part's detail is
//!
//! ```text
//! <what>: <n> versions, first <id>@<v>, last <id>@<v>, sha256 <hex>, part <k>/<parts>: <id>@<v> <id>@<v> …
//! ```
//!
//! where the list after the last `": "` is this part's share of the
//! released versions, in the order they were released, and `sha256` is
//! the SHA-256 of the whole list, each `<id>@<v>` followed by a newline.
//! So an auditor reads the released set back from the parts and checks it
//! against the count, the ends and the digest that every part repeats (a
//! missing or altered part shows; the hash chain already shows a removed
//! entry). When exactly one version was released, the entry also names
//! it in `report_id`, so a search by report finds it.

use sha2::{Digest as _, Sha256};
use trilat_core::{Report, ReportId};
use trilat_store::{AuditEvent, AUDIT_DETAIL_LEN_MAX};

/// Room kept in each part for `part <k>/<parts>: ` (two u64s at most).
const PART_LABEL_BYTES_MAX: usize = 2 * 20 + 10;
/// Longest `what` kept in a part's head.
const WHAT_BYTES_MAX: usize = 256;

/// One released version: the report and its version counter.
pub type Released = (ReportId, u64);

/// The released versions of `reports`, in order.
pub fn released<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<Released> {
    reports.into_iter().map(|r| (r.id, r.version)).collect()
}

/// The SHA-256 (hex) of a released list: each `<id>@<v>` and a newline.
pub fn released_digest(released: &[Released]) -> String {
    let mut hasher = Sha256::new();
    for (id, version) in released {
        hasher.update(format!("{id}@{version}\n").as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The audit events recording that `released` left the node: `template`
/// (time, actor, action, counterparty) once per part, `what` saying how
/// (e.g. `query`, `changes`, `pull`). Empty when nothing was released.
/// Every part's detail fits [`AUDIT_DETAIL_LEN_MAX`].
pub fn release_events(template: AuditEvent, what: &str, released: &[Released]) -> Vec<AuditEvent> {
    let (Some(first), Some(last)) = (released.first(), released.last()) else {
        return Vec::new();
    };
    // `what` may carry a configured name (a TAXII collection): bounded so
    // the head always leaves room for the list.
    let mut what = what.to_string();
    crate::state::clip(&mut what, WHAT_BYTES_MAX);
    let head = format!(
        "{what}: {} versions, first {}@{}, last {}@{}, sha256 {}",
        released.len(),
        first.0,
        first.1,
        last.0,
        last.1,
        released_digest(released)
    );
    // Under 500 bytes: `what`, two ids with versions, a digest.
    let room = AUDIT_DETAIL_LEN_MAX - head.len() - PART_LABEL_BYTES_MAX;
    assert!(
        room > AUDIT_DETAIL_LEN_MAX / 2,
        "the head leaves room for the list"
    );
    let mut lists: Vec<String> = vec![String::new()];
    for (id, version) in released {
        let item = format!("{id}@{version}");
        let list = lists.last_mut().expect("never empty");
        if !list.is_empty() && list.len() + 1 + item.len() > room {
            lists.push(item);
        } else {
            if !list.is_empty() {
                list.push(' ');
            }
            list.push_str(&item);
        }
    }
    let n_parts = lists.len();
    let only = (released.len() == 1).then_some(first.0);
    lists
        .into_iter()
        .enumerate()
        .map(|(idx, list)| {
            let detail = format!("{head}, part {}/{n_parts}: {list}", idx + 1);
            debug_assert!(detail.len() <= AUDIT_DETAIL_LEN_MAX);
            AuditEvent {
                report_id: only.or(template.report_id),
                detail,
                ..template.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_core::Timestamp;
    use trilat_store::AuditAction;

    fn ids(n: usize) -> Vec<Released> {
        (0..n)
            .map(|idx| {
                let text = format!("00000000-0000-4000-8000-{idx:012x}");
                (ReportId::parse(&text).unwrap(), idx as u64 % 7 + 1)
            })
            .collect()
    }

    /// The list of each part, read back as an auditor would.
    fn read_back(events: &[AuditEvent]) -> Vec<String> {
        events
            .iter()
            .flat_map(|e| {
                let (_, list) = e.detail.rsplit_once(": ").unwrap();
                list.split(' ').map(str::to_string).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn every_released_version_is_recorded_within_the_detail_limit() {
        let template = AuditEvent::new(Timestamp::from_unix_ms(0), "JPN:a", AuditAction::Read);
        assert!(release_events(template.clone(), "query", &[]).is_empty());
        for n in [1, 2, 80, 105, 1000, 10_000] {
            let released = ids(n);
            let events = release_events(template.clone(), "changes", &released);
            let expected: Vec<String> =
                released.iter().map(|(id, v)| format!("{id}@{v}")).collect();
            assert_eq!(read_back(&events), expected, "{n}");
            let digest = released_digest(&released);
            for (idx, event) in events.iter().enumerate() {
                assert!(event.detail.len() <= AUDIT_DETAIL_LEN_MAX, "{n}");
                assert!(event
                    .detail
                    .starts_with(&format!("changes: {n} versions, first ")));
                assert!(event
                    .detail
                    .contains(&format!("sha256 {digest}, part {}/", idx + 1)));
                assert_eq!(event.report_id, (n == 1).then_some(released[0].0));
            }
            // Parts are full but for the last: about 80 versions each.
            assert!(events.len() <= n / 70 + 1, "{n}: {} parts", events.len());
        }
    }
}
