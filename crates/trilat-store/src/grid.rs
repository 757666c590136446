//! The spatial grid (both database stores): the `cell` column that stands in for an R*Tree, and
//! the cells a bbox query reads.

use trilat_core::Report;

/// Side of a spatial grid cell, degrees. Maritime and missile reports are
/// points or small boxes; a bbox query of a few degrees reads a few dozen
/// cells.
pub(crate) const CELL_DEG: f64 = 0.5;
/// Cells per row of the grid (longitude).
pub(crate) const CELL_COLUMNS: i64 = (360.0 / CELL_DEG) as i64;
/// Cells per column of the grid (latitude).
pub(crate) const CELL_ROWS: i64 = (180.0 / CELL_DEG) as i64;
/// The `cell` of a box too large for one cell: every bbox query reads them.
pub(crate) const CELL_BIG: i64 = -1;
/// Most cells one bbox query lists; a larger box reads the table in seq
/// order with the exact comparison instead (such a box matches most
/// geometries anyway).
pub(crate) const QUERY_CELLS_MAX: usize = 4096;

/// The grid cell holding `(lon, lat)`, clamped to the grid. Monotonic in
/// both coordinates, which is what makes [`query_cells`] a superset.
pub(crate) fn cell_xy(lon: f64, lat: f64) -> (i64, i64) {
    let x = ((lon + 180.0) / CELL_DEG).floor() as i64;
    let y = ((lat + 90.0) / CELL_DEG).floor() as i64;
    (x.clamp(0, CELL_COLUMNS - 1), y.clamp(0, CELL_ROWS - 1))
}

/// The `cell` of a bounding box: its south-west corner's cell when the box
/// spans at most half a cell each way (so it lies within that cell and the
/// next one east and north), otherwise [`CELL_BIG`].
pub(crate) fn bbox_cell([west, south, east, north]: [f64; 4]) -> i64 {
    debug_assert!(west <= east && south <= north);
    if east - west > CELL_DEG / 2.0 || north - south > CELL_DEG / 2.0 {
        return CELL_BIG;
    }
    let (x, y) = cell_xy(west, south);
    y * CELL_COLUMNS + x
}

/// The cells a box intersecting `query` can have: small boxes whose
/// south-west corner is at most one cell west or south of the query's,
/// plus [`CELL_BIG`]. `None` when that is more than [`QUERY_CELLS_MAX`].
pub(crate) fn query_cells([west, south, east, north]: [f64; 4]) -> Option<Vec<i64>> {
    // A small box [w, s, e, n] intersects the query iff w <= east,
    // e >= west, ...; with e <= w + CELL_DEG / 2 that needs
    // w >= west - CELL_DEG: the x range below (same for y).
    let (x_min, y_min) = cell_xy(west - CELL_DEG, south - CELL_DEG);
    let (x_max, y_max) = cell_xy(east, north);
    let n_cells = ((x_max - x_min + 1) * (y_max - y_min + 1)) as usize;
    if n_cells > QUERY_CELLS_MAX {
        return None;
    }
    let mut cells = Vec::with_capacity(n_cells + 1);
    cells.push(CELL_BIG);
    for y in y_min..=y_max {
        cells.extend((x_min..=x_max).map(|x| y * CELL_COLUMNS + x));
    }
    Some(cells)
}

/// The spatial columns of a version: its bounding box and grid cell.
pub(crate) struct QueryColumns {
    pub(crate) bbox: [Option<f64>; 4],
    pub(crate) cell: Option<i64>,
}

impl QueryColumns {
    pub(crate) fn of(report: &Report) -> QueryColumns {
        let bbox = report.bbox();
        QueryColumns {
            bbox: bbox.map_or([None; 4], |b| b.map(Some)),
            cell: bbox.map(bbox_cell),
        }
    }
}
