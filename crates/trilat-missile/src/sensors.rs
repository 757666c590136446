//! The sensor registry (SENSORS.json) and radar detections (DETECTIONS.jsonl): types, parsing
//! with line-numbered errors, and the radar measurement model.

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, ErrorKind, Result};
use crate::frames::{ecef_to_enu_rotation, enu_to_rae, Geodetic};

/// Most sensors a registry may hold.
pub const SENSORS_MAX: usize = 1_024;
/// Longest detection line accepted (bytes).
pub const LINE_BYTES_MAX: usize = 4_096;
/// Most detections one file may hold.
pub const DETECTIONS_MAX: usize = 10_000_000;

/// One radar in the registry, as written in SENSORS.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorSpec {
    /// Unique id, referenced by detections.
    pub id: String,
    /// Owning party (ISO 3166 alpha-3: USA, JPN, KOR).
    pub party: String,
    /// Latitude (degrees).
    pub lat: f64,
    /// Longitude (degrees).
    pub lon: f64,
    /// Height above the WGS-84 ellipsoid (m).
    pub height_m: f64,
    /// Kind of sensor, e.g. "AN/TPY-2", "Green Pine", "SPY-1".
    pub kind: String,
    /// Range noise, one sigma (m).
    pub sigma_range_m: f64,
    /// Azimuth noise, one sigma (degrees).
    pub sigma_az_deg: f64,
    /// Elevation noise, one sigma (degrees).
    pub sigma_el_deg: f64,
    /// Range-rate noise, one sigma (m/s), when the sensor measures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_range_rate_mps: Option<f64>,
    /// Maximum detection range (km).
    pub max_range_km: f64,
    /// Minimum elevation above the local horizontal (degrees): the radar horizon.
    pub min_elevation_deg: f64,
    /// Scan rate (Hz); used by the simulator. Defaults to 1 Hz.
    #[serde(default = "default_update_rate")]
    pub update_rate_hz: f64,
}

fn default_update_rate() -> f64 {
    1.0
}

/// A sensor ready for measurement: its spec plus precomputed frames.
#[derive(Debug, Clone)]
pub struct Sensor {
    /// The registry entry.
    pub spec: SensorSpec,
    /// ECEF position (m).
    pub ecef: Vector3<f64>,
    /// Rotation ECEF → local ENU.
    pub enu_rotation: Matrix3<f64>,
}

impl Sensor {
    /// Validates a spec and precomputes its frames.
    pub fn new(spec: SensorSpec) -> std::result::Result<Sensor, ErrorKind> {
        let numbers = [
            ("lat", spec.lat),
            ("lon", spec.lon),
            ("height_m", spec.height_m),
            ("sigma_range_m", spec.sigma_range_m),
            ("sigma_az_deg", spec.sigma_az_deg),
            ("sigma_el_deg", spec.sigma_el_deg),
            ("max_range_km", spec.max_range_km),
            ("min_elevation_deg", spec.min_elevation_deg),
            ("update_rate_hz", spec.update_rate_hz),
        ];
        for (name, value) in numbers {
            if !value.is_finite() {
                return Err(ErrorKind::NotFinite(name));
            }
        }
        if spec.sigma_range_rate_mps.is_some_and(|s| !s.is_finite()) {
            return Err(ErrorKind::NotFinite("sigma_range_rate_mps"));
        }
        if spec.id.is_empty() {
            return Err(ErrorKind::Malformed("empty sensor id".into()));
        }
        if spec.lat.abs() > 90.0 || spec.lon.abs() > 360.0 {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "sensor {} at lat {}, lon {}",
                spec.id, spec.lat, spec.lon
            )));
        }
        if !(-500.0..=50_000.0).contains(&spec.height_m) {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "sensor {} height {} m",
                spec.id, spec.height_m
            )));
        }
        let sigmas_positive = spec.sigma_range_m > 0.0
            && spec.sigma_az_deg > 0.0
            && spec.sigma_el_deg > 0.0
            && spec.sigma_range_rate_mps.is_none_or(|s| s > 0.0);
        if !sigmas_positive {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "sensor {}: noise sigmas must be > 0",
                spec.id
            )));
        }
        if spec.max_range_km <= 0.0 || spec.update_rate_hz <= 0.0 || spec.update_rate_hz > 1000.0 {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "sensor {}: max_range_km and update_rate_hz must be > 0",
                spec.id
            )));
        }
        let ecef = Geodetic::new(spec.lat, spec.lon, spec.height_m).to_ecef();
        let enu_rotation = ecef_to_enu_rotation(spec.lat, spec.lon);
        Ok(Sensor {
            spec,
            ecef,
            enu_rotation,
        })
    }

    /// Range, azimuth, elevation and range rate of a target at ECEF position `r` moving at `v`.
    pub fn measure(&self, r: &Vector3<f64>, v: &Vector3<f64>) -> [f64; 4] {
        let d = r - self.ecef;
        let enu = self.enu_rotation * d;
        let (range, az, el) = enu_to_rae(&enu);
        let range_rate = if range > 0.0 { d.dot(v) / range } else { 0.0 };
        [range, az, el, range_rate]
    }

    /// Whether the target at `r` is inside this radar's coverage (range and horizon).
    pub fn covers(&self, r: &Vector3<f64>) -> bool {
        let [range, _, el, _] = self.measure(r, &Vector3::zeros());
        range <= self.spec.max_range_km * 1000.0 && el >= self.spec.min_elevation_deg
    }
}

