//! The deployment's sharing policy and the release rule.
//!
//! The release rule is one total function, [`Policy::release`]: a report is
//! released to a party only if the party is the owner, or (1) the party is in
//! the expanded `rel_to` (named individually when the TLP is RED), (2) a
//! sharing agreement covers the owner–recipient pair at the report's level
//! and kind, and (3) the recipient is accredited at that level. Nodes call it
//! on send, on receive and on every read; nothing else decides releasability.

use std::collections::{BTreeMap, BTreeSet};

use crate::{FurtherSharing, Kind, Marking, Party, Report, Tlp};

/// Longest `rel_to` list accepted on a marking.
pub const REL_TO_LEN_MAX: usize = 64;
/// Most classification levels a deployment may define.
pub const LEVELS_MAX: usize = 16;

/// A bilateral or multilateral sharing agreement (the Japan–Korea GSOMIA is
/// the real-world example): every pair of its parties may exchange reports
/// up to `level_max` of the listed kinds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Name shown in audit entries (`GSOMIA-JPN-KOR`).
    pub name: String,
    /// The parties it binds (two or more).
    pub parties: BTreeSet<Party>,
    /// Highest level it covers.
    pub level_max: String,
    /// Kinds it covers: exact kinds (`missile.assessment`), namespaces
    /// (`missile.*`) or `*` for every kind.
    pub kinds: Vec<String>,
}

impl Agreement {
    fn covers_kind(&self, kind: &Kind) -> bool {
        self.kinds
            .iter()
            .any(|pattern| kind_matches(pattern, kind.as_str()))
    }
}

/// `*` matches every kind; `ns.*` matches `ns.x` and deeper; otherwise exact.
fn kind_matches(pattern: &str, kind: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(namespace) => {
            kind.len() > namespace.len() + 1
                && kind.starts_with(namespace)
                && kind.as_bytes()[namespace.len()] == b'.'
        }
        None => pattern == kind,
    }
}

/// Why a report may not go to a party. Every refusal is audited by the node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The recipient is not in the expanded `rel_to`.
    #[error("{recipient} is not in the releasability list")]
    NotInRelTo {
        /// The refused party.
        recipient: Party,
    },
    /// TLP:RED goes only to parties named individually, never via a group.
    #[error("TLP:RED requires {recipient} to be named individually in rel_to")]
    RedNotNamed {
        /// The refused party.
        recipient: Party,
    },
    /// No agreement covers the owner–recipient pair at this level and kind.
    #[error("no sharing agreement covers {owner}→{recipient} for {kind} at {level}")]
    NoAgreement {
        /// The report's owner.
        owner: Party,
        /// The refused party.
        recipient: Party,
        /// The report's kind.
        kind: String,
        /// The report's level.
        level: String,
    },
    /// The recipient's node is not accredited at the report's level.
    #[error("{recipient} is accredited below {level}")]
    NotAccredited {
        /// The refused party.
        recipient: Party,
        /// The report's level.
        level: String,
    },
    /// The marking names a level the deployment does not define.
    #[error("unknown classification level {level:?}")]
    UnknownLevel {
        /// The unknown level.
        level: String,
    },
    /// A non-owner tried to pass on a report whose marking forbids it.
    #[error("{relay} may not relay this report (further sharing: {further_sharing:?}, TLP:{tlp})")]
    RelayForbidden {
        /// The party that tried to relay.
        relay: Party,
        /// The marking's further-sharing rule.
        further_sharing: FurtherSharing,
        /// The marking's TLP.
        tlp: Tlp,
    },
}

/// A recipient and what the release rule decides for it.
pub type ReleaseDecision = (Party, Result<(), Refusal>);

/// A policy or marking that does not fit together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The level list is empty, too long or repeats a name.
    #[error("invalid level list: {0}")]
    Levels(String),
    /// A marking names an unknown level.
    #[error("unknown classification level {0:?} (known: {1})")]
    UnknownLevel(String, String),
    /// A `rel_to` entry is neither a party code nor a defined group.
    #[error("rel_to entry {0:?} is neither a party code nor a group defined in the policy")]
    UnknownRelTo(String),
    /// `rel_to` is longer than [`REL_TO_LEN_MAX`].
    #[error("rel_to may list at most {REL_TO_LEN_MAX} parties or groups, got {0}")]
    RelToLength(usize),
    /// A group, agreement or accreditation is malformed.
    #[error("invalid policy: {0}")]
    Invalid(String),
    /// Markings of exercise and real-world reports may not be combined.
    #[error("cannot combine: {0}")]
    Combine(String),
}

/// The deployment's sharing policy: one per node, identical across a
/// federation in practice (config), though each node enforces its own copy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Classification levels, lowest first.
    pub levels: Vec<String>,
    /// Named groups of parties usable in `rel_to` (`TRILAT = USA, JPN, KOR`).
    #[serde(default)]
    pub groups: BTreeMap<String, BTreeSet<Party>>,
    /// Sharing agreements.
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    /// The highest level each party's node is accredited for.
    #[serde(default)]
    pub accreditation: BTreeMap<Party, String>,
}

