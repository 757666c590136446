//! Warning rules: from an assessment (or its absence) to a warning level, issued at once,
//! updated as the estimate firms up, and cancelled when a track is lost before its estimate
//! is firm (as Japan did for Hokkaido on 13 April 2023).

use serde::{Deserialize, Serialize};

use crate::assess::Assessment;

/// Warning level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    /// A launch is detected; no threat to partner territory predicted (yet).
    Advisory,
    /// Impact predicted inside Japan's EEZ.
    High,
    /// Impact predicted in Japanese territory, or the path overflies Japan: take shelter.
    Highest,
}

/// What happened to a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningStatus {
    /// First issue for this track.
    Issued,
    /// Level or estimate changed.
    Updated,
    /// Withdrawn: the track was lost before the estimate was firm.
    Cancelled,
    /// The track ended (lost near impact or below the radar horizon) with a firm estimate.
    Final,
}

/// A warning, as published in `missile.warning` reports and on the live stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// Track id.
    pub track_id: u64,
    /// Level.
    pub level: WarningLevel,
    /// Status.
    pub status: WarningStatus,
    /// Data time (RFC 3339).
    pub issued_at: String,
    /// Why, in words.
    pub reason: String,
    /// Parties whose sensors contributed.
    pub parties: Vec<String>,
    /// When a warning is withdrawn because its track was a duplicate: the track it was merged
    /// into, whose warning stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<u64>,
}

/// Thresholds of the rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarningRules {
    /// P(impact in Japanese territory) at or above which the level is highest.
    pub p_territory_highest: f64,
    /// P(impact in Japan's EEZ) at or above which the level is high.
    pub p_eez_high: f64,
    /// Largest 95 % semi-major axis (km) of an estimate still called firm when the track is lost.
    pub firm_semi_major_km: f64,
}

impl Default for WarningRules {
    fn default() -> WarningRules {
        WarningRules {
            p_territory_highest: 0.05,
            p_eez_high: 0.10,
            firm_semi_major_km: 100.0,
        }
    }
}

impl WarningRules {
    /// The level an assessment calls for, with the reason.
    pub fn level(&self, a: &Assessment) -> (WarningLevel, String) {
        if a.overflown.iter().any(|p| p == "JPN") {
            return (
                WarningLevel::Highest,
                "path overflies Japanese territory".into(),
            );
        }
        if a.p_impact_in_jpn_territory >= self.p_territory_highest {
            return (
                WarningLevel::Highest,
                format!(
                    "impact in Japanese territory: p = {:.2}",
                    a.p_impact_in_jpn_territory
                ),
            );
        }
        if a.p_impact_in_jpn_eez >= self.p_eez_high {
            return (
                WarningLevel::High,
                format!(
                    "impact inside Japan's EEZ: p = {:.2}",
                    a.p_impact_in_jpn_eez
                ),
            );
        }
        (
            WarningLevel::Advisory,
            format!(
                "impact outside Japan's EEZ: p(EEZ) = {:.2}",
                a.p_impact_in_jpn_eez
            ),
        )
    }

    /// Whether an estimate is firm enough to stand after its track is lost.
    pub fn is_firm(&self, a: &Assessment) -> bool {
        a.impact_ellipse.semi_major_km <= self.firm_semi_major_km
    }
}