/// The sensor registry: sensors by index, looked up by id.
#[derive(Debug, Clone, Default)]
pub struct SensorRegistry {
    sensors: Vec<Sensor>,
}

impl SensorRegistry {
    /// Builds a registry, rejecting duplicate ids and invalid sensors (record number = index + 1).
    pub fn new(specs: Vec<SensorSpec>) -> Result<SensorRegistry> {
        if specs.len() > SENSORS_MAX {
            return Err(Error::new(ErrorKind::Limit {
                what: "sensors",
                max: SENSORS_MAX,
            }));
        }
        let mut sensors: Vec<Sensor> = Vec::with_capacity(specs.len());
        for (idx, spec) in specs.into_iter().enumerate() {
            if sensors.iter().any(|s| s.spec.id == spec.id) {
                return Err(Error::at(idx + 1, ErrorKind::DuplicateSensor(spec.id)));
            }
            sensors.push(Sensor::new(spec).map_err(|kind| Error::at(idx + 1, kind))?);
        }
        Ok(SensorRegistry { sensors })
    }

    /// Parses SENSORS.json (a JSON array of [`SensorSpec`]).
    pub fn from_json(text: &str) -> Result<SensorRegistry> {
        let specs: Vec<SensorSpec> = serde_json::from_str(text)
            .map_err(|e| Error::at(e.line(), ErrorKind::Malformed(e.to_string())))?;
        SensorRegistry::new(specs)
    }

    /// Serialises the registry as SENSORS.json.
    pub fn to_json(&self) -> String {
        let specs: Vec<&SensorSpec> = self.sensors.iter().map(|s| &s.spec).collect();
        serde_json::to_string_pretty(&specs).unwrap_or_default()
    }

    /// The index of a sensor id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.sensors.iter().position(|s| s.spec.id == id)
    }

    /// A sensor by index.
    pub fn get(&self, idx: usize) -> &Sensor {
        &self.sensors[idx]
    }

    /// All sensors.
    pub fn sensors(&self) -> &[Sensor] {
        &self.sensors
    }

    /// Number of sensors.
    pub fn len(&self) -> usize {
        self.sensors.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.sensors.is_empty()
    }
}

/// One detection as written in DETECTIONS.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionRecord {
    /// Sensor id.
    pub sensor: String,
    /// UTC time, RFC 3339.
    pub time: String,
    /// Slant range (m).
    pub range_m: f64,
    /// Azimuth (degrees from true north, clockwise).
    pub az_deg: f64,
    /// Elevation (degrees above the local horizontal).
    pub el_deg: f64,
    /// Range rate (m/s), positive when opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_rate_mps: Option<f64>,
}

/// A validated detection: sensor index, time as Unix seconds, measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Index into the [`SensorRegistry`].
    pub sensor_idx: usize,
    /// Time (Unix seconds, UTC).
    pub time_s: f64,
    /// Slant range (m).
    pub range_m: f64,
    /// Azimuth (degrees).
    pub az_deg: f64,
    /// Elevation (degrees).
    pub el_deg: f64,
    /// Range rate (m/s), if measured.
    pub range_rate_mps: Option<f64>,
}

