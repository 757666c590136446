//! Outline tracing: the union of lattice-aligned squares (quadtree leaves) as polygons.
//!
//! Each square contributes its counter-clockwise boundary as unit lattice edges; an edge
//! met in both directions is interior and cancels. What remains is the outline, chained into
//! rings (counter-clockwise exteriors, clockwise holes) with collinear runs merged. Linear in
//! the leaves' total perimeter, with no floating-point predicates: much faster than a general
//! polygon union on hundreds of thousands of squares.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// Lattice directions, counter-clockwise order: a left turn is `+1 mod 4`.
const STEPS: [(i32, i32); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// Squares as `(i0, j0, size)` in lattice units; lattice point (i, j) is at
/// `(x0 + i * step, y0 + j * step)`.
pub(crate) fn trace_squares(
    squares: impl IntoIterator<Item = (i32, i32, i32)>,
    x0: f64,
    y0: f64,
    step: f64,
) -> MultiPolygon<f64> {
    // Outgoing directions per vertex, as a 4-bit mask.
    let mut outgoing: HashMap<(i32, i32), u8> = HashMap::new();
    let mut toggle = |from: (i32, i32), dir: usize| {
        let (dx, dy) = STEPS[dir];
        let to = (from.0 + dx, from.1 + dy);
        let back = (dir + 2) % 4;
        if let Some(mask) = outgoing.get_mut(&to) {
            if *mask & (1 << back) != 0 {
                *mask &= !(1 << back);
                if *mask == 0 {
                    outgoing.remove(&to);
                }
                return;
            }
        }
        *outgoing.entry(from).or_insert(0) |= 1 << dir;
    };
    for (i0, j0, size) in squares {
        assert!(size > 0, "a square has a positive size");
        // Counter-clockwise: bottom (east), right (north), top (west), left (south).
        for (dir, start) in [
            (0, (i0, j0)),
            (1, (i0 + size, j0)),
            (2, (i0 + size, j0 + size)),
            (3, (i0, j0 + size)),
        ] {
            let (dx, dy) = STEPS[dir];
            for k in 0..size {
                toggle((start.0 + dx * k, start.1 + dy * k), dir);
            }
        }
    }
    let rings = chain_rings(&mut outgoing);
    assemble(rings, x0, y0, step)
}

fn take_edge(outgoing: &mut HashMap<(i32, i32), u8>, at: (i32, i32), dir: usize) {
    let mask = outgoing.get_mut(&at).expect("edge exists");
    *mask &= !(1 << dir);
    if *mask == 0 {
        outgoing.remove(&at);
    }
}

/// Follows edges into closed rings of lattice corners (turning points only).
fn chain_rings(outgoing: &mut HashMap<(i32, i32), u8>) -> Vec<Vec<(i32, i32)>> {
    let mut rings = Vec::new();
    while let Some((&start, &mask)) = outgoing.iter().next() {
        let first_dir = mask.trailing_zeros() as usize;
        let mut dir = first_dir;
        let mut ring = vec![start];
        let mut at = start;
        loop {
            take_edge(outgoing, at, dir);
            let (dx, dy) = STEPS[dir];
            at = (at.0 + dx, at.1 + dy);
            if at == start {
                // The walk may have started mid-edge: then the start is no corner.
                if dir == first_dir {
                    ring.remove(0);
                }
                break;
            }
            let mask = *outgoing
                .get(&at)
                .expect("an outline is closed: every vertex has an exit");
            // Prefer a left turn, then straight, then right: keeps touching rings separate.
            let next = [(dir + 1) % 4, dir, (dir + 3) % 4]
                .into_iter()
                .find(|&d| mask & (1 << d) != 0)
                .expect("an outline never reverses");
            if next != dir {
                ring.push(at);
            }
            dir = next;
        }
        rings.push(ring);
    }
    rings
}

fn signed_area2(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|k| {
            let (a, b) = (ring[k], ring[(k + 1) % n]);
            a.0 as i64 * b.1 as i64 - b.0 as i64 * a.1 as i64
        })
        .sum()
}

/// Even-odd test of a lattice point (offset by half a cell so it never lies on an edge).
fn ring_contains(ring: &[(i32, i32)], p: (i32, i32)) -> bool {
    let (px, py) = (p.0 as f64 + 0.5, p.1 as f64 + 0.5);
    let n = ring.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        let (ay, by) = (a.1 as f64, b.1 as f64);
        if (ay > py) != (by > py) {
            let x = a.0 as f64 + (py - ay) / (by - ay) * (b.0 - a.0) as f64;
            if x > px {
                inside = !inside;
            }
        }
    }
    inside
}

