//! One page from a peer, judged: the receive rule applied to every report
//! of a push or a pulled page, with the owners' signatures checked in one
//! batch. The node and the simulation judge every page through
//! [`judge_page`]; withdrawals are judged when stored
//! ([`crate::judge_withdrawal`]), since their verdict depends on what is
//! recorded then.

use trilat_core::{KindRegistry, Party, Policy, PublicKey, Report, ReportKey};

use crate::receive::{judge_incoming_checked, verify_page};
use crate::{judge_incoming, Verdict};

/// The receiving node and the rules it judges by.
pub struct ReceiveRules<'a, K> {
    /// This node's party.
    pub me: &'a Party,
    /// The agreement's release rules.
    pub policy: &'a Policy,
    /// The report kinds this node knows.
    pub kinds: &'a KindRegistry,
    /// The public key of each party this node knows.
    pub owner_keys: &'a K,
}

/// How owner signatures of a page are checked; both give the same verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignatureCheck {
    /// In one batch verification (`trilat_core::verify_batch`), falling back
    /// to one by one only for a batch that fails: the fast path.
    #[default]
    Batch,
    /// `verify_strict` report by report (kept to measure the batch against).
    OneByOne,
}

/// Judges every report of a page from `sender` under the receive rule
/// ([`judge_incoming`]): one verdict per report, in order. `held` gives the
/// version this node holds of a report (owner and id). Pure and
/// `Sync`-friendly: a caller may split a page over threads and judge each
/// part.
pub fn judge_page<'h, K>(
    reports: Vec<Report>,
    sender: &Party,
    rules: &ReceiveRules<'_, K>,
    held: impl Fn(&ReportKey) -> Option<&'h Report>,
    check: SignatureCheck,
) -> Vec<(Report, Verdict)>
where
    K: Fn(&Party) -> Option<PublicKey>,
{
    let n_reports = reports.len();
    let judged: Vec<(Report, Verdict)> = match check {
        SignatureCheck::OneByOne => reports
            .into_iter()
            .map(|report| {
                let verdict = judge_incoming(
                    &report,
                    sender,
                    rules.me,
                    held(&report.key()),
                    rules.policy,
                    rules.kinds,
                    rules.owner_keys,
                );
                (report, verdict)
            })
            .collect(),
        SignatureCheck::Batch => {
            let checks = verify_page(&reports, &held, rules.owner_keys);
            assert_eq!(checks.len(), n_reports, "one signature check per report");
            reports
                .into_iter()
                .zip(checks)
                .map(|(report, signature)| {
                    let verdict = judge_incoming_checked(
                        &report,
                        sender,
                        rules.me,
                        held(&report.key()),
                        rules.policy,
                        rules.kinds,
                        rules.owner_keys,
                        signature,
                    );
                    (report, verdict)
                })
                .collect()
        }
    };
    // Pair assertion: nothing dropped, nothing added.
    assert_eq!(judged.len(), n_reports, "every report is judged once");
    judged
}
