//! Maritime and land zones as the assessment needs them: is a point on land, inside a party's
//! territory (land + 12 nm territorial sea), inside its exclusive economic zone?
//!
//! The assessment asks a [`ZoneOracle`]. The zones themselves come from the shared geography
//! crate, `trilat-geo`, so the missile engine, the AIS engine, the CLI and the node answer
//! "whose water is this?" the same way: [`GeoZones`] adapts a [`trilat_geo::ZoneIndex`]
//! (land, territorial sea, contiguous zone, EEZ with median lines and the known disputes, all
//! computed by trilat-geo and flagged approximate; official EEZ polygons can replace a state's
//! computed one, see `docs/geo.md`). As in trilat-geo, the EEZ is the water from 12 nm to
//! 200 nm: an impact in Japan's territorial sea counts as Japanese territory, not as its EEZ.
//!
//! Architecture invariant: this crate holds no coastline or polygon code of its own.

use std::sync::{Arc, OnceLock};

use trilat_geo::{Geography, LatLon, MaritimeOptions, ZoneIndex, ZoneKind};

use crate::error::{Error, ErrorKind, Result};

/// A party code (ISO 3166 alpha-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyCode(pub [u8; 3]);

impl PartyCode {
    /// From a three-letter code; `None` unless three ASCII uppercase letters.
    pub fn new(code: &str) -> Option<PartyCode> {
        let b = code.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_uppercase))
            .then(|| PartyCode([b[0], b[1], b[2]]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

/// Japan.
pub const JPN: PartyCode = PartyCode(*b"JPN");

/// What a point is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZoneCall {
    /// On land (any country).
    pub on_land: bool,
    /// Owner of the territory (land or territorial sea) the point is in.
    pub territory: Option<PartyCode>,
    /// Owner of the EEZ the point is in (sea only).
    pub eez: Option<PartyCode>,
}

/// Answers zone questions for the assessment.
pub trait ZoneOracle {
    /// Classifies a point (degrees).
    fn classify(&self, lat_deg: f64, lon_deg: f64) -> ZoneCall;
    /// Whether the zones are approximate (computed, not official).
    fn approximate(&self) -> bool;
}

/// No zones known: everything is open sea. Assessments then report zero probabilities and say
/// zones were unavailable. Only for tests and evaluations that are about tracking, not zones:
/// the CLI and the node use [`GeoZones::shipped`] when no zones file is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoZones;

impl ZoneOracle for NoZones {
    fn classify(&self, _: f64, _: f64) -> ZoneCall {
        ZoneCall::default()
    }
    fn approximate(&self) -> bool {
        true
    }
}

/// Box the CLI builds zones for from Natural Earth (degrees: lon 115–150°E, lat 15–50°N):
/// launches from the DPRK, the Korean peninsula, Japan and the seas an impact can reach
/// inside the ranges the assessment handles.
pub const NORTH_EAST_ASIA_BOX: [f64; 4] = [115.0, 15.0, 150.0, 50.0];

/// Zones from the shared geography crate, as the assessment asks them. Cheap to clone (the
/// index is shared), so evaluation runs and engines can each hold one.
#[derive(Clone)]
pub struct GeoZones {
    index: Arc<ZoneIndex>,
    approximate: bool,
}

impl std::fmt::Debug for GeoZones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoZones")
            .field("zones", &self.index.zones().len())
            .field("approximate", &self.approximate)
            .finish()
    }
}

impl GeoZones {
    /// Zones from an index built by trilat-geo.
    pub fn new(index: ZoneIndex) -> GeoZones {
        let approximate = index.zones().iter().any(|zone| zone.approximate);
        GeoZones {
            index: Arc::new(index),
            approximate,
        }
    }

    /// trilat-geo's small hand-made fixture (coarse Japan, Korea, a piece of China): for tests
    /// and demos without real data.
    pub fn fixture() -> GeoZones {
        GeoZones::new(ZoneIndex::new(trilat_geo::fixture_zones()))
    }

