//! The tracked vessels: per-MMSI state (identity, up to
//! [`SEGMENTS_PER_VESSEL_MAX`](super::SEGMENTS_PER_VESSEL_MAX) segments
//! with a ring of recent fixes each) in a dense table keyed by a cheap
//! integer hasher.

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::grid::encounter_cell;
use super::loitering::Loiter;
use super::port_calls::PortStay;
use super::{Fix, RECENT_FIXES};
use trilat_geo::ZoneId;

/// Multiply-rotate hasher (the FxHash scheme) for the per-position maps:
/// their keys are small integers, for which SipHash's flood resistance buys
/// nothing here (every map is bounded, so a flood costs time, not memory)
/// and costs a large share of the pipeline (`docs/bench/maritime.md`).
#[derive(Default, Clone, Copy)]
pub(super) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_i32(&mut self, v: i32) {
        self.write_u64(u64::from(v as u32));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`IntHasher`].
pub(super) type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<IntHasher>>;

/// One ship on an MMSI: its latest fix, a ring of recent ones, and the
/// detectors' open state.
#[derive(Clone, Debug)]
pub(super) struct Segment {
    pub(super) id: u32,
    pub(super) last: Fix,
    pub(super) recent: [Fix; RECENT_FIXES],
    pub(super) n_fixes: u64,
    pub(super) loiter: Option<Loiter>,
    pub(super) port: Option<PortStay>,
    pub(super) zones_inside: Vec<ZoneId>,
    pub(super) zone_streaks: Vec<(ZoneId, u8)>,
    pub(super) zone_checked_at: Option<(f64, f64)>,
    pub(super) cell: (i32, i32),
}

impl Segment {
    pub(super) fn new(id: u32, fix: Fix) -> Segment {
        Segment {
            id,
            last: fix,
            recent: [fix; RECENT_FIXES],
            n_fixes: 0,
            loiter: None,
            port: None,
            zones_inside: Vec::new(),
            zone_streaks: Vec::new(),
            zone_checked_at: None,
            cell: encounter_cell(fix.lat, fix.lon),
        }
    }

    pub(super) fn push(&mut self, fix: Fix) {
        self.recent[(self.n_fixes % RECENT_FIXES as u64) as usize] = fix;
        self.n_fixes += 1;
        self.last = fix;
    }
}

/// What static data said about a vessel, latest values.
#[derive(Clone, Debug, Default)]
pub(super) struct Identity {
    pub(super) imo: Option<u32>,
    pub(super) shiptype: Option<u8>,
    pub(super) shipname: Option<String>,
    pub(super) callsign: Option<String>,
    /// The identity last screened for sanctions (screened again when it changes).
    pub(super) screened: Option<ScreenedIdentity>,
}

/// IMO, name and call sign, as the sanctions screener is asked about them.
pub(super) type ScreenedIdentity = (Option<u32>, String, Option<String>);

/// One MMSI: its segments (ships), identity and when it was last heard.
#[derive(Clone, Debug)]
pub(super) struct Vessel {
    pub(super) segments: Vec<Segment>,
    pub(super) next_segment: u32,
    pub(super) identity: Identity,
    pub(super) last_seen_ms: i64,
    /// True heading of the latest position that carried one.
    pub(super) heading_deg: Option<u16>,
}

impl Vessel {
    /// A vessel with no segment yet, heard at `last_seen_ms`.
    pub(super) fn new(last_seen_ms: i64) -> Vessel {
        Vessel {
            segments: Vec::new(),
            next_segment: 0,
            identity: Identity::default(),
            last_seen_ms,
            heading_deg: None,
        }
    }

    /// The latest fix of any of its segments.
    pub(super) fn latest_fix(&self) -> Option<Fix> {
        self.segments
            .iter()
            .map(|s| s.last)
            .max_by_key(|f| f.time_unix_ms)
    }
}

/// The tracked vessels: a dense table plus an MMSI index, so a position
/// hashes its MMSI once and every detector reaches the vessel by slot
/// (one lookup instead of one per detector; see `docs/bench/maritime.md`).
#[derive(Default)]
pub(super) struct VesselTable {
    pub(super) slots: Vec<Vessel>,
    pub(super) mmsis: Vec<u32>,
    pub(super) by_mmsi: HashMap<u32, usize>,
}

impl VesselTable {
    pub(super) fn len(&self) -> usize {
        debug_assert_eq!(self.slots.len(), self.by_mmsi.len());
        self.slots.len()
    }

    pub(super) fn slot(&self, mmsi: u32) -> Option<usize> {
        self.by_mmsi.get(&mmsi).copied()
    }

    pub(super) fn get(&self, mmsi: &u32) -> Option<&Vessel> {
        self.slot(*mmsi).map(|i| &self.slots[i])
    }

    /// Adds a vessel not yet held; returns its slot.
    pub(super) fn insert(&mut self, mmsi: u32, vessel: Vessel) -> usize {
        assert!(
            !self.by_mmsi.contains_key(&mmsi),
            "MMSI {mmsi} already held"
        );
        self.slots.push(vessel);
        self.mmsis.push(mmsi);
        self.by_mmsi.insert(mmsi, self.slots.len() - 1);
        self.slots.len() - 1
    }

    /// Removes a vessel; the last slot moves into its place.
    pub(super) fn remove(&mut self, mmsi: &u32) -> Option<Vessel> {
        let idx = self.by_mmsi.remove(mmsi)?;
        let vessel = self.slots.swap_remove(idx);
        self.mmsis.swap_remove(idx);
        if let Some(&moved) = self.mmsis.get(idx) {
            self.by_mmsi.insert(moved, idx);
        }
        Some(vessel)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&u32, &Vessel)> {
        self.mmsis.iter().zip(self.slots.iter())
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&u32, &mut Vessel)> {
        self.mmsis.iter().zip(self.slots.iter_mut())
    }
}

impl std::ops::Index<usize> for VesselTable {
    type Output = Vessel;
    fn index(&self, idx: usize) -> &Vessel {
        &self.slots[idx]
    }
}

impl std::ops::IndexMut<usize> for VesselTable {
    fn index_mut(&mut self, idx: usize) -> &mut Vessel {
        &mut self.slots[idx]
    }
}

/// The last `n` fixes of a segment (at most the ring), oldest first.
pub(super) fn recent_fixes(seg: &Segment, n: usize) -> Vec<Fix> {
    let n = n.min(RECENT_FIXES).min(seg.n_fixes as usize);
    (0..n)
        .rev()
        .map(|k| seg.recent[((seg.n_fixes - 1 - k as u64) % RECENT_FIXES as u64) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vessel_table_keeps_slots_after_removal() {
        let vessel = Vessel::new;
        let mut table = VesselTable::default();
        for (mmsi, t) in [(11, 1), (22, 2), (33, 3)] {
            table.insert(mmsi, vessel(t));
        }
        assert_eq!(table.remove(&11).map(|v| v.last_seen_ms), Some(1));
        assert!(table.remove(&11).is_none());
        assert_eq!(table.len(), 2);
        assert_eq!(table.get(&33).map(|v| v.last_seen_ms), Some(3));
        assert_eq!(table.get(&22).map(|v| v.last_seen_ms), Some(2));
        let slot = table.slot(33).unwrap();
        assert_eq!(table[slot].last_seen_ms, 3);
        assert_eq!(table.remove(&33).map(|v| v.last_seen_ms), Some(3));
        let held: Vec<u32> = table.iter().map(|(&m, _)| m).collect();
        assert_eq!(held, vec![22]);
    }
}
