//! How the node records that many report versions left it at once (a page
//! of reports, of the change feed, of a TAXII collection, a peer's pull or
//! a push) within the store's bounded audit detail
//! ([`trilat_store::AUDIT_DETAIL_LEN_MAX`]).
//!
//! One release becomes one or more entries ("parts"), written in one
//! transaction ([`crate::AppState::audit_all`]). Each part's detail is
//!
//! ```text
//! <what>: <n> versions, first <report>@<v>, last <report>@<v>, sha256 <hex>, part <k>/<parts>: <report>@<v> <report>@<v> …
//! ```
//!
//! where `<report>` is a report's identity, `OWNER/uuid`
//! ([`trilat_core::ReportKey`]), the list after the last `": "` is this
//! part's share of the released versions, in the order they were
//! released, and `sha256` is the SHA-256 of the whole list, each
//! `<report>@<v>` followed by a newline.
//! So an auditor reads the released set back from the parts and checks it
//! against the count, the ends and the digest that every part repeats (a
//! missing or altered part shows; the hash chain already shows a removed
//! entry). When exactly one version was released, the entry also names
//! it in `report_id` and `report_owner`, so a search by report finds it.

use sha2::{Digest as _, Sha256};
use trilat_core::{Report, ReportKey};
use trilat_store::{AuditEvent, AUDIT_DETAIL_LEN_MAX};

/// Room kept in each part for `part <k>/<parts>: ` (two u64s at most).
const PART_LABEL_BYTES_MAX: usize = 2 * 20 + 10;
/// Longest `what` kept in a part's head.
const WHAT_BYTES_MAX: usize = 256;

/// One released version: the report and its version counter.
pub type Released = (ReportKey, u64);

/// The released versions of `reports`, in order.
pub fn released<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<Released> {
    reports.into_iter().map(|r| (r.key(), r.version)).collect()
}

/// The SHA-256 (hex) of a released list: each `<report>@<v>` and a newline.
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
    // Under 550 bytes: `what`, two reports with versions, a digest.
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
    let only = (released.len() == 1).then(|| first.0.clone());
    lists
        .into_iter()
        .enumerate()
        .map(|(idx, list)| {
            let detail = format!("{head}, part {}/{n_parts}: {list}", idx + 1);
            debug_assert!(detail.len() <= AUDIT_DETAIL_LEN_MAX);
            let event = AuditEvent {
                detail,
                ..template.clone()
            };
            match &only {
                Some(report) => event.report(report.clone()),
                None => event,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_core::{Party, ReportId, Timestamp};
    use trilat_store::AuditAction;

    fn ids(n: usize) -> Vec<Released> {
        (0..n)
            .map(|idx| {
                let text = format!("00000000-0000-4000-8000-{idx:012x}");
                let owner = Party::new(["USA", "JPN-JCG"][idx % 2]).unwrap();
                let key = ReportKey::new(owner, ReportId::parse(&text).unwrap());
                (key, idx as u64 % 7 + 1)
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
                assert_eq!(event.report_key(), (n == 1).then(|| released[0].0.clone()));
            }
            // Parts are full but for the last: about 80 versions each.
            assert!(events.len() <= n / 70 + 1, "{n}: {} parts", events.len());
        }
    }
}