    /// Zones computed from the Natural Earth countries shipped with Trilat
    /// ([`trilat_geo::shipped_countries_topojson`], 1:10m) for [`NORTH_EAST_ASIA_BOX`]: what the
    /// CLI and the node use when no zones file is configured. Built once per process (a few
    /// seconds, see `docs/bench/geo.md`) and shared: later calls clone the shared index.
    pub fn shipped() -> Result<GeoZones> {
        static SHIPPED: OnceLock<std::result::Result<GeoZones, String>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| GeoZones::from_shipped(None).map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| Error::new(ErrorKind::Malformed(e)))
    }

    /// [`GeoZones::shipped`] with Japan's computed EEZ replaced by official polygons (GeoJSON);
    /// built afresh on each call.
    pub fn shipped_with_official_jpn_eez(official_jpn_eez: &str) -> Result<GeoZones> {
        GeoZones::from_shipped(Some(official_jpn_eez))
    }

    fn from_shipped(official_jpn_eez: Option<&str>) -> Result<GeoZones> {
        let topojson = trilat_geo::shipped_countries_topojson()
            .map_err(|e| Error::new(ErrorKind::Malformed(format!("shipped zones: {e}"))))?;
        GeoZones::from_natural_earth(&topojson, official_jpn_eez)
    }

    /// Builds land and maritime zones for [`NORTH_EAST_ASIA_BOX`] from Natural Earth TopoJSON
    /// (world-atlas `countries-10m.json` or `-50m`), optionally replacing Japan's computed EEZ
    /// with official polygons (GeoJSON, e.g. Marine Regions). Takes seconds (see
    /// `docs/bench/geo.md`).
    pub fn from_natural_earth(topojson: &[u8], official_jpn_eez: Option<&str>) -> Result<GeoZones> {
        let [lon_min, lat_min, lon_max, lat_max] = NORTH_EAST_ASIA_BOX;
        let options =
            MaritimeOptions::north_east_asia(geo_rect(lon_min, lat_min, lon_max, lat_max));
        let mut geography = Geography::from_natural_earth(topojson, &options)
            .map_err(|e| Error::new(ErrorKind::Malformed(format!("zones: {e}"))))?;
        if let Some(text) = official_jpn_eez {
            let official = trilat_geo::parse_geojson_zones(text, ZoneKind::Eez)
                .map_err(|e| Error::new(ErrorKind::Malformed(format!("official EEZ: {e}"))))?
                .into_iter()
                .map(|mut zone| {
                    zone.owner = "JPN".to_string();
                    zone.approximate = false;
                    zone
                })
                .collect();
            geography = geography.with_official_eez("JPN", official);
        }
        Ok(GeoZones::new(geography.index().clone()))
    }

    /// The underlying index.
    pub fn index(&self) -> &ZoneIndex {
        &self.index
    }
}

fn geo_rect(lon_min: f64, lat_min: f64, lon_max: f64, lat_max: f64) -> geo::Rect<f64> {
    geo::Rect::new((lon_min, lat_min), (lon_max, lat_max))
}

impl ZoneOracle for GeoZones {
    fn classify(&self, lat_deg: f64, lon_deg: f64) -> ZoneCall {
        let mut ids = Vec::new();
        self.index.zones_containing(
            LatLon {
                lat: lat_deg,
                lon: lon_deg,
            },
            &mut ids,
        );
        let mut call = ZoneCall::default();
        for id in ids {
            let zone = self.index.zone(id);
            let owner = PartyCode::new(&zone.owner);
            match zone.kind {
                ZoneKind::Land => {
                    call.on_land = true;
                    call.territory = call.territory.or(owner);
                }
                ZoneKind::TerritorialSea => call.territory = call.territory.or(owner),
                ZoneKind::Eez => call.eez = call.eez.or(owner),
                _ => {}
            }
        }
        debug_assert!(!(call.on_land && call.eez.is_some()) || call.territory.is_some());
        call
    }

    fn approximate(&self) -> bool {
        self.approximate
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[track_caller]
    fn check(lat: f64, lon: f64, on_land: bool, territory: Option<&str>, eez: Option<&str>) {
        let call = GeoZones::fixture().classify(lat, lon);
        assert_eq!(call.on_land, on_land, "{lat},{lon}");
        assert_eq!(
            call.territory.map(|p| p.as_str().to_string()).as_deref(),
            territory,
            "{lat},{lon}"
        );
        assert_eq!(
            call.eez.map(|p| p.as_str().to_string()).as_deref(),
            eez,
            "{lat},{lon}"
        );
    }

    #[test]
    fn classifies_land_territorial_sea_eez_and_high_seas() {
        check(35.68, 139.77, true, Some("JPN"), None); // Tokyo
        check(37.57, 126.98, true, Some("KOR"), None); // Seoul
        check(39.03, 125.75, true, Some("PRK"), None); // Pyongyang
        check(38.0, 137.0, false, None, Some("JPN")); // Sea of Japan, ≈ 100 nm off Honshu
        check(30.0, 147.0, false, None, None); // Pacific, beyond 200 nm
    }

    #[test]
    fn zones_are_flagged_approximate() {
        assert!(GeoZones::fixture().approximate());
        assert!(NoZones.approximate());
        assert_eq!(NoZones.classify(35.68, 139.77), ZoneCall::default());
    }

    #[test]
    fn shipped_zones_know_japan_korea_and_the_sea_between() {
        let zones = GeoZones::shipped().unwrap();
        assert!(zones.approximate());
        let call = |lat, lon| zones.classify(lat, lon);
        let (jpn, kor) = (Some(JPN), PartyCode::new("KOR"));
        assert_eq!(call(35.68, 139.77).territory, jpn); // Tokyo
        assert!(call(35.68, 139.77).on_land);
        assert_eq!(call(37.57, 126.98).territory, kor); // Seoul
        assert_eq!(call(40.0, 136.5).eez, jpn); // Sea of Japan west of Akita
        assert_eq!(call(30.0, 147.0), ZoneCall::default()); // Pacific beyond 200 nm
                                                            // The second call shares the first one's index.
        assert!(Arc::ptr_eq(
            &zones.index,
            &GeoZones::shipped().unwrap().index
        ));
    }

    #[test]
    fn natural_earth_errors_are_typed() {
        let err = GeoZones::from_natural_earth(b"{", None).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Malformed(_)), "{err:?}");
    }
}
