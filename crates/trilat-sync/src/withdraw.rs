//! The withdrawal rules: when an owner tells a peer that the version it holds
//! is no longer current ([`should_withdraw`]), and what the peer does with
//! such a notice ([`judge_withdrawal`]).
//!
//! The sender needs no record of who received what: the release rule is
//! deterministic, so the parties the previous version was released to and
//! the new one is not are exactly the parties that may hold a copy that the
//! new version no longer covers. The notice travels at the new version's
//! place in the owner's change feed (by push, and when serving a pull), so a
//! peer that pulls late still gets it, in order.
//!
//! The receiver keeps, per report, the highest withdrawn version; a copy is
//! withdrawn while that is above the version it holds. Both are maxima, so
//! the outcome does not depend on the order in which notices and versions
//! arrive, nor on duplicates.

use trilat_core::{Party, Policy, PublicKey, Report, Withdrawal};

use crate::{should_send, RefuseReason};

/// The withdrawal rule (send side): whether `me`, the owner, sends `peer` a
/// [`Withdrawal`] when it publishes `report` after `previous`: the release
/// rule allowed `peer` the previous version and forbids it this one. Only
/// the owner withdraws (it alone signs); relays never do.
///
/// # Panics
/// If `previous` is not the version right before `report` (a caller bug).
pub fn should_withdraw(
    previous: &Report,
    report: &Report,
    me: &Party,
    peer: &Party,
    policy: &Policy,
) -> bool {
    assert!(previous.same_report(report), "versions of one report");
    assert_eq!(
        previous.version + 1,
        report.version,
        "the version right before"
    );
    if me != &report.owner {
        return false;
    }
    let held_before = should_send(previous, me, peer, policy);
    let released_now = should_send(report, me, peer, policy);
    held_before && !released_now
}

/// What a receiver does with a withdrawal.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WithdrawalVerdict {
    /// Record it: a higher version than any withdrawal held of the report.
    /// Recorded even when the report is not (yet) held, so a copy arriving
    /// late is withdrawn at once.
    Store,
    /// A withdrawal of this or a higher version is already recorded.
    Duplicate,
    /// Refused: nothing is recorded; the node audits the reason.
    Refuse(RefuseReason),
}

/// The receive rule for a withdrawal from `sender`: the owner's key is
/// known and its signature verifies, the sender is the owner (relays do not
/// withdraw), and the version is above the highest withdrawal already
/// recorded (`recorded`).
///
/// # Panics
/// If `held` is another report (the caller looks it up by owner and id:
/// another owner's copy under the same id is another report).
pub fn judge_withdrawal(
    withdrawal: &Withdrawal,
    sender: &Party,
    held: Option<&Report>,
    recorded: Option<u64>,
    owner_keys: &impl Fn(&Party) -> Option<PublicKey>,
) -> WithdrawalVerdict {
    if let Some(held) = held {
        assert!(
            held.id == withdrawal.id && held.owner == withdrawal.owner,
            "held must be the same report"
        );
    }
    if recorded.is_some_and(|version| version >= withdrawal.version) {
        return WithdrawalVerdict::Duplicate;
    }
    let Some(owner_key) = owner_keys(&withdrawal.owner) else {
        return WithdrawalVerdict::Refuse(RefuseReason::UnknownOwner);
    };
    if withdrawal.verify(&owner_key).is_err() {
        return WithdrawalVerdict::Refuse(RefuseReason::BadSignature);
    }
    if sender != &withdrawal.owner {
        return WithdrawalVerdict::Refuse(RefuseReason::NotFromOwner);
    }
    WithdrawalVerdict::Store
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_core::{Kind, Marking, NodeKey, ReportDraft, Timestamp, Tlp};

    fn party(name: &str) -> Party {
        Party::new(name).unwrap()
    }

    /// USA's report to USA+JPN+KOR, then a version REL TO USA, JPN.
    fn narrowed(key: &NodeKey) -> (Report, Report) {
        let first = ReportDraft::new(
            party("USA"),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN", "KOR"]),
            serde_json::json!({"text": "first"}),
            Timestamp::from_unix_ms(1_000),
        )
        .sign(key)
        .unwrap();
        let mut draft = first.next_version(Timestamp::from_unix_ms(2_000));
        draft.marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN"]);
        (first, draft.sign(key).unwrap())
    }

    #[test]
    fn only_the_owner_withdraws_and_only_from_parties_it_narrowed_away() {
        let policy = Policy::trilateral_default();
        let key = NodeKey::from_seed([1; 32]);
        let (first, second) = narrowed(&key);
        let usa = party("USA");
        assert!(should_withdraw(
            &first,
            &second,
            &usa,
            &party("KOR"),
            &policy
        ));
        assert!(!should_withdraw(
            &first,
            &second,
            &usa,
            &party("JPN"),
            &policy
        ));
        // A relay never withdraws; nor is the owner told.
        assert!(!should_withdraw(
            &first,
            &second,
            &party("JPN"),
            &party("KOR"),
            &policy
        ));
        assert!(!should_withdraw(&first, &second, &usa, &usa, &policy));
        // Broadening back withdraws nothing.
        let mut draft = second.next_version(Timestamp::from_unix_ms(3_000));
        draft.marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN", "KOR"]);
        let third = draft.sign(&key).unwrap();
        assert!(!should_withdraw(
            &second,
            &third,
            &usa,
            &party("KOR"),
            &policy
        ));
    }

    #[test]
    fn a_withdrawal_is_recorded_once_from_its_owner_with_a_valid_signature() {
        let key = NodeKey::from_seed([1; 32]);
        let (first, second) = narrowed(&key);
        let withdrawal = Withdrawal::sign(&second, &key).unwrap();
        let keys = |p: &Party| (p.as_str() == "USA").then(|| key.public_key());
        let usa = party("USA");
        let check = |sender: &Party, held: Option<&Report>, recorded, w: &Withdrawal| {
            judge_withdrawal(w, sender, held, recorded, &keys)
        };
        assert_eq!(
            check(&usa, Some(&first), None, &withdrawal),
            WithdrawalVerdict::Store
        );
        assert_eq!(
            check(&usa, None, None, &withdrawal),
            WithdrawalVerdict::Store
        );
        assert_eq!(
            check(&usa, Some(&first), Some(2), &withdrawal),
            WithdrawalVerdict::Duplicate
        );
        assert_eq!(
            check(&usa, Some(&first), Some(1), &withdrawal),
            WithdrawalVerdict::Store
        );
        assert_eq!(
            check(&party("JPN"), Some(&first), None, &withdrawal),
            WithdrawalVerdict::Refuse(RefuseReason::NotFromOwner)
        );
        let mut tampered = withdrawal.clone();
        tampered.version = 3;
        assert_eq!(
            check(&usa, Some(&first), None, &tampered),
            WithdrawalVerdict::Refuse(RefuseReason::BadSignature)
        );
        let mut unknown = withdrawal.clone();
        unknown.owner = party("KOR");
        assert_eq!(
            check(&party("KOR"), None, None, &unknown),
            WithdrawalVerdict::Refuse(RefuseReason::UnknownOwner)
        );
    }
}
