//! One party's share of an after-action report: what may be published to
//! that party's node for its console.
//!
//! The whole report names, for every product, which party received it and
//! which did not and why: metadata of reports a party was never released
//! (their kind, marking, existence). So a node gets only [`PartyShare`]:
//!
//! - the products its party owns, with every party's delivery (the owner's
//!   node applied the release rule itself: it knows who got what and why
//!   not);
//! - the products the release rule lets its party see (received, stored or
//!   missing), with only its own delivery and the owner's;
//! - its own per-inject outcome and summary, the injects that have one of
//!   those products, and the findings of those injects that name the
//!   party and no other.
//!
//! [`share_for`] cuts the share (the CLI, before publishing);
//! [`check_share`] is the node's own check of what it is given (a pair:
//! the node refuses a share that names anything its party may not see).

use serde::{Deserialize, Serialize};
use trilat_core::Party;

use crate::after_action::{AfterAction, DeliveryStatus, Product};

/// The part of an after-action report for one party's node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartyShare {
    /// The party whose node keeps it.
    pub party: Party,
    /// Injects of the run left out (none of their products concern the
    /// party).
    pub n_injects_not_shown: usize,
    /// The report, cut down.
    pub report: AfterAction,
}

/// Whether `party` may see `product` at all: it owns it, or the release
/// rule did not withhold it from it.
fn concerns(product: &Product, party: &Party) -> bool {
    if &product.owner == party {
        return true;
    }
    product
        .deliveries
        .iter()
        .any(|d| &d.party == party && !matches!(d.status, DeliveryStatus::Withheld { .. }))
}

/// `party`'s share of `report`.
pub fn share_for(report: &AfterAction, party: &Party) -> PartyShare {
    let mut cut = report.clone();
    cut.summary.retain(|s| &s.party == party);
    let mut n_injects_not_shown = 0;
    cut.injects.retain_mut(|inject| {
        inject.products.retain(|p| concerns(p, party));
        for product in &mut inject.products {
            if &product.owner != party {
                let owner = product.owner.clone();
                product
                    .deliveries
                    .retain(|d| &d.party == party || d.party == owner);
            }
        }
        inject.parties.retain(|o| &o.party == party);
        let keep = !inject.products.is_empty();
        if !keep {
            n_injects_not_shown += 1;
        }
        keep
    });
    let kept: Vec<usize> = cut.injects.iter().map(|i| i.inject_idx).collect();
    let others: Vec<&Party> = report.parties.iter().filter(|p| *p != party).collect();
    cut.findings
        .retain(|f| kept.contains(&f.inject_idx) && names_only(&f.message, party, &others));
    let share = PartyShare {
        party: party.clone(),
        n_injects_not_shown,
        report: cut,
    };
    debug_assert_eq!(check_share(&share), Ok(()));
    share
}

/// Whether a finding's text names `party` and none of `others`: findings
/// are told in terms of one party's copies ("JPN may see 2 product(s) its
/// node does not have"); one about the run as a whole, or about another
/// party, stays with the full report.
fn names_only(message: &str, party: &Party, others: &[&Party]) -> bool {
    message.contains(party.as_str()) && !others.iter().any(|o| message.contains(o.as_str()))
}

/// Checks that `share` names nothing its party may not see: every product
/// concerns the party, a product it does not own carries only its own and
/// the owner's delivery, and outcomes and summaries are its own. The
/// error says which product or entry breaks the rule.
pub fn check_share(share: &PartyShare) -> Result<(), String> {
    let party = &share.party;
    if let Some(s) = share.report.summary.iter().find(|s| &s.party != party) {
        return Err(format!("the summary of {} is not {party}'s", s.party));
    }
    for inject in &share.report.injects {
        let at = format!("inject {}", inject.inject_idx + 1);
        if let Some(o) = inject.parties.iter().find(|o| &o.party != party) {
            return Err(format!("{at}: the outcome of {} is not {party}'s", o.party));
        }
        for product in &inject.products {
            if !concerns(product, party) {
                return Err(format!(
                    "{at}: product {} of {} was not released to {party}",
                    product.id, product.owner
                ));
            }
            if &product.owner == party {
                continue;
            }
            if let Some(d) = product
                .deliveries
                .iter()
                .find(|d| &d.party != party && d.party != product.owner)
            {
                return Err(format!(
                    "{at}: product {} of {} names {}'s copy",
                    product.id, product.owner, d.party
                ));
            }
        }
    }
    Ok(())
}
