//! The marking a report carries: who may receive it and how they may treat it.

use std::fmt;

/// Traffic Light Protocol 2.0 labels, ordered from least to most restrictive.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Tlp {
    /// TLP:CLEAR — disclosure is not limited.
    #[serde(rename = "CLEAR")]
    Clear,
    /// TLP:GREEN — the community, not public channels.
    #[serde(rename = "GREEN")]
    Green,
    /// TLP:AMBER — the recipient organisation and its clients.
    #[serde(rename = "AMBER")]
    Amber,
    /// TLP:AMBER+STRICT — the recipient organisation only.
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    /// TLP:RED — the named recipients only.
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    /// Every label, least restrictive first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The label as TLP 2.0 writes it (`AMBER+STRICT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// Whether a recipient may pass the report on to a third party at all.
    /// AMBER+STRICT stays within the recipient organisation; RED with the
    /// named recipients.
    pub fn permits_relay(self) -> bool {
        self <= Tlp::Amber
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may distribute a report besides its owner.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FurtherSharing {
    /// Recipients may relay to other parties in `rel_to`.
    WithinRelTo,
    /// Only the owner distributes. Ordered last: it is the stricter rule.
    None,
}

/// A report's marking. `level` names an entry of the deployment's ordered
/// level list and `rel_to` holds party codes or group names, both checked
/// against a [`crate::Policy`] ([`crate::Policy::check_marking`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marking {
    /// Classification level, e.g. `CONFIDENTIAL`.
    pub level: String,
    /// TLP 2.0 label.
    pub tlp: Tlp,
    /// Releasability: party codes (`USA`) or group names (`TRILAT`).
    pub rel_to: Vec<String>,
    /// Further-sharing rule.
    pub further_sharing: FurtherSharing,
}

impl Marking {
    /// A marking with the default further-sharing rule (`none`: only the
    /// owner distributes).
    pub fn new<I, S>(level: &str, tlp: Tlp, rel_to: I) -> Marking
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Marking {
            level: level.to_string(),
            tlp,
            rel_to: rel_to.into_iter().map(Into::into).collect(),
            further_sharing: FurtherSharing::None,
        }
    }

    /// The banner line an analyst sees, e.g. `SECRET//REL TO USA, JPN//TLP:AMBER`.
    pub fn banner(&self) -> String {
        format!(
            "{}//REL TO {}//TLP:{}",
            self.level,
            self.rel_to.join(", "),
            self.tlp
        )
    }
}