impl Policy {
    /// The default trilateral deployment: levels `UNCLASSIFIED < CONFIDENTIAL
    /// < SECRET`; group `TRILAT = USA, JPN, KOR`; a trilateral agreement up
    /// to SECRET for every kind; all three nodes accredited at SECRET.
    pub fn trilateral_default() -> Policy {
        let trilat: BTreeSet<Party> = ["USA", "JPN", "KOR"]
            .iter()
            .map(|code| Party::new(code).expect("static code"))
            .collect();
        Policy {
            levels: vec![
                "UNCLASSIFIED".into(),
                "CONFIDENTIAL".into(),
                "SECRET".into(),
            ],
            groups: BTreeMap::from([("TRILAT".to_string(), trilat.clone())]),
            agreements: vec![Agreement {
                name: "TRILAT".into(),
                parties: trilat.clone(),
                level_max: "SECRET".into(),
                kinds: vec!["*".into()],
            }],
            accreditation: trilat
                .into_iter()
                .map(|p| (p, "SECRET".to_string()))
                .collect(),
        }
    }

    /// Checks the policy's own consistency: levels unique and bounded, groups
    /// of valid parties, agreements and accreditations at known levels.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.levels.is_empty() || self.levels.len() > LEVELS_MAX {
            return Err(PolicyError::Levels(format!(
                "need 1 to {LEVELS_MAX} levels, got {}",
                self.levels.len()
            )));
        }
        let unique: BTreeSet<&String> = self.levels.iter().collect();
        if unique.len() != self.levels.len() {
            return Err(PolicyError::Levels("a level is listed twice".into()));
        }
        for (name, members) in &self.groups {
            if crate::party::is_party_code(name) {
                return Err(PolicyError::Invalid(format!(
                    "group name {name:?} looks like a party code"
                )));
            }
            if members.is_empty() {
                return Err(PolicyError::Invalid(format!("group {name:?} is empty")));
            }
        }
        for agreement in &self.agreements {
            self.level_rank(&agreement.level_max)?;
            if agreement.parties.len() < 2 {
                return Err(PolicyError::Invalid(format!(
                    "agreement {:?} binds fewer than two parties",
                    agreement.name
                )));
            }
        }
        for level in self.accreditation.values() {
            self.level_rank(level)?;
        }
        Ok(())
    }

    /// The rank of `level` (0 = lowest).
    pub fn level_rank(&self, level: &str) -> Result<usize, PolicyError> {
        self.levels
            .iter()
            .position(|l| l == level)
            .ok_or_else(|| PolicyError::UnknownLevel(level.to_string(), self.levels.join(" < ")))
    }

    /// Checks that a marking is well formed under this policy: known level,
    /// `rel_to` of at most [`REL_TO_LEN_MAX`] entries, each a party code or
    /// group. An empty `rel_to` is valid: only the owner may see the report.
    pub fn check_marking(&self, marking: &Marking) -> Result<(), PolicyError> {
        self.level_rank(&marking.level)?;
        if marking.rel_to.len() > REL_TO_LEN_MAX {
            return Err(PolicyError::RelToLength(marking.rel_to.len()));
        }
        for entry in &marking.rel_to {
            if !self.groups.contains_key(entry) && Party::new(entry).is_err() {
                return Err(PolicyError::UnknownRelTo(entry.clone()));
            }
        }
        Ok(())
    }

    /// The parties a marking's `rel_to` names, groups expanded. Unknown
    /// entries expand to nothing (they release to no one).
    pub fn expand_rel_to(&self, marking: &Marking) -> BTreeSet<Party> {
        let mut parties = BTreeSet::new();
        for entry in &marking.rel_to {
            if let Some(members) = self.groups.get(entry) {
                parties.extend(members.iter().cloned());
            } else if let Ok(party) = Party::new(entry) {
                parties.insert(party);
            }
        }
        parties
    }

    /// The parties a marking's releasability actually reaches: under TLP:RED
    /// only those named individually (a group does not release RED), else
    /// `rel_to` with groups expanded. `combine` intersects these sets, so a
    /// fused product never names a party that an input reached only through
    /// a group it could not use.
    fn releasable_parties(&self, marking: &Marking) -> BTreeSet<Party> {
        if marking.tlp == Tlp::Red {
            marking
                .rel_to
                .iter()
                .filter_map(|entry| Party::new(entry).ok())
                .collect()
        } else {
            self.expand_rel_to(marking)
        }
    }

    /// The release rule for a report going to (or being read by) `recipient`.
    pub fn release(&self, report: &Report, recipient: &Party) -> Result<(), Refusal> {
        self.release_marked(&report.owner, &report.kind, &report.marking, recipient)
    }

    /// What the release rule would decide for each of `recipients` if
    /// `owner` published a report of `kind` with `marking`: the author's
    /// preview before sending. The decision is [`Policy::release_marked`],
    /// the same call [`Policy::release`] makes, so the preview cannot
    /// disagree with what happens on publish. A marking that publish would
    /// refuse ([`Policy::check_marking`]) is an error here too. The exercise
    /// flag is not a parameter: it changes where a report is shown, not who
    /// receives it.
    pub fn preview<'a>(
        &self,
        owner: &Party,
        kind: &Kind,
        marking: &Marking,
        recipients: impl IntoIterator<Item = &'a Party>,
    ) -> Result<Vec<ReleaseDecision>, PolicyError> {
        self.check_marking(marking)?;
        Ok(recipients
            .into_iter()
            .map(|recipient| {
                let decision = self.release_marked(owner, kind, marking, recipient);
                (recipient.clone(), decision)
            })
            .collect())
    }

    /// Every party the policy names: group members, agreement parties and
    /// accredited parties.
    pub fn parties(&self) -> BTreeSet<Party> {
        let mut parties: BTreeSet<Party> = self.groups.values().flatten().cloned().collect();
        for agreement in &self.agreements {
            parties.extend(agreement.parties.iter().cloned());
        }
        parties.extend(self.accreditation.keys().cloned());
        parties
    }

    /// The release rule on its parts, for callers that hold no whole report.
    pub fn release_marked(
        &self,
        owner: &Party,
        kind: &Kind,
        marking: &Marking,
        recipient: &Party,
    ) -> Result<(), Refusal> {
        if recipient == owner {
            return Ok(());
        }
        let level = &marking.level;
        let Ok(rank) = self.level_rank(level) else {
            return Err(Refusal::UnknownLevel {
                level: level.clone(),
            });
        };
        let named = marking
            .rel_to
            .iter()
            .any(|entry| entry == recipient.as_str());
        if !named && !self.expand_rel_to(marking).contains(recipient) {
            return Err(Refusal::NotInRelTo {
                recipient: recipient.clone(),
            });
        }
        if marking.tlp == Tlp::Red && !named {
            return Err(Refusal::RedNotNamed {
                recipient: recipient.clone(),
            });
        }
        let covered = self.agreements.iter().any(|agreement| {
            agreement.parties.contains(owner)
                && agreement.parties.contains(recipient)
                && self
                    .level_rank(&agreement.level_max)
                    .is_ok_and(|max| rank <= max)
                && agreement.covers_kind(kind)
        });
        if !covered {
            return Err(Refusal::NoAgreement {
                owner: owner.clone(),
                recipient: recipient.clone(),
                kind: kind.as_str().to_string(),
                level: level.clone(),
            });
        }
        let accredited = self
            .accreditation
            .get(recipient)
            .and_then(|accredited| self.level_rank(accredited).ok())
            .is_some_and(|accredited| rank <= accredited);
        if !accredited {
            return Err(Refusal::NotAccredited {
                recipient: recipient.clone(),
                level: level.clone(),
            });
        }
        Ok(())
    }

    /// Whether `sender` may send `report` to `recipient`: the owner under the
    /// release rule; anyone else only if the marking allows relay
    /// (`within-rel-to` and a TLP that permits it), the sender itself may
    /// hold the report, and the release rule allows the recipient.
    pub fn may_send(
        &self,
        report: &Report,
        sender: &Party,
        recipient: &Party,
    ) -> Result<(), Refusal> {
        if sender != &report.owner {
            let marking = &report.marking;
            if marking.further_sharing != FurtherSharing::WithinRelTo
                || !marking.tlp.permits_relay()
            {
                return Err(Refusal::RelayForbidden {
                    relay: sender.clone(),
                    further_sharing: marking.further_sharing,
                    tlp: marking.tlp,
                });
            }
            self.release(report, sender)?;
        }
        self.release(report, recipient)
    }

    /// The marking of a product fused from several reports: the
    /// intersection of their releasability (as explicit party codes), the
    /// highest level, the strictest TLP and the strictest further-sharing
    /// rule. Fails on an empty input or an unknown level.
    pub fn combine<'a, I>(&self, markings: I) -> Result<Marking, PolicyError>
    where
        I: IntoIterator<Item = &'a Marking>,
    {
        let mut combined: Option<(usize, Tlp, BTreeSet<Party>, FurtherSharing)> = None;
        for marking in markings {
            let rank = self.level_rank(&marking.level)?;
            let parties = self.releasable_parties(marking);
            combined = Some(match combined {
                None => (rank, marking.tlp, parties, marking.further_sharing),
                Some((r, t, p, f)) => (
                    r.max(rank),
                    t.max(marking.tlp),
                    p.intersection(&parties).cloned().collect(),
                    f.max(marking.further_sharing),
                ),
            });
        }
        let Some((rank, tlp, parties, further_sharing)) = combined else {
            return Err(PolicyError::Combine("no markings to combine".into()));
        };
        Ok(Marking {
            level: self.levels[rank].clone(),
            tlp,
            rel_to: parties
                .into_iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            further_sharing,
        })
    }
}

#[cfg(test)]
mod tests;
