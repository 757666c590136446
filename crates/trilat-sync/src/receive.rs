//! The protocol's safety core: what a node accepts from a peer
//! ([`judge_incoming`]) and what it offers to one ([`should_send`]).
//!
//! Both are thin, total compositions of `trilat-core`'s rules: the release
//! rule ([`Policy::release`]), the relay rule ([`Policy::may_send`]), the
//! owner's signature ([`Report::verify`]), the report's own validity
//! ([`Report::validate`]) and version ordering ([`Report::supersedes`]).
//! Nothing else in the federation decides whether a report crosses a link.

use trilat_core::{
    KindRegistry, Party, Policy, PublicKey, Refusal, Report, ReportError, ReportKey,
};

/// What the receiver does with a report a peer pushed or served.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// A new report, or a newer version of a held one: store it (and put it
    /// on the local change feed so it is served onward where allowed).
    Store,
    /// Exactly the version already held: nothing changes (idempotent receive).
    Duplicate,
    /// An older version than the one held: nothing changes. Reordering in
    /// the network makes this normal, not an error.
    Stale,
    /// Refused: nothing is stored; the node audits the reason.
    Refuse(RefuseReason),
}

impl Verdict {
    /// Whether the report is to be stored.
    pub fn is_store(&self) -> bool {
        matches!(self, Verdict::Store)
    }

    /// A stable lowercase code for audit entries and metrics labels:
    /// `store`, `duplicate`, `stale`, or the [`RefuseReason::code`].
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Store => "store",
            Verdict::Duplicate => "duplicate",
            Verdict::Stale => "stale",
            Verdict::Refuse(reason) => reason.code(),
        }
    }
}

/// Why a received report was refused. Every refusal is audited by the node.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefuseReason {
    /// The report's owner is not a party whose key this node knows.
    #[error("owner has no known public key")]
    UnknownOwner,
    /// The signature does not verify under the owner's key: tampered, or
    /// forged by someone without the owner's key.
    #[error("signature does not verify under the owner's key")]
    BadSignature,
    /// The release rule forbids this node the report: the sender should
    /// never have sent it.
    #[error("not releasable to this node: {0}")]
    NotReleasableToMe(Refusal),
    /// The sender is not the owner and the marking forbids it to relay.
    #[error("sender may not send this report: {0}")]
    SenderMayNotSend(Refusal),
    /// The report is malformed, has an unknown kind or an invalid payload,
    /// marking or geometry.
    #[error("invalid report: {0}")]
    Invalid(ReportError),
    /// Same id and version as the held report but different content: the
    /// owner equivocated (or its key is compromised).
    #[error("same version, different content")]
    VersionConflict,
    /// A version after a revocation: revocation is final.
    #[error("the held version is a revocation, which is final")]
    RevokedFinal,
    /// A withdrawal sent by a party other than the report's owner: only
    /// the owner withdraws.
    #[error("withdrawal not sent by the report's owner")]
    NotFromOwner,
}

impl RefuseReason {
    /// A stable lowercase code for audit entries and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            RefuseReason::UnknownOwner => "unknown_owner",
            RefuseReason::BadSignature => "bad_signature",
            RefuseReason::NotReleasableToMe(_) => "not_releasable_to_me",
            RefuseReason::SenderMayNotSend(_) => "sender_may_not_send",
            RefuseReason::Invalid(_) => "invalid",
            RefuseReason::VersionConflict => "version_conflict",
            RefuseReason::RevokedFinal => "revoked_final",
            RefuseReason::NotFromOwner => "not_from_owner",
        }
    }
}

/// The receive rule, applied to every report a peer pushes or serves, before
/// anything is stored:
///
/// 1. the owner's key is known and the owner's signature verifies;
/// 2. the release rule lets this node (`me`) hold it, and `sender` may send
///    it (the owner, or a relay the marking allows);
/// 3. the report is valid under this node's policy and kinds;
/// 4. it is newer than `held`, the version this node has of the same
///    report: same owner and id ([`Report::key`]). Another owner's report
///    under the same id is another report: it never stands in as `held`,
///    so nobody can block or replace a party's report by using its id
///    first.
///
/// A report identical to `held` is a [`Verdict::Duplicate`] at once: `held`
/// was verified when stored, so replays cost no signature check.
///
/// # Panics
/// If `held` is a different report (its owner or id differs): the caller
/// looks `held` up by `report.key()`, so a mismatch is a bug in the caller.
pub fn judge_incoming(
    report: &Report,
    sender: &Party,
    me: &Party,
    held: Option<&Report>,
    policy: &Policy,
    kinds: &KindRegistry,
    owner_keys: &impl Fn(&Party) -> Option<PublicKey>,
) -> Verdict {
    judge_with(report, sender, me, held, policy, kinds, || {
        let Some(owner_key) = owner_keys(&report.owner) else {
            return Err(RefuseReason::UnknownOwner);
        };
        report
            .verify(&owner_key)
            .map_err(|_| RefuseReason::BadSignature)
    })
}

/// The owner-signature check of one report of a page, done ahead of
/// judgement by [`verify_page`]; only [`verify_page`] makes one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OwnerSignature {
    report: ReportKey,
    /// `None`: not checked, because the report is the held version.
    checked: Option<Result<(), RefuseReason>>,
}

