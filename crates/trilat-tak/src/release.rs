//! Who a TAK destination is, and what may go to it.
//!
//! A TAK feed is a release like any other: a report goes to a destination
//! only when the release rule ([`Policy::release`], or [`Policy::may_send`]
//! when this node would pass another party's report to a different party)
//! allows the destination's party **and** the report's level is at most the
//! level the destination itself is accredited for (a TAK server is often
//! accredited below the node that feeds it), and the exercise flag matches
//! the feed's. Feed data that is not a report (the AIS picture) is the
//! node's own: it goes only to destinations of the node's own party, under
//! the same level check.

use trilat_core::{Marking, Party, Policy, Refusal, Report};

/// A TAK destination's accreditation: whose it is, up to which level, and
/// whether it carries exercise or real-world data (never both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The party whose users read the destination.
    pub party: Party,
    /// The highest classification level the destination may hold.
    pub level_max: String,
    /// Exercise feed (`true`) or real-world feed (`false`).
    pub exercise: bool,
}

/// Why something does not go to a destination.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TakRefusal {
    /// The release rule refuses the destination's party.
    #[error(transparent)]
    Release(#[from] Refusal),
    /// The destination is accredited below the content's level.
    #[error("the destination is accredited up to {level_max}, the content is {level}")]
    AboveAccreditation {
        /// The content's level.
        level: String,
        /// The destination's level.
        level_max: String,
    },
    /// Exercise content to a real-world feed, or the reverse.
    #[error("exercise content and real-world feeds are kept apart (content exercise: {exercise})")]
    ExerciseMismatch {
        /// Whether the content is exercise.
        exercise: bool,
    },
    /// The node's own feed data to another party's destination.
    #[error("feed data of {node} does not go to {party}'s destination")]
    NotOwnParty {
        /// This node's party.
        node: Party,
        /// The destination's party.
        party: Party,
    },
}

/// Whether `report` may go, from the node of `node`, to `destination`.
pub fn release_report(
    policy: &Policy,
    node: &Party,
    destination: &Destination,
    report: &Report,
) -> Result<(), TakRefusal> {
    if report.exercise != destination.exercise {
        return Err(TakRefusal::ExerciseMismatch {
            exercise: report.exercise,
        });
    }
    if &destination.party == node {
        policy.release(report, &destination.party)?;
    } else {
        policy.may_send(report, node, &destination.party)?;
    }
    within_level(policy, destination, &report.marking)
}

/// Whether the node's own feed data, marked `marking`, may go to `destination`.
pub fn release_feed(
    policy: &Policy,
    node: &Party,
    destination: &Destination,
    marking: &Marking,
    exercise: bool,
) -> Result<(), TakRefusal> {
    if exercise != destination.exercise {
        return Err(TakRefusal::ExerciseMismatch { exercise });
    }
    if &destination.party != node {
        return Err(TakRefusal::NotOwnParty {
            node: node.clone(),
            party: destination.party.clone(),
        });
    }
    within_level(policy, destination, marking)
}

/// The content's level is at most the destination's (an unknown level on
/// either side refuses).
fn within_level(
    policy: &Policy,
    destination: &Destination,
    marking: &Marking,
) -> Result<(), TakRefusal> {
    let refusal = || TakRefusal::AboveAccreditation {
        level: marking.level.clone(),
        level_max: destination.level_max.clone(),
    };
    let rank = policy.level_rank(&marking.level).map_err(|_| refusal())?;
    let rank_max = policy
        .level_rank(&destination.level_max)
        .map_err(|_| refusal())?;
    if rank > rank_max {
        return Err(refusal());
    }
    Ok(())
}
