//! The known test site and the six declared DPRK nuclear tests, as
//! published. The tests' figures are the USGS NEIC catalogue values as the
//! IRIS DMC lists them ("USGS Summary pages for the six North Korea
//! events", IRIS DMC special event "2017 North Korean nuclear test",
//! <http://ds.iris.edu/ds/nodes/dmc/specialevents/2017/09/03/2017-north-korean-nuclear-test/>);
//! the crate's tests check them against the shared table
//! `seismic/dprk_nuclear_tests.csv`.

use time::macros::datetime;
use time::OffsetDateTime;

/// A named place, degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Site {
    /// Name.
    pub name: &'static str,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// Where the coordinates come from.
    pub source: &'static str,
}

/// The Punggye-ri nuclear test site, 41°16′41″N 129°05′15″E (41.27807 N,
/// 129.08741 E), as Wikipedia's article "Punggye-ri Nuclear Test Site"
/// gives it. The six declared tests' USGS epicentres lie within 9 km of
/// this point.
pub const PUNGGYE_RI: Site = Site {
    name: "Punggye-ri nuclear test site",
    lat: 41.278_068,
    lon: 129.087_408,
    source: "Wikipedia, \"Punggye-ri Nuclear Test Site\" (41°16′41″N 129°05′15″E)",
};

/// An approximate box around the DPRK (degrees: south, north, west, east).
/// It also takes in slices of China, Russia and the ROK; it is weak
/// evidence on purpose.
pub const DPRK_BOX: (f64, f64, f64, f64) = (37.6, 43.05, 124.1, 130.75);

/// One declared test, as the USGS catalogue gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeclaredTest {
    /// UTC date, `YYYY-MM-DD`.
    pub date: &'static str,
    /// Origin time (USGS).
    pub origin_time: OffsetDateTime,
    /// Epicentre latitude (USGS).
    pub lat: f64,
    /// Epicentre longitude (USGS).
    pub lon: f64,
    /// Body-wave magnitude mb (USGS).
    pub mb: f64,
}

/// The six declared tests, oldest first (USGS via IRIS DMC; see the module
/// documentation).
pub const DECLARED_TESTS: [DeclaredTest; 6] = [
    DeclaredTest {
        date: "2006-10-09",
        origin_time: datetime!(2006-10-09 01:35:28 UTC),
        lat: 41.294,
        lon: 129.094,
        mb: 4.3,
    },
    DeclaredTest {
        date: "2009-05-25",
        origin_time: datetime!(2009-05-25 00:54:43 UTC),
        lat: 41.303,
        lon: 129.037,
        mb: 4.7,
    },
    DeclaredTest {
        date: "2013-02-12",
        origin_time: datetime!(2013-02-12 02:57:51 UTC),
        lat: 41.299,
        lon: 129.004,
        mb: 5.1,
    },
    DeclaredTest {
        date: "2016-01-06",
        origin_time: datetime!(2016-01-06 01:30:01 UTC),
        lat: 41.300,
        lon: 129.047,
        mb: 5.1,
    },
    DeclaredTest {
        date: "2016-09-09",
        origin_time: datetime!(2016-09-09 00:30:01 UTC),
        lat: 41.287,
        lon: 129.078,
        mb: 5.3,
    },
    DeclaredTest {
        date: "2017-09-03",
        origin_time: datetime!(2017-09-03 03:30:01.940 UTC),
        lat: 41.343,
        lon: 129.036,
        mb: 6.3,
    },
];

/// Geodesic distance on the WGS-84 ellipsoid (Karney), km.
pub fn distance_km(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    use geo::{Distance, Geodesic, Point};
    Geodesic.distance(Point::new(lon_a, lat_a), Point::new(lon_b, lat_b)) / 1000.0
}

/// True inside [`DPRK_BOX`].
pub fn in_dprk_box(lat: f64, lon: f64) -> bool {
    let (south, north, west, east) = DPRK_BOX;
    (south..=north).contains(&lat) && (west..=east).contains(&lon)
}
