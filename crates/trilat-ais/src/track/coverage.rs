//! Reception coverage: which vessels were heard recently in each
//! half-degree cell, so a gap is called "going dark" only where reception
//! worked.

use super::grid::coverage_cell;
use super::{Fix, Tracker, COVERAGE_CELLS_MAX};

/// Vessels remembered per coverage cell (the latest fix of each): one other
/// vessel heard is enough to say reception worked, a few keep that true
/// while the vessel itself fills slots.
pub(super) const COVERAGE_VESSELS_PER_CELL: usize = 4;

/// A coverage cell's slots: `(MMSI, latest fix time)`, MMSI 0 for an empty slot.
pub(super) type CoverageSlots = [(u32, i64); COVERAGE_VESSELS_PER_CELL];

impl Tracker {
    /// Records the reception in its coverage cell; returns whether another
    /// vessel was heard in this cell since this vessel's last fix (so a gap
    /// ending here happened where reception worked).
    pub(super) fn coverage_seen(&mut self, vidx: usize, fix: Fix) -> bool {
        let cell = coverage_cell(fix.lat, fix.lon);
        let since = self.vessels[vidx]
            .segments
            .iter()
            .map(|s| s.last)
            .max_by_key(|f| f.time_unix_ms)
            .map(|f| (f.time_unix_ms, coverage_cell(f.lat, f.lon)));
        let heard_in = |slots: &CoverageSlots, after: i64| {
            slots
                .iter()
                .any(|&(m, t)| m != fix.mmsi && m != 0 && t > after)
        };
        // The start cell is usually this cell: look it up once, and judge
        // this cell's slots before recording this fix in them.
        let covered_start = match since {
            Some((after, start_cell)) if start_cell != cell => self
                .coverage
                .get(&start_cell)
                .is_some_and(|s| heard_in(s, after)),
            _ => false,
        };
        let slots = if self.coverage.len() < COVERAGE_CELLS_MAX {
            Some(
                self.coverage
                    .entry(cell)
                    .or_insert([(0, i64::MIN); COVERAGE_VESSELS_PER_CELL]),
            )
        } else {
            self.coverage.get_mut(&cell)
        };
        let Some(slots) = slots else {
            return covered_start;
        };
        let covered_here = since.is_some_and(|(after, _)| heard_in(slots, after));
        // Keep the latest fix of up to COVERAGE_VESSELS_PER_CELL distinct vessels.
        if let Some(slot) = slots.iter_mut().find(|(m, _)| *m == fix.mmsi) {
            slot.1 = slot.1.max(fix.time_unix_ms);
        } else if let Some(oldest) = slots.iter_mut().min_by_key(|(_, t)| *t) {
            *oldest = (fix.mmsi, fix.time_unix_ms);
        }
        covered_start || covered_here
    }
}