/// Checks the owner's signature of every report of a page at once (batch
/// Ed25519 verification, see `trilat_core::verify_batch`), for
/// [`judge_incoming_checked`]. `held` gives the version this node holds of
/// an id: a report identical to it is not checked (a replay costs nothing,
/// as in [`judge_incoming`]). Pure; the caller may split a page over threads.
pub(crate) fn verify_page<'a>(
    reports: &[Report],
    held: impl Fn(&ReportKey) -> Option<&'a Report>,
    owner_keys: &impl Fn(&Party) -> Option<PublicKey>,
) -> Vec<OwnerSignature> {
    let mut checks: Vec<OwnerSignature> = reports
        .iter()
        .map(|report| OwnerSignature {
            report: report.key(),
            checked: None,
        })
        .collect();
    let mut keyed: Vec<(usize, PublicKey)> = Vec::with_capacity(reports.len());
    for (report_idx, report) in reports.iter().enumerate() {
        if held(&checks[report_idx].report) == Some(report) {
            continue;
        }
        match owner_keys(&report.owner) {
            Some(key) => keyed.push((report_idx, key)),
            None => checks[report_idx].checked = Some(Err(RefuseReason::UnknownOwner)),
        }
    }
    let items: Vec<(&Report, &PublicKey)> = keyed
        .iter()
        .map(|(idx, key)| (&reports[*idx], key))
        .collect();
    let verdicts = Report::verify_each(&items);
    assert_eq!(verdicts.len(), keyed.len());
    for ((report_idx, _), verdict) in keyed.iter().zip(verdicts) {
        checks[*report_idx].checked = Some(verdict.map_err(|_| RefuseReason::BadSignature));
    }
    checks
}

/// [`judge_incoming`] with the owner's signature already checked by
/// [`verify_page`]: the same rule, step for step. A check that was skipped
/// (the report was the held version) but is needed is done here.
///
/// # Panics
/// If `signature` is for another report, or `held` is (caller bugs).
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge_incoming_checked(
    report: &Report,
    sender: &Party,
    me: &Party,
    held: Option<&Report>,
    policy: &Policy,
    kinds: &KindRegistry,
    owner_keys: &impl Fn(&Party) -> Option<PublicKey>,
    signature: OwnerSignature,
) -> Verdict {
    assert!(
        signature.report.id == report.id && signature.report.owner == report.owner,
        "signature check of another report"
    );
    match signature.checked {
        Some(checked) => judge_with(report, sender, me, held, policy, kinds, || checked),
        None => judge_incoming(report, sender, me, held, policy, kinds, owner_keys),
    }
}

/// The receive rule with the owner-signature step supplied by the caller
/// (called only if the report is not the held version).
fn judge_with(
    report: &Report,
    sender: &Party,
    me: &Party,
    held: Option<&Report>,
    policy: &Policy,
    kinds: &KindRegistry,
    owner_signature: impl FnOnce() -> Result<(), RefuseReason>,
) -> Verdict {
    if let Some(held) = held {
        assert!(held.same_report(report), "held must be the same report");
        if held == report {
            return Verdict::Duplicate;
        }
    }
    if let Err(reason) = owner_signature() {
        return Verdict::Refuse(reason);
    }
    if let Err(refusal) = policy.release(report, me) {
        return Verdict::Refuse(RefuseReason::NotReleasableToMe(refusal));
    }
    if let Err(refusal) = policy.may_send(report, sender, me) {
        return Verdict::Refuse(RefuseReason::SenderMayNotSend(refusal));
    }
    if let Err(error) = report.validate(policy, kinds) {
        return Verdict::Refuse(RefuseReason::Invalid(error));
    }
    let Some(held) = held else {
        return Verdict::Store;
    };
    let verdict = match report.supersedes(held) {
        Ok(true) => Verdict::Store,
        // Same version and same signature but not identical cannot verify
        // (the signature covers every other field), so equal versions here
        // are a conflict or were caught as duplicates above.
        Ok(false) if report.version == held.version => Verdict::Duplicate,
        Ok(false) => Verdict::Stale,
        Err(ReportError::VersionConflict { .. }) => Verdict::Refuse(RefuseReason::VersionConflict),
        Err(ReportError::RevokedFinal(_)) => Verdict::Refuse(RefuseReason::RevokedFinal),
        Err(other) => Verdict::Refuse(RefuseReason::Invalid(other)),
    };
    // Pair assertion with `supersedes`: only a strictly newer counter is stored.
    debug_assert!(!verdict.is_store() || report.version > held.version);
    verdict
}

/// The send rule: whether `me` offers a report it holds to `peer`, on push
/// and when serving a pull. True if `me` is the owner and the release rule
/// allows `peer`, or `me` is a relay the marking allows (`within-rel-to`,
/// a TLP that permits relay) and the release rule allows both `me` and
/// `peer`. Never to the report's owner: it has every version already.
pub fn should_send(report: &Report, me: &Party, peer: &Party, policy: &Policy) -> bool {
    if peer == &report.owner || peer == me {
        return false;
    }
    let allowed = policy.may_send(report, me, peer).is_ok();
    // Pair assertion with the receive rule: whatever we send, the peer's
    // release check (same policy) accepts.
    debug_assert!(!allowed || policy.release(report, peer).is_ok());
    allowed
}

#[cfg(test)]
mod tests;
