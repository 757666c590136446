//! Zone entry and exit, with hysteresis: a change counts after
//! [`Config::zone_hysteresis_fixes`](super::Config::zone_hysteresis_fixes)
//! consecutive fixes agree.

use trilat_geo::{LatLon, Zone, ZoneId, ZoneKind};

use super::events::{instant, EventDetail, ZoneRef};
use super::vessels::{recent_fixes, Segment};
use super::{Event, Fix, Tracker, ZONES_INSIDE_MAX};

/// A vessel is looked up again after moving this far in latitude or
/// longitude (degrees, about 500 m): zones are kilometres wide, and most
/// fixes of a slow vessel then cost no lookup.
const ZONE_RECHECK_DEG: f64 = 0.005;

impl Tracker {
    /// Entry and exit events for the zones around `fix`, once the
    /// hysteresis confirms them.
    pub(super) fn detect_zones(
        &mut self,
        vidx: usize,
        seg_idx: usize,
        fix: Fix,
        events: &mut Vec<Event>,
    ) {
        let Some(zones) = self.zones.clone() else {
            return;
        };
        let hysteresis = self.config.zone_hysteresis_fixes.max(1);
        let seg = &mut self.vessels[vidx].segments[seg_idx];
        if let Some((la, lo)) = seg.zone_checked_at {
            if (la - fix.lat).abs() < ZONE_RECHECK_DEG && (lo - fix.lon).abs() < ZONE_RECHECK_DEG {
                return;
            }
        }
        seg.zone_checked_at = Some((fix.lat, fix.lon));
        let mut here = std::mem::take(&mut self.scratch_zones);
        here.clear();
        zones.zones_containing(
            LatLon {
                lat: fix.lat,
                lon: fix.lon,
            },
            &mut here,
        );
        here.retain(|&id| zones.zone(id).kind != ZoneKind::Land);
        here.truncate(ZONES_INSIDE_MAX);
        // Usually nothing changed: skip the bookkeeping and its allocations.
        if here.iter().all(|id| seg.zones_inside.contains(id))
            && seg.zones_inside.iter().all(|id| here.contains(id))
        {
            seg.zone_streaks.clear();
            self.scratch_zones = here;
            return;
        }
        let seg_id = seg.id;
        let changes = confirm_zone_changes(seg, &here, hysteresis);
        let evidence: Vec<Fix> = recent_fixes(seg, hysteresis as usize);
        self.scratch_zones = here;
        for (id, entering) in changes {
            let zone = zone_ref(zones.zone(id));
            let detail = if entering {
                EventDetail::ZoneEntry { zone }
            } else {
                EventDetail::ZoneExit { zone }
            };
            let mut e = instant(fix, seg_id, detail);
            e.evidence = evidence.clone();
            self.emit(events, e);
        }
    }
}

/// Counts a streak for each zone whose membership at this fix disagrees
/// with the segment's confirmed state (and drops the streaks of zones that
/// agree); a streak reaching `hysteresis` changes the state. Returns the
/// changes: (zone, entering).
fn confirm_zone_changes(seg: &mut Segment, here: &[ZoneId], hysteresis: u8) -> Vec<(ZoneId, bool)> {
    let disagreeing: Vec<ZoneId> = here
        .iter()
        .filter(|id| !seg.zones_inside.contains(id))
        .chain(seg.zones_inside.iter().filter(|id| !here.contains(id)))
        .copied()
        .collect();
    seg.zone_streaks.retain(|(id, _)| disagreeing.contains(id));
    let mut changes: Vec<(ZoneId, bool)> = Vec::new();
    for id in disagreeing {
        let streak = match seg.zone_streaks.iter_mut().find(|(z, _)| *z == id) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seg.zone_streaks.push((id, 1));
                1
            }
        };
        if streak < hysteresis {
            continue;
        }
        seg.zone_streaks.retain(|(z, _)| *z != id);
        let entering = here.contains(&id);
        if !entering {
            seg.zones_inside.retain(|z| *z != id);
        } else if seg.zones_inside.len() < ZONES_INSIDE_MAX {
            seg.zones_inside.push(id);
        }
        changes.push((id, entering));
    }
    changes
}

/// The zone facts an event carries.
fn zone_ref(zone: &Zone) -> ZoneRef {
    ZoneRef {
        id: zone.id.clone(),
        name: zone.name.clone(),
        kind: zone.kind,
        owner: zone.owner.clone(),
        disputed: zone.disputed,
        approximate: zone.approximate,
    }
}
