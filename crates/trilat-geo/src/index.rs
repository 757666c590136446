//! `ZoneIndex`: a uniform grid over all zones. Each cell lists, per zone touching it,
//! either "wholly inside" or "boundary" with the few polygon edges crossing the cell and the
//! inside/outside status of a reference point in the cell. A lookup is then: find the cell
//! (two multiplications), copy the inside zones, and for boundary zones count crossings of
//! the segment reference→point with the cell's edges (exact: parity flips at each crossing).

use crate::coast::Coastline;
use crate::zone::{Zone, ZoneId, ZoneKind};
use crate::LatLon;

/// Most grid cells an index allocates (memory bound: 4 bytes per cell plus entries).
pub const GRID_CELLS_MAX: usize = 1 << 20;
/// Most zones one index holds (ids are `u32`; this keeps entry tables small).
pub const ZONES_MAX: usize = 1 << 16;

/// Where the reference point sits inside a cell, as a fraction of the cell size. Odd values so
/// that grid-aligned polygon edges (rasterised zones, user boxes) never pass through it.
const REF_FX: f64 = 0.503_717;
const REF_FY: f64 = 0.496_133;

#[derive(Clone, Copy, Debug)]
struct CellEntry {
    zone: u32,
    /// Whether the cell's reference point is inside the zone.
    reference_inside: bool,
    edges_start: u32,
    /// 0 = the zone covers the whole cell.
    edges_len: u32,
}

/// Spatial index of zones with exact point-in-polygon answers (see the module docs).
#[derive(Clone, Debug)]
pub struct ZoneIndex {
    zones: Vec<Zone>,
    coast: Coastline,
    x0: f64,
    y0: f64,
    cell_w: f64,
    cell_h: f64,
    nx: usize,
    ny: usize,
    /// CSR offsets into `entries`, `nx * ny + 1` long.
    cell_start: Vec<u32>,
    entries: Vec<CellEntry>,
    edge_ids: Vec<u32>,
    /// Polygon edges as `[x1, y1, x2, y2]` (lon/lat degrees).
    edges: Vec<[f64; 4]>,
}