fn assemble(rings: Vec<Vec<(i32, i32)>>, x0: f64, y0: f64, step: f64) -> MultiPolygon<f64> {
    let (exteriors, holes): (Vec<_>, Vec<_>) = rings.into_iter().partition(|r| signed_area2(r) > 0);
    let bbox = |r: &[(i32, i32)]| {
        r.iter()
            .fold((i32::MAX, i32::MAX, i32::MIN, i32::MIN), |b, p| {
                (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1))
            })
    };
    let ext_bboxes: Vec<_> = exteriors.iter().map(|r| bbox(r)).collect();
    let mut holes_of: Vec<Vec<Vec<(i32, i32)>>> = vec![Vec::new(); exteriors.len()];
    for hole in holes {
        // The cell just inside the hole's first corner, on the hole's right (holes run clockwise).
        let probe = hole_probe(&hole);
        let owner = (0..exteriors.len())
            .filter(|&e| {
                let b = ext_bboxes[e];
                probe.0 >= b.0
                    && probe.0 < b.2
                    && probe.1 >= b.1
                    && probe.1 < b.3
                    && ring_contains(&exteriors[e], probe)
            })
            .min_by_key(|&e| signed_area2(&exteriors[e]));
        if let Some(e) = owner {
            holes_of[e].push(hole);
        }
    }
    let to_line = |r: &[(i32, i32)]| -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = r
            .iter()
            .map(|&(i, j)| Coord {
                x: x0 + i as f64 * step,
                y: y0 + j as f64 * step,
            })
            .collect();
        coords.push(coords[0]);
        LineString::new(coords)
    };
    let polygons = exteriors
        .iter()
        .zip(holes_of)
        .map(|(ext, holes)| Polygon::new(to_line(ext), holes.iter().map(|h| to_line(h)).collect()))
        .collect();
    MultiPolygon(polygons)
}

/// A lattice cell lying in the hole's surrounding region (outside the hole, next to its edge).
fn hole_probe(hole: &[(i32, i32)]) -> (i32, i32) {
    // Holes run clockwise, so the surrounding region is on the left of each edge. For the
    // first edge a→b in direction d, the cell on its left starts at a for east/north edges.
    let (a, b) = (hole[0], hole[1]);
    let (dx, dy) = ((b.0 - a.0).signum(), (b.1 - a.1).signum());
    match (dx, dy) {
        (1, 0) => (a.0, a.1),          // east: cell above
        (0, 1) => (a.0 - 1, a.1),      // north: cell to the left
        (-1, 0) => (a.0 - 1, a.1 - 1), // west: cell below
        _ => (a.0, a.1 - 1),           // south: cell to the right
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, Point};

    #[test]
    fn two_squares_merge_and_a_ring_has_a_hole() {
        // Two adjacent unit squares: one 2x1 rectangle, 4 corners.
        let m = trace_squares([(0, 0, 1), (1, 0, 1)], 0.0, 0.0, 1.0);
        assert_eq!(m.0.len(), 1);
        assert_eq!(m.0[0].exterior().0.len(), 5);
        assert!((m.unsigned_area() - 2.0).abs() < 1e-12);
        // A 3x3 ring of 8 unit squares: one polygon with one hole.
        let ring: Vec<_> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j, 1)))
            .filter(|&(i, j, _)| (i, j) != (1, 1))
            .collect();
        let m = trace_squares(ring, 10.0, 20.0, 0.5);
        assert_eq!(m.0.len(), 1);
        assert_eq!(m.0[0].interiors().len(), 1);
        assert!((m.unsigned_area() - 8.0 * 0.25).abs() < 1e-12);
        assert!(!m.contains(&Point::new(10.75, 20.75)));
        assert!(m.contains(&Point::new(10.25, 20.25)));
    }

    #[test]
    fn diagonal_squares_stay_two_rings_and_sizes_mix() {
        let m = trace_squares([(0, 0, 1), (1, 1, 1)], 0.0, 0.0, 1.0);
        assert_eq!(m.0.len(), 2);
        // A 2x2 square beside two unit squares: 2x3 minus nothing = area 4 + 2.
        let m = trace_squares([(0, 0, 2), (2, 0, 1), (2, 1, 1)], 0.0, 0.0, 1.0);
        assert_eq!(m.0.len(), 1);
        assert_eq!(m.0[0].exterior().0.len(), 5);
        assert!((m.unsigned_area() - 6.0).abs() < 1e-12);
    }
}
