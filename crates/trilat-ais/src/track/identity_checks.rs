//! Identity anomalies and sanctions screening from an MMSI and from static
//! data: invalid or DPRK MMSIs, name / IMO / call-sign changes, invalid or
//! shared IMO numbers, and `sanctioned-vessel` hits.

use crate::identity::{imo_is_valid, mmsi_kind, MmsiKind, MID_DPRK};
use crate::message::StaticData;

use super::events::{instant, AnomalyKind, EventDetail};
use super::vessels::{Identity, ScreenedIdentity, Vessel};
use super::{Event, Fix, Tracker};

impl Tracker {
    pub(super) fn check_mmsi(&mut self, mmsi: u32, fix: &Fix, events: &mut Vec<Event>) {
        let (kind, mid) = mmsi_kind(mmsi);
        let unallocated = match (&self.mids, mid) {
            (Some(t), Some(m)) if !t.is_empty() => t.country(m).is_none(),
            _ => false,
        };
        if kind != MmsiKind::Ship || unallocated {
            let text = format!(
                "MMSI {mmsi:09}: {kind:?} format{}",
                if unallocated {
                    ", MID not allocated"
                } else {
                    ""
                }
            );
            let e = instant(
                *fix,
                0,
                EventDetail::IdentityAnomaly {
                    anomaly: AnomalyKind::InvalidMmsi,
                    text,
                },
            );
            self.emit(events, e);
        }
        if kind == MmsiKind::Ship && mid == Some(MID_DPRK) {
            let text =
                format!("MMSI {mmsi:09} carries MID 445 (Democratic People's Republic of Korea)");
            let e = instant(
                *fix,
                0,
                EventDetail::IdentityAnomaly {
                    anomaly: AnomalyKind::DprkMid,
                    text,
                },
            );
            self.emit(events, e);
        }
    }

    /// Static and voyage data: identity changes, IMO checks, screening.
    pub fn static_data(
        &mut self,
        mmsi: u32,
        data: &StaticData,
        time_unix_ms: i64,
        line: u64,
        events: &mut Vec<Event>,
    ) {
        self.stats.statics += 1;
        let vidx = match self.vessels.slot(mmsi) {
            Some(vidx) => vidx,
            // Identity before any position: remember it on a position-less vessel.
            None if self.vessels.len() < self.config.vessels_max => {
                self.vessels.insert(mmsi, Vessel::new(time_unix_ms))
            }
            None => return,
        };
        let vessel = &mut self.vessels[vidx];
        let at = Fix {
            time_unix_ms,
            line,
            ..vessel.latest_fix().unwrap_or(Fix {
                mmsi,
                time_unix_ms,
                lat: f64::NAN,
                lon: f64::NAN,
                speed_knots: None,
                course_deg: None,
                line,
            })
        };
        let seg = vessel.segments.iter().map(|s| s.id).max().unwrap_or(0);
        let mut found = identity_changes(&mut vessel.identity, data);
        let rescreen = take_rescreen(&mut vessel.identity);
        if let Some(imo) = data.imo {
            found.extend(self.claim_imo(imo, mmsi));
        }
        for (anomaly, text) in found {
            let e = instant(at, seg, EventDetail::IdentityAnomaly { anomaly, text });
            self.emit(events, e);
        }
        if let Some(identity) = rescreen {
            self.screen(mmsi, &identity, at, seg, events);
        }
    }

    /// Records `mmsi` as the claimant of `imo`; an anomaly when another
    /// MMSI claimed it last. New IMOs are not recorded once
    /// [`Config::vessels_max`](super::Config::vessels_max) are held.
    fn claim_imo(&mut self, imo: u32, mmsi: u32) -> Option<(AnomalyKind, String)> {
        if self.imo_claims.len() >= self.config.vessels_max && !self.imo_claims.contains_key(&imo) {
            return None;
        }
        let claimant = *self.imo_claims.entry(imo).or_insert(mmsi);
        if claimant == mmsi {
            return None;
        }
        self.imo_claims.insert(imo, mmsi);
        Some((
            AnomalyKind::ImoSharedByMmsis,
            format!("IMO {imo} also claimed by MMSI {claimant:09}"),
        ))
    }

    /// Asks the screener about an identity; a `sanctioned-vessel` event on a hit.
    fn screen(
        &mut self,
        mmsi: u32,
        identity: &ScreenedIdentity,
        at: Fix,
        seg: u32,
        events: &mut Vec<Event>,
    ) {
        let (imo, name, callsign) = identity;
        let hit = self.screener.as_ref().and_then(|s| {
            s.screen_vessel(mmsi, *imo, name, callsign.as_deref(), mmsi_kind(mmsi).1)
        });
        if let Some(evidence) = hit {
            let e = instant(at, seg, EventDetail::SanctionedVessel { evidence });
            self.emit(events, e);
        }
    }
}

/// Applies static data to an identity; returns the rules it broke (IMO,
/// name or call-sign changes, an IMO failing its check digit).
fn identity_changes(id: &mut Identity, data: &StaticData) -> Vec<(AnomalyKind, String)> {
    let mut found: Vec<(AnomalyKind, String)> = Vec::new();
    if let Some(imo) = data.imo {
        if id.imo.is_some_and(|old| old != imo) {
            found.push((
                AnomalyKind::ImoChange,
                format!("IMO {} → {imo}", id.imo.unwrap_or(0)),
            ));
        }
        if id.imo != Some(imo) && !imo_is_valid(imo) {
            found.push((
                AnomalyKind::InvalidImo,
                format!("IMO {imo} fails its check digit"),
            ));
        }
        id.imo = Some(imo);
    }
    if let Some(name) = data.shipname {
        let name = name.as_str().to_string();
        if id.shipname.as_ref().is_some_and(|old| *old != name) {
            found.push((
                AnomalyKind::NameChange,
                format!("name {:?} → {name:?}", id.shipname.as_deref().unwrap_or("")),
            ));
        }
        id.shipname = Some(name);
    }
    if let Some(cs) = data.callsign {
        let cs = cs.as_str().to_string();
        if id.callsign.as_ref().is_some_and(|old| *old != cs) {
            found.push((
                AnomalyKind::CallsignChange,
                format!(
                    "call sign {:?} → {cs:?}",
                    id.callsign.as_deref().unwrap_or("")
                ),
            ));
        }
        id.callsign = Some(cs);
    }
    if data.shiptype.is_some() {
        id.shiptype = data.shiptype;
    }
    found
}

/// The identity to screen when it differs from the one screened last
/// (and marks it screened); `None` when it has not changed.
fn take_rescreen(id: &mut Identity) -> Option<ScreenedIdentity> {
    let identity = (
        id.imo,
        id.shipname.clone().unwrap_or_default(),
        id.callsign.clone(),
    );
    if id.screened.as_ref() == Some(&identity) {
        return None;
    }
    id.screened = Some(identity.clone());
    Some(identity)
}
