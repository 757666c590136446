//! Ports from the NGA World Port Index (Pub. 150 CSV), with a grid index for
//! "nearest port within r metres" — used for port calls and, as anchorage
//! proxies, to keep harbour traffic out of encounter detection.

use std::collections::HashMap;

/// Most ports accepted from one file (Pub. 150 has about 3,800).
pub const PORTS_MAX: usize = 20_000;
/// Grid cell size in degrees.
const CELL_DEG: f64 = 0.5;

/// One port.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Port {
    /// World Port Index number.
    pub wpi: u32,
    /// Main port name.
    pub name: String,
    /// Country name as the WPI gives it.
    pub country: String,
    /// UN/LOCODE, empty when none.
    pub locode: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

/// A WPI file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("World Port Index line {line}: {what}")]
pub struct PortsError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

/// Ports with a spatial grid.
#[derive(Clone, Debug, Default)]
pub struct PortIndex {
    ports: Vec<Port>,
    grid: HashMap<(i32, i32), Vec<u32>>,
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    (
        (lat / CELL_DEG).floor() as i32,
        (lon / CELL_DEG).floor() as i32,
    )
}

impl PortIndex {
    /// Parses the WPI CSV (header row naming `World Port Index Number`,
    /// `Main Port Name`, `UN/LOCODE`, `Country Code`, `Latitude`, `Longitude`).
    pub fn parse_wpi_csv(text: &str) -> Result<PortIndex, PortsError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| PortsError {
                line: 1,
                what: e.to_string(),
            })?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| PortsError {
                    line: 1,
                    what: format!("no column {name:?}"),
                })
        };
        let (c_wpi, c_name, c_locode) = (
            col("World Port Index Number")?,
            col("Main Port Name")?,
            col("UN/LOCODE")?,
        );
        let (c_country, c_lat, c_lon) = (col("Country Code")?, col("Latitude")?, col("Longitude")?);
        let mut ports = Vec::new();
        for (i, row) in reader.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| PortsError {
                line,
                what: e.to_string(),
            })?;
            if ports.len() >= PORTS_MAX {
                return Err(PortsError {
                    line,
                    what: format!("more than {PORTS_MAX} ports"),
                });
            }
            let get = |c: usize| row.get(c).unwrap_or("").trim();
            let number = |c: usize, what: &str| {
                get(c)
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| PortsError {
                        line,
                        what: format!("{what} is not a number"),
                    })
            };
            let (lat, lon) = (number(c_lat, "Latitude")?, number(c_lon, "Longitude")?);
            if lat.abs() > 90.0 || lon.abs() > 180.0 {
                return Err(PortsError {
                    line,
                    what: "position out of range".into(),
                });
            }
            ports.push(Port {
                wpi: number(c_wpi, "World Port Index Number")? as u32,
                name: get(c_name).to_string(),
                country: get(c_country).to_string(),
                locode: get(c_locode).to_string(),
                lat,
                lon,
            });
        }
        Ok(PortIndex::new(ports))
    }

    /// The NGA World Port Index ports shipped with Trilat (`data/ports.csv`, 2,951 ports;
    /// source, licence and what is missing in `data/PROVENANCE.md`): what the CLI and the node
    /// use when no index is configured.
    pub fn shipped() -> Result<PortIndex, PortsError> {
        PortIndex::parse_wpi_csv(include_str!("../data/ports.csv"))
    }

    /// Indexes ports (at most [`PORTS_MAX`]; more are dropped, asserted in debug).
    pub fn new(mut ports: Vec<Port>) -> PortIndex {
        debug_assert!(ports.len() <= PORTS_MAX);
        ports.truncate(PORTS_MAX);
        let mut grid: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        for (i, p) in ports.iter().enumerate() {
            grid.entry(cell(p.lat, p.lon)).or_default().push(i as u32);
        }
        PortIndex { ports, grid }
    }

    /// All ports.
    pub fn ports(&self) -> &[Port] {
        &self.ports
    }

    /// The nearest port within `radius_m` (≤ 50 km) of a position, with its
    /// distance.
    pub fn nearest_within(&self, lat: f64, lon: f64, radius_m: f64) -> Option<(&Port, f64)> {
        debug_assert!(radius_m <= 55_000.0, "grid search covers one cell around");
        let (cy, cx) = cell(lat, lon);
        let mut best: Option<(&Port, f64)> = None;
        for dy in -1..=1 {
            for dx in -1..=1 {
                for &i in self.grid.get(&(cy + dy, cx + dx)).into_iter().flatten() {
                    let p = &self.ports[i as usize];
                    let d = trilat_geo::haversine_m(
                        trilat_geo::LatLon::new(lat, lon),
                        trilat_geo::LatLon::new(p.lat, p.lon),
                    );
                    if d <= radius_m && best.is_none_or(|(_, bd)| d < bd) {
                        best = Some((p, d));
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WPI_FIXTURE: &str = "World Port Index Number,Region Name,Main Port Name,Alternate Port Name,UN/LOCODE,Country Code,Latitude,Longitude\n\
60280,North Korea -- 60280,Nampo, , ,North Korea,38.716667,125.4\n\
61460,Korea -- 61460,Incheon, ,KR INC,South Korea,37.466667,126.616667\n";

    #[test]
    fn parse_and_lookup() {
        let index = PortIndex::parse_wpi_csv(WPI_FIXTURE).unwrap();
        assert_eq!(index.ports().len(), 2);
        let (port, d) = index.nearest_within(38.72, 125.38, 5_000.0).unwrap();
        assert_eq!(port.name, "Nampo");
        assert!(d < 2_500.0, "{d}");
        assert!(index.nearest_within(36.0, 124.0, 5_000.0).is_none());
    }

    #[test]
    fn the_shipped_index_has_the_ports_of_the_region() {
        let index = PortIndex::shipped().unwrap();
        assert_eq!(index.ports().len(), 2_951);
        for (lat, lon, name) in [
            (38.72, 125.38, "Nampo"),
            (37.47, 126.62, "Inchon"),
            (35.10, 129.03, "Busan"),
            (41.77, 129.82, "Ch'ongjin"),
        ] {
            let (port, _) = index.nearest_within(lat, lon, 5_000.0).unwrap();
            assert_eq!(port.name, name);
        }
    }

    #[test]
    fn bad_rows_are_errors_with_line() {
        let bad = WPI_FIXTURE.replace("38.716667", "north");
        assert_eq!(PortIndex::parse_wpi_csv(&bad).unwrap_err().line, 2);
        let err = PortIndex::parse_wpi_csv("a,b\n1,2\n").unwrap_err();
        assert!(err.what.contains("World Port Index Number"));
    }
}