/// Sign of the turn a→b→c: >0 left (counter-clockwise), <0 right, 0 collinear.
#[inline]
fn orient(ax: f64, ay: f64, bx: f64, by: f64, cx: f64, cy: f64) -> f64 {
    (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
}

/// Does segment c→p cross edge e? Vertices exactly on the line c–p count as being on its
/// right, a consistent tie-break (symbolic perturbation) so that a path through a vertex
/// counts one crossing, not zero or two.
#[inline]
fn crosses(cx: f64, cy: f64, px: f64, py: f64, e: &[f64; 4]) -> bool {
    let side_a = orient(cx, cy, px, py, e[0], e[1]) > 0.0;
    let side_b = orient(cx, cy, px, py, e[2], e[3]) > 0.0;
    if side_a == side_b {
        return false;
    }
    let side_c = orient(e[0], e[1], e[2], e[3], cx, cy) > 0.0;
    let side_p = orient(e[0], e[1], e[2], e[3], px, py) > 0.0;
    side_c != side_p
}

/// Does segment e touch the closed rectangle [x0,x1]×[y0,y1]? (Liang–Barsky clip.)
fn segment_touches_rect(e: &[f64; 4], x0: f64, y0: f64, x1: f64, y1: f64) -> bool {
    let (dx, dy) = (e[2] - e[0], e[3] - e[1]);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, e[0] - x0),
        (dx, x1 - e[0]),
        (-dy, e[1] - y0),
        (dy, y1 - e[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

fn zone_edges(zone: &Zone) -> impl Iterator<Item = [f64; 4]> + '_ {
    zone.polygon
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.lines())
        .map(|l| [l.start.x, l.start.y, l.end.x, l.end.y])
        .filter(|e| e.iter().all(|v| v.is_finite()) && (e[0] != e[2] || e[1] != e[3]))
}

impl ZoneIndex {
    /// Builds the index; the coastline for [`ZoneIndex::distance_to_coast_m`] is taken from
    /// the `Land` zones (edges shared by two land zones are borders, not coast).
    ///
    /// # Panics
    /// If more than [`ZONES_MAX`] zones are given (a programming error: zone sets are curated).
    pub fn new(zones: Vec<Zone>) -> ZoneIndex {
        let coast = Coastline::from_land(&zones);
        ZoneIndex::with_coast(zones, coast)
    }

    /// Builds the index with an explicit coastline (e.g. Natural Earth arcs, which know which
    /// edges are borders even after land polygons were clipped to a bounding box).
    ///
    /// # Panics
    /// If more than [`ZONES_MAX`] zones are given.
    pub fn with_coast(zones: Vec<Zone>, coast: Coastline) -> ZoneIndex {
        assert!(
            zones.len() <= ZONES_MAX,
            "{} zones > ZONES_MAX",
            zones.len()
        );
        let mut index = ZoneIndex {
            zones,
            coast,
            x0: 0.0,
            y0: 0.0,
            cell_w: 1.0,
            cell_h: 1.0,
            nx: 0,
            ny: 0,
            cell_start: vec![0],
            entries: Vec::new(),
            edge_ids: Vec::new(),
            edges: Vec::new(),
        };
        index.build_grid();
        index
    }

    fn build_grid(&mut self) {
        let (mut xmin, mut ymin, mut xmax, mut ymax) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut n_edges = 0usize;
        for zone in &self.zones {
            for e in zone_edges(zone) {
                xmin = xmin.min(e[0]).min(e[2]);
                xmax = xmax.max(e[0]).max(e[2]);
                ymin = ymin.min(e[1]).min(e[3]);
                ymax = ymax.max(e[1]).max(e[3]);
                n_edges += 1;
            }
        }
        if n_edges == 0 {
            self.cell_start = vec![0];
            return;
        }
        // Aim for a few edges per boundary cell: cells ~ edges, capped by GRID_CELLS_MAX.
        let (width, height) = ((xmax - xmin).max(1e-9), (ymax - ymin).max(1e-9));
        let n_cells_target = n_edges.clamp(64, GRID_CELLS_MAX) as f64;
        let cell_size = (width * height / n_cells_target).sqrt();
        self.nx = ((width / cell_size).ceil() as usize).clamp(1, 4096);
        self.ny = ((height / cell_size).ceil() as usize).clamp(1, 4096);
        while self.nx * self.ny > GRID_CELLS_MAX {
            self.nx = (self.nx / 2).max(1);
            self.ny = (self.ny / 2).max(1);
        }
        self.x0 = xmin;
        self.y0 = ymin;
        // Slightly larger than needed so that xmax/ymax fall inside the last cell.
        self.cell_w = width * (1.0 + 1e-9) / self.nx as f64;
        self.cell_h = height * (1.0 + 1e-9) / self.ny as f64;

        let mut raw_entries: Vec<(u32, CellEntry)> = Vec::new();
        for zone_idx in 0..self.zones.len() {
            self.index_zone(zone_idx, &mut raw_entries);
        }
        raw_entries.sort_by_key(|(cell, entry)| (*cell, entry.zone));
        let n_cells = self.nx * self.ny;
        let mut cell_start = vec![0u32; n_cells + 1];
        for (cell, _) in &raw_entries {
            cell_start[*cell as usize + 1] += 1;
        }
        for i in 0..n_cells {
            cell_start[i + 1] += cell_start[i];
        }
        self.cell_start = cell_start;
        self.entries = raw_entries.into_iter().map(|(_, e)| e).collect();
        assert_eq!(
            *self.cell_start.last().unwrap() as usize,
            self.entries.len()
        );
    }

    fn index_zone(&mut self, zone_idx: usize, raw_entries: &mut Vec<(u32, CellEntry)>) {
        let edges_first = self.edges.len();
        let zone_edge_list: Vec<[f64; 4]> = zone_edges(&self.zones[zone_idx]).collect();
        if zone_edge_list.is_empty() {
            return;
        }
        self.edges.extend_from_slice(&zone_edge_list);
        // 1. Which cells each edge touches.
        let mut cell_edge: Vec<(u32, u32)> = Vec::new();
        for (i, e) in zone_edge_list.iter().enumerate() {
            let (c0, c1) = (self.col(e[0].min(e[2])), self.col(e[0].max(e[2])));
            let (r0, r1) = (self.row(e[1].min(e[3])), self.row(e[1].max(e[3])));
            for row in r0..=r1 {
                for col in c0..=c1 {
                    let (x0, y0) = (
                        self.x0 + col as f64 * self.cell_w,
                        self.y0 + row as f64 * self.cell_h,
                    );
                    // A hair of slack so an edge on a cell border is listed in both cells.
                    let slack_x = self.cell_w * 1e-9;
                    let slack_y = self.cell_h * 1e-9;
                    if segment_touches_rect(
                        e,
                        x0 - slack_x,
                        y0 - slack_y,
                        x0 + self.cell_w + slack_x,
                        y0 + self.cell_h + slack_y,
                    ) {
                        cell_edge.push(((row * self.nx + col) as u32, (edges_first + i) as u32));
                    }
                }
            }
        }
        cell_edge.sort_unstable();
        // 2. Row by row: crossings of the reference line y = y_ref, then walk the columns.
        let (c_lo, c_hi, r_lo, r_hi) = zone_edge_list.iter().fold(
            (usize::MAX, 0usize, usize::MAX, 0usize),
            |(c_lo, c_hi, r_lo, r_hi), e| {
                (
                    c_lo.min(self.col(e[0].min(e[2]))),
                    c_hi.max(self.col(e[0].max(e[2]))),
                    r_lo.min(self.row(e[1].min(e[3]))),
                    r_hi.max(self.row(e[1].max(e[3]))),
                )
            },
        );
        let mut edges_by_row: Vec<Vec<u32>> = vec![Vec::new(); r_hi - r_lo + 1];
        for (i, e) in zone_edge_list.iter().enumerate() {
            for row in self.row(e[1].min(e[3]))..=self.row(e[1].max(e[3])) {
                edges_by_row[row - r_lo].push(i as u32);
            }
        }
        let mut crossings: Vec<f64> = Vec::new();
        let mut cursor = 0usize;
        for row in r_lo..=r_hi {
            let y_ref = self.y0 + (row as f64 + REF_FY) * self.cell_h;
            crossings.clear();
            for &i in &edges_by_row[row - r_lo] {
                let e = &zone_edge_list[i as usize];
                if (e[1] > y_ref) != (e[3] > y_ref) {
                    crossings.push(e[0] + (y_ref - e[1]) / (e[3] - e[1]) * (e[2] - e[0]));
                }
            }
            crossings.sort_unstable_by(f64::total_cmp);
            let mut n_left = 0usize;
            for col in c_lo..=c_hi {
                let x_ref = self.x0 + (col as f64 + REF_FX) * self.cell_w;
                while n_left < crossings.len() && crossings[n_left] < x_ref {
                    n_left += 1;
                }
                let reference_inside = n_left % 2 == 1;
                let cell = (row * self.nx + col) as u32;
                while cursor < cell_edge.len() && cell_edge[cursor].0 < cell {
                    cursor += 1;
                }
                let edges_start = self.edge_ids.len() as u32;
                while cursor < cell_edge.len() && cell_edge[cursor].0 == cell {
                    self.edge_ids.push(cell_edge[cursor].1);
                    cursor += 1;
                }
                let edges_len = self.edge_ids.len() as u32 - edges_start;
                if edges_len > 0 || reference_inside {
                    let entry = CellEntry {
                        zone: zone_idx as u32,
                        reference_inside,
                        edges_start,
                        edges_len,
                    };
                    raw_entries.push((cell, entry));
                }
            }
        }
    }

    #[inline]
    fn col(&self, x: f64) -> usize {
        (((x - self.x0) / self.cell_w) as usize).min(self.nx.saturating_sub(1))
    }

    #[inline]
    fn row(&self, y: f64) -> usize {
        (((y - self.y0) / self.cell_h) as usize).min(self.ny.saturating_sub(1))
    }

    /// Appends to `out` every zone containing `p` (caller reuses `out`: no allocation per
    /// lookup once `out` has grown). Points on a boundary may land on either side; invalid
    /// positions contain nothing.
    pub fn zones_containing(&self, p: LatLon, out: &mut Vec<ZoneId>) {
        let (x, y) = (p.lon, p.lat);
        let fx = (x - self.x0) / self.cell_w;
        let fy = (y - self.y0) / self.cell_h;
        // Also rejects NaN: comparisons with NaN are false.
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return;
        }
        let (col, row) = (fx as usize, fy as usize);
        let cell = row * self.nx + col;
        let (start, end) = (
            self.cell_start[cell] as usize,
            self.cell_start[cell + 1] as usize,
        );
        let x_ref = self.x0 + (col as f64 + REF_FX) * self.cell_w;
        let y_ref = self.y0 + (row as f64 + REF_FY) * self.cell_h;
        for entry in &self.entries[start..end] {
            let mut inside = entry.reference_inside;
            let edges_start = entry.edges_start as usize;
            for &edge_idx in &self.edge_ids[edges_start..edges_start + entry.edges_len as usize] {
                if crosses(x_ref, y_ref, x, y, &self.edges[edge_idx as usize]) {
                    inside = !inside;
                }
            }
            if inside {
                out.push(ZoneId(entry.zone));
            }
        }
    }

    /// The zone with this id.
    ///
    /// # Panics
    /// If `id` does not come from this index.
    pub fn zone(&self, id: ZoneId) -> &Zone {
        &self.zones[id.0 as usize]
    }

    /// All zones, indexed by [`ZoneId`].
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// The coastline used for distances.
    pub fn coastline(&self) -> &Coastline {
        &self.coast
    }

    /// Distance in metres from `p` to the nearest coastline (land boundary) known to the
    /// index, if any land is loaded. Measured on the WGS-84 ellipsoid to the nearest point of
    /// the nearest coast segment (found on the sphere).
    pub fn distance_to_coast_m(&self, p: LatLon) -> Option<f64> {
        self.coast.distance_m(p)
    }

    /// [`ZoneIndex::distance_to_coast_m`] on the mean sphere instead of the ellipsoid: within
    /// about 0.5 %, for hot paths (per AIS report) where a few hundred metres do not matter.
    pub fn distance_to_coast_sphere_m(&self, p: LatLon) -> Option<f64> {
        self.coast.distance_sphere_m(p)
    }

    /// First zone of `kind` containing `p`, if any (a convenience over [`ZoneIndex::zones_containing`]).
    pub fn first_of_kind(
        &self,
        p: LatLon,
        kind: ZoneKind,
        scratch: &mut Vec<ZoneId>,
    ) -> Option<&Zone> {
        scratch.clear();
        self.zones_containing(p, scratch);
        scratch
            .iter()
            .map(|&id| self.zone(id))
            .find(|z| z.kind == kind)
    }

    /// Approximate heap bytes held by the index (grid, entries, edges, zones' coordinates).
    pub fn memory_bytes(&self) -> usize {
        let coords: usize = self
            .zones
            .iter()
            .map(|z| geo::CoordsIter::coords_count(&z.polygon) * 16)
            .sum();
        self.cell_start.len() * 4
            + self.entries.len() * std::mem::size_of::<CellEntry>()
            + self.edge_ids.len() * 4
            + self.edges.len() * 32
            + coords
            + self.coast.len() * 64
    }

    /// Grid size `(columns, rows)`, for reports.
    pub fn grid_dims(&self) -> (usize, usize) {
        (self.nx, self.ny)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, MultiPolygon, Point, Polygon};

    fn square_zone(id: &str, x0: f64, y0: f64, size: f64, hole: bool) -> Zone {
        let exterior = vec![
            (x0, y0),
            (x0 + size, y0),
            (x0 + size, y0 + size),
            (x0, y0 + size),
            (x0, y0),
        ];
        let interiors = if hole {
            let (h0, h1) = (x0 + size * 0.25, x0 + size * 0.75);
            let (v0, v1) = (y0 + size * 0.25, y0 + size * 0.75);
            vec![vec![(h0, v0), (h1, v0), (h1, v1), (h0, v1), (h0, v0)].into()]
        } else {
            vec![]
        };
        Zone {
            id: id.to_string(),
            name: id.to_string(),
            kind: ZoneKind::AreaOfInterest,
            owner: String::new(),
            disputed: false,
            approximate: false,
            polygon: MultiPolygon(vec![Polygon::new(exterior.into(), interiors)]),
        }
    }

    #[test]
    fn agrees_with_geo_contains_on_a_grid() {
        let star: Vec<(f64, f64)> = (0..=40)
            .map(|i| {
                let angle = i as f64 / 40.0 * std::f64::consts::TAU;
                let radius = if i % 2 == 0 { 3.0 } else { 1.2 };
                (130.0 + radius * angle.cos(), 35.0 + radius * angle.sin())
            })
            .collect();
        let star_zone = Zone {
            polygon: MultiPolygon(vec![Polygon::new(star.into(), vec![])]),
            ..square_zone("star", 0.0, 0.0, 1.0, false)
        };
        let zones = vec![square_zone("holed", 128.0, 33.0, 4.0, true), star_zone];
        let index = ZoneIndex::new(zones.clone());
        let mut out = Vec::new();
        let mut n_inside = 0;
        for i in 0..200 {
            for j in 0..200 {
                let p = LatLon::new(31.0 + j as f64 * 0.0401, 126.0 + i as f64 * 0.0403);
                out.clear();
                index.zones_containing(p, &mut out);
                for (zone_idx, zone) in zones.iter().enumerate() {
                    let expect = zone.polygon.contains(&Point::new(p.lon, p.lat));
                    let got = out.contains(&ZoneId(zone_idx as u32));
                    assert_eq!(got, expect, "{} at {p:?}", zone.id);
                    n_inside += usize::from(got);
                }
            }
        }
        assert!(n_inside > 1000, "the grid must hit the zones: {n_inside}");
    }

    #[test]
    fn invalid_points_contain_nothing() {
        let index = ZoneIndex::new(vec![square_zone("box", 0.0, 0.0, 1.0, false)]);
        let mut out = Vec::new();
        for p in [
            LatLon::new(f64::NAN, 0.5),
            LatLon::new(0.5, f64::INFINITY),
            LatLon::new(95.0, 0.5),
        ] {
            index.zones_containing(p, &mut out);
        }
        assert!(out.is_empty());
        index.zones_containing(LatLon::new(0.5, 0.5), &mut out);
        assert_eq!(out, vec![ZoneId(0)]);
    }

    #[test]
    fn empty_index_answers_nothing() {
        let index = ZoneIndex::new(vec![]);
        let mut out = Vec::new();
        index.zones_containing(LatLon::new(35.0, 135.0), &mut out);
        assert!(out.is_empty());
        assert_eq!(index.distance_to_coast_m(LatLon::new(35.0, 135.0)), None);
    }
}
