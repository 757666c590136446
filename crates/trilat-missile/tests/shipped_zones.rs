//! The zones shipped with Trilat (Natural Earth 1:10m, embedded): the demo's flights get a real
//! EEZ call without any data on disk. When the shared test data is present, the shipped file is
//! checked to be its 1:10m file, and the 1:50m zones are measured against it: the reason the
//! 10m data is shipped (the figures in docs/missile.md come from this test's output).
use trilat_missile::assess::Assessment;
use trilat_missile::eval::assess_all;
use trilat_missile::frames::Geodetic;
use trilat_missile::sensors::SensorRegistry;
use trilat_missile::sim::{self, FlightSpec, Profile, RadarSettings, Trajectory};
use trilat_missile::zones::{GeoZones, ZoneOracle, JPN};

const LAUNCH_S: f64 = 1.767e9;

/// The flights a user meets first, by name: the lofted ICBM of `sim::demo_scenario`, the node
/// demo's short-range flight (trilat-node `engines::demo::demo_flight`: bearing 75°, apogee
/// 200 km, range 900 km, 30 s burn) and what `trilat missile simulate` flies by default
/// (bearing 80°, range 950 km, lofted profile).
fn demo_flights() -> Vec<(&'static str, Trajectory)> {
    let sunan = Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 30.0);
    let (_, icbm, _) = sim::demo_scenario(LAUNCH_S, 1).expect("demo scenario flies");
    let node_demo = FlightSpec {
        burn_time_s: 30.0,
        ..FlightSpec::typical(sunan, LAUNCH_S, 75.0, 200.0, 900.0)
    };
    let simulate_default = FlightSpec::typical(
        Geodetic::new(sim::SITE_SUNAN.0, sim::SITE_SUNAN.1, 20.0),
        LAUNCH_S,
        80.0,
        Profile::Lofted.apogee_for_range_km(950.0),
        950.0,
    );
    vec![
        ("lofted ICBM (sim::demo_scenario)", icbm[0].clone()),
        (
            "node demo flight",
            sim::fly(&node_demo).expect("node demo flies"),
        ),
        (
            "`missile simulate` default",
            sim::fly(&simulate_default).expect("simulate default flies"),
        ),
    ]
}

/// The final assessment of a single flight.
fn final_assessment(
    registry: &SensorRegistry,
    flight: &Trajectory,
    zones: &GeoZones,
) -> Assessment {
    let detections = sim::detect(
        registry,
        std::slice::from_ref(flight),
        &RadarSettings::default(),
        7,
    )
    .expect("detections");
    let timeline = assess_all(
        registry,
        Box::new(zones.clone()),
        &detections,
        Default::default(),
    )
    .expect("assessed");
    timeline.last().expect("at least one assessment").clone()
}

/// A Natural Earth file of the shared test data, when present.
fn shared(name: &str) -> Option<Vec<u8>> {
    let data = std::env::var_os("TRILAT_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into());
    let path = data.join("zones/natural_earth_world_atlas").join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!("skipping: {} ({e}; set TRILAT_SHARED_DATA)", path.display());
            None
        }
    }
}

#[test]
fn the_demo_flights_get_a_real_eez_call_from_the_shipped_zones() {
    let registry = SensorRegistry::new(sim::default_sensors()).expect("default sensors");
    let shipped = GeoZones::shipped().expect("shipped zones build");
    for (name, flight) in demo_flights() {
        // Every one of these falls in the Sea of Japan inside Japan's (computed) EEZ.
        let truth = shipped.classify(flight.impact.lat_deg, flight.impact.lon_deg);
        assert_eq!(
            truth.eez,
            Some(JPN),
            "{name}: true impact {:?}",
            flight.impact
        );
        let a = final_assessment(&registry, &flight, &shipped);
        eprintln!(
            "{name}: impact {:.3}N {:.3}E, class {}, P(JPN EEZ) {:.3}, P(JPN terr.) {:.3}",
            flight.impact.lat_deg,
            flight.impact.lon_deg,
            a.class.as_str(),
            a.p_impact_in_jpn_eez,
            a.p_impact_in_jpn_territory
        );
        assert!(
            a.p_impact_in_jpn_eez >= 0.9,
            "{name}: P(JPN EEZ) {} from the shipped zones",
            a.p_impact_in_jpn_eez
        );
        assert!(
            a.zones_approximate,
            "{name}: computed zones are approximate"
        );
    }
}

/// Why 1:10m is shipped: the same test with 1:50m zones (the console's basemap file), and a
/// 0.1° grid over the seas around Japan and Korea classified by both.
#[test]
fn the_shipped_file_is_the_10m_one_and_50m_would_move_the_eez() {
    if let Some(ten) = shared("countries-10m.json") {
        let shipped = trilat_geo::shipped_countries_topojson().unwrap();
        assert!(
            shipped == ten,
            "the shipped file is not the shared countries-10m.json"
        );
    }
    let Some(fifty) = shared("countries-50m.json") else {
        return;
    };
    let fifty = GeoZones::from_natural_earth(&fifty, None).unwrap();
    let shipped = GeoZones::shipped().unwrap();
    let registry = SensorRegistry::new(sim::default_sensors()).expect("default sensors");
    for (name, flight) in demo_flights() {
        let (a, b) = (
            final_assessment(&registry, &flight, &shipped),
            final_assessment(&registry, &flight, &fifty),
        );
        eprintln!(
            "{name}: P(JPN EEZ) 10m {:.3}, 50m {:.3}; true impact in 50m zones: {:?}",
            a.p_impact_in_jpn_eez,
            b.p_impact_in_jpn_eez,
            fifty.classify(flight.impact.lat_deg, flight.impact.lon_deg)
        );
    }
    let (mut n, mut eez_differs, mut territory_differs) = (0u32, 0u32, 0u32);
    // 0.1° grid over 124–146°E, 28–46°N: the Sea of Japan, the East China Sea, the Pacific
    // east of Honshu.
    for i in 0..=220 {
        for j in 0..=180 {
            let (lon, lat) = (124.0 + 0.1 * f64::from(i), 28.0 + 0.1 * f64::from(j));
            let (a, b) = (shipped.classify(lat, lon), fifty.classify(lat, lon));
            n += 1;
            eez_differs += u32::from((a.eez == Some(JPN)) != (b.eez == Some(JPN)));
            territory_differs +=
                u32::from((a.territory == Some(JPN)) != (b.territory == Some(JPN)));
        }
    }
    let pct = |k: u32| 100.0 * f64::from(k) / f64::from(n);
    eprintln!(
        "{n} points, 10m vs 50m: JPN EEZ call differs at {eez_differs} ({:.2} %), JPN territory at {territory_differs} ({:.2} %)",
        pct(eez_differs),
        pct(territory_differs)
    );
    // Coarse coast moves lines, but the two stay the same geography.
    assert!(pct(eez_differs) < 10.0 && pct(territory_differs) < 5.0);
}
