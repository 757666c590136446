//! A subset of the published-launch comparison (the full table: `trilat missile eval published`).
use trilat_missile::engine::EngineParams;
use trilat_missile::sensors::SensorRegistry;
use trilat_missile::sim::{self, RadarSettings};
use trilat_missile::zones::NoZones;

fn shared_data() -> std::path::PathBuf {
    std::env::var_os("TRILAT_SHARED_DATA")
        .map(Into::into)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into())
}

#[test]
fn short_published_launches_are_reproduced() {
    let path = shared_data().join("missiles/nk_missile_tests_1984_2026.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "skipping: {} not found (set TRILAT_SHARED_DATA)",
            path.display()
        );
        return;
    };
    let launches = sim::parse_published_launches(&text, 2017).expect("the table parses");
    assert!(
        launches.len() > 150,
        "{} launches since 2017 with apogee, distance and bearing",
        launches.len()
    );
    let registry = SensorRegistry::new(sim::default_sensors()).expect("valid");
    // The first three MRBM-type launches with apogees above 150 km: quick to fly in a debug build.
    let subset: Vec<_> = launches
        .iter()
        .filter(|l| l.missile_type == "MRBM" && l.apogee_km > 150.0)
        .take(3)
        .collect();
    assert_eq!(subset.len(), 3);
    for (idx, l) in subset.iter().enumerate() {
        let flight = sim::fly(&l.flight_spec()).expect("flyable");
        let detections = sim::detect(
            &registry,
            std::slice::from_ref(&flight),
            &RadarSettings::default(),
            idx as u64,
        )
        .expect("detections");
        let timeline = trilat_missile::eval::assess_all(
            &registry,
            Box::new(NoZones),
            &detections,
            EngineParams::default(),
        )
        .expect("runs");
        let a = timeline
            .iter()
            .max_by_key(|a| a.n_detections)
            .expect("assessed");
        let apogee_err = a.apogee_km / l.apogee_km - 1.0;
        let range_err = a.range_km / l.distance_km - 1.0;
        assert!(
            apogee_err.abs() < 0.02,
            "{} {}: apogee {} vs {}",
            l.date,
            l.missile,
            a.apogee_km,
            l.apogee_km
        );
        assert!(
            range_err.abs() < 0.03,
            "{} {}: range {} vs {}",
            l.date,
            l.missile,
            a.range_km,
            l.distance_km
        );
    }
}