/// Parses an RFC 3339 UTC time into Unix seconds.
pub fn parse_time(text: &str) -> std::result::Result<f64, ErrorKind> {
    let t =
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| ErrorKind::BadTime(text.to_string()))?;
    Ok(t.unix_timestamp() as f64 + f64::from(t.nanosecond()) * 1e-9)
}

/// Formats Unix seconds as RFC 3339 UTC with millisecond precision.
pub fn format_time(time_s: f64) -> String {
    let nanos = (time_s * 1e3).round() as i128 * 1_000_000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let ms = t.millisecond();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                ms
            )
        }
        Err(_) => format!("invalid-time({time_s})"),
    }
}

impl DetectionRecord {
    /// Validates a record against the registry.
    pub fn validate(&self, registry: &SensorRegistry) -> std::result::Result<Detection, ErrorKind> {
        let sensor_idx = registry
            .index_of(&self.sensor)
            .ok_or_else(|| ErrorKind::UnknownSensor(self.sensor.clone()))?;
        let time_s = parse_time(&self.time)?;
        for (name, value) in [
            ("range_m", self.range_m),
            ("az_deg", self.az_deg),
            ("el_deg", self.el_deg),
        ] {
            if !value.is_finite() {
                return Err(ErrorKind::NotFinite(name));
            }
        }
        if self.range_rate_mps.is_some_and(|v| !v.is_finite()) {
            return Err(ErrorKind::NotFinite("range_rate_mps"));
        }
        if self.range_m <= 0.0 || self.range_m > 50_000_000.0 {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "range {} m",
                self.range_m
            )));
        }
        if !(-90.0..=90.0).contains(&self.el_deg) {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "elevation {}°",
                self.el_deg
            )));
        }
        if !(-360.0..=720.0).contains(&self.az_deg) {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "azimuth {}°",
                self.az_deg
            )));
        }
        if self.range_rate_mps.is_some_and(|v| v.abs() > 20_000.0) {
            return Err(ErrorKind::ImpossibleGeometry(format!(
                "range rate {:?} m/s",
                self.range_rate_mps
            )));
        }
        Ok(Detection {
            sensor_idx,
            time_s,
            range_m: self.range_m,
            az_deg: self.az_deg.rem_euclid(360.0),
            el_deg: self.el_deg,
            range_rate_mps: self.range_rate_mps,
        })
    }
}

impl Detection {
    /// The record form, for writing DETECTIONS.jsonl.
    pub fn to_record(&self, registry: &SensorRegistry) -> DetectionRecord {
        DetectionRecord {
            sensor: registry.get(self.sensor_idx).spec.id.clone(),
            time: format_time(self.time_s),
            range_m: (self.range_m * 10.0).round() / 10.0,
            az_deg: (self.az_deg * 1e6).round() / 1e6,
            el_deg: (self.el_deg * 1e6).round() / 1e6,
            range_rate_mps: self.range_rate_mps.map(|v| (v * 100.0).round() / 100.0),
        }
    }
}

/// Parses DETECTIONS.jsonl: one record per line, blank lines skipped, times non-decreasing.
/// Errors carry the 1-based line number.
pub fn parse_detections(text: &str, registry: &SensorRegistry) -> Result<Vec<Detection>> {
    let mut detections = Vec::new();
    let mut previous: Option<(f64, String)> = None;
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.len() > LINE_BYTES_MAX {
            return Err(Error::at(
                line_no,
                ErrorKind::Limit {
                    what: "bytes per detection line",
                    max: LINE_BYTES_MAX,
                },
            ));
        }
        if detections.len() >= DETECTIONS_MAX {
            return Err(Error::at(
                line_no,
                ErrorKind::Limit {
                    what: "detections per file",
                    max: DETECTIONS_MAX,
                },
            ));
        }
        let record: DetectionRecord = serde_json::from_str(line).map_err(|e| {
            let what = if e.is_eof() {
                format!("truncated line: {e}")
            } else {
                e.to_string()
            };
            Error::at(line_no, ErrorKind::Malformed(what))
        })?;
        let detection = record
            .validate(registry)
            .map_err(|kind| Error::at(line_no, kind))?;
        if let Some((prev_t, prev_text)) = &previous {
            if detection.time_s < *prev_t {
                return Err(Error::at(
                    line_no,
                    ErrorKind::NonMonotonicTime {
                        previous: prev_text.clone(),
                        this: record.time.clone(),
                    },
                ));
            }
        }
        previous = Some((detection.time_s, record.time));
        detections.push(detection);
    }
    Ok(detections)
}
