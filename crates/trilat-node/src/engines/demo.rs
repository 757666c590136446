//! The demo's exercise story, paced for someone watching a console: a day
//! of AIS traffic in the East China Sea replayed over a few minutes, a
//! missile launch at an announced time, flown in real time, and a synthetic
//! seismic event at the Punggye-ri test site. Every step is fed through the
//! node's own ingest paths (the AIS analyser, the missile fuser, the seismic
//! ingest) at the moment it is "received", so the reports appear live.
//!
//! The timing is pure: [`DemoSchedule`] says when each part runs,
//! [`maritime_plan`], [`missile_plan`] and [`seismic_event_quakeml`] turn a
//! scenario into timed steps or text, and only [`run`] sleeps. A replay (`POST /api/v1/demo/replay`) starts the
//! story again from the beginning with a fresh schedule.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use trilat_core::Timestamp;
use trilat_missile::sensors::DetectionRecord;
use trilat_missile::sim::{FlightSpec, RadarSettings};

use crate::{AppError, AppState, Caller, Role};

/// How the story is paced: `[engines.demo_pacing]`. The defaults suit a
/// person who opens a console after reading the banner.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoPacing {
    /// Seconds from the story's start to the first AIS line.
    pub maritime_after_s: f64,
    /// Seconds over which the scenario's day of AIS traffic plays.
    pub maritime_play_s: f64,
    /// Seconds from the story's start to the launch.
    pub launch_after_s: f64,
    /// Seconds from the story's start to the synthetic seismic event (its
    /// origin time; it is posted then).
    pub seismic_after_s: f64,
    /// Fast-forward factor: every wait is divided by it (tests set it high;
    /// the missile's data clock then runs ahead of the wall clock).
    pub speed: f64,
}

impl Default for DemoPacing {
    fn default() -> DemoPacing {
        DemoPacing {
            maritime_after_s: 20.0,
            maritime_play_s: 240.0,
            launch_after_s: 120.0,
            seismic_after_s: 300.0,
            speed: 1.0,
        }
    }
}

/// Largest fast-forward factor (beyond it the waits are below a millisecond).
const SPEED_MAX: f64 = 1_000.0;
/// Longest delay or play time accepted (a day).
const PACING_S_MAX: f64 = 86_400.0;

impl DemoPacing {
    /// Refuses values that would not make a story (negative, not finite).
    pub fn check(&self) -> Result<(), String> {
        for (name, value) in [
            ("maritime_after_s", self.maritime_after_s),
            ("maritime_play_s", self.maritime_play_s),
            ("launch_after_s", self.launch_after_s),
            ("seismic_after_s", self.seismic_after_s),
        ] {
            if !(0.0..=PACING_S_MAX).contains(&value) {
                return Err(format!(
                    "[engines.demo_pacing] {name} = {value}: expected 0 to {PACING_S_MAX}"
                ));
            }
        }
        if self.maritime_play_s < 1.0 {
            return Err("[engines.demo_pacing] maritime_play_s must be at least 1".into());
        }
        if !(1.0..=SPEED_MAX).contains(&self.speed) {
            return Err(format!(
                "[engines.demo_pacing] speed = {}: expected 1 to {SPEED_MAX}",
                self.speed
            ));
        }
        Ok(())
    }
}

/// When one run of the story happens at this node (wall-clock times).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DemoSchedule {
    /// When the run started.
    pub started_at: Timestamp,
    /// When the simulated missile lifts off, if this node flies it.
    pub launch_at: Option<Timestamp>,
    /// First and last AIS line of this node's feed, if it has one.
    pub maritime_from: Option<Timestamp>,
    /// See `maritime_from`.
    pub maritime_to: Option<Timestamp>,
    /// When the synthetic seismic event happens (its origin time) and is
    /// posted, if this node posts it.
    pub seismic_at: Option<Timestamp>,
    #[serde(skip)]
    speed: f64,
}

/// Which parts of the story play at one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DemoParts {
    /// The node flies the launch (`[engines.missile] demo_launch`).
    pub launch: bool,
    /// The node's party has an AIS feed in the scenario.
    pub maritime: bool,
    /// The node posts the seismic event (`[engines.seismic] demo_event`).
    pub seismic: bool,
}

impl DemoSchedule {
    /// The schedule of a run starting at `start_ms` at a node that plays
    /// `parts`.
    pub fn new(start_ms: i64, pacing: &DemoPacing, parts: DemoParts) -> DemoSchedule {
        let at = |story_s: f64| Timestamp::from_unix_ms(start_ms + real_ms(story_s, pacing.speed));
        let maritime_end_s = pacing.maritime_after_s + pacing.maritime_play_s;
        DemoSchedule {
            started_at: Timestamp::from_unix_ms(start_ms),
            launch_at: parts.launch.then(|| at(pacing.launch_after_s)),
            maritime_from: parts.maritime.then(|| at(pacing.maritime_after_s)),
            maritime_to: parts.maritime.then(|| at(maritime_end_s)),
            seismic_at: parts.seismic.then(|| at(pacing.seismic_after_s)),
            speed: pacing.speed,
        }
    }
}

/// Story seconds as wall-clock milliseconds at `speed`.
fn real_ms(story_s: f64, speed: f64) -> i64 {
    (story_s * 1000.0 / speed).round() as i64
}

/// One batch of this node's AIS lines, due at `at_ms`.
#[derive(Debug)]
pub struct AisBatch {
    /// When to feed it (ms since the Unix epoch).
    pub at_ms: i64,
    /// NMEA lines with tag blocks.
    pub lines: Vec<String>,
}

/// Lines due within this many wall-clock ms of each other go in one batch.
const AIS_BATCH_MS: i64 = 500;

/// The scenario's AIS lines of `party`'s receivers as timed batches: the
/// scenario's day is stretched over `maritime_from..maritime_to`, and its
/// data clock (the tag-block times the tracker reads) ends at
/// `maritime_to`, so the vessels are current when the story ends. Empty if
/// the party has no feed in the scenario.
pub fn maritime_plan(schedule: &DemoSchedule, party: &str) -> Vec<AisBatch> {
    let (Some(from), Some(to)) = (&schedule.maritime_from, &schedule.maritime_to) else {
        return Vec::new();
    };
    // Generate once to learn the scenario's length, then anchor its end.
    let probe = trilat_ais::synth::demo_scenario(0);
    let span_s = probe
        .iter()
        .flat_map(|feed| &feed.lines)
        .filter_map(|line| line_time_ms(line))
        .max()
        .unwrap_or(0)
        / 1000;
    let data_start_s = to.unix_ms() / 1000 - span_s;
    let feeds = trilat_ais::synth::demo_scenario(data_start_s);
    let Some(feed) = feeds.into_iter().find(|feed| feed.partner == party) else {
        return Vec::new();
    };
    let play_ms = (to.unix_ms() - from.unix_ms()).max(1);
    let data_span_ms = (span_s * 1000).max(1) as f64;
    let mut batches: Vec<AisBatch> = Vec::new();
    for line in feed.lines {
        // A line without a time (a continuation) goes with the one before.
        let at_ms = match line_time_ms(&line) {
            Some(t) => {
                let f = ((t - data_start_s * 1000) as f64 / data_span_ms).clamp(0.0, 1.0);
                from.unix_ms() + (f * play_ms as f64).round() as i64
            }
            None => batches.last().map_or(from.unix_ms(), |b| b.at_ms),
        };
        match batches.last_mut() {
            Some(batch) if at_ms - batch.at_ms < AIS_BATCH_MS => batch.lines.push(line),
            _ => batches.push(AisBatch {
                at_ms,
                lines: vec![line],
            }),
        }
    }
    batches
}

/// A line's tag-block time, through the decoder's own NMEA parser.
fn line_time_ms(line: &str) -> Option<i64> {
    match trilat_ais::nmea::parse_line(line.as_bytes()) {
        Ok(trilat_ais::nmea::Line::Ais(sentence)) => sentence.tag.time_unix_ms,
        _ => None,
    }
}

/// The demo's flight: a solid-fuel short-range missile from Sunan
/// (Pyongyang airport) east over the peninsula, apogee 200 km, falling
/// 900 km away in the Sea of Japan inside Japan's EEZ (about 7.5 minutes of
/// flight). An impact estimate needs the ballistic phase, so the boost
/// sets when the first assessment can come: the simulator's typical SRBM
/// burns 45 s and is first assessed about 60 s after lift-off; this one
/// burns 30 s and is assessed at about 46 s. (The lofted ICBM the demo flew
/// before burns 280 s: its first assessment came after five minutes.)
pub fn demo_flight(launch_time_s: f64) -> FlightSpec {
    let site = trilat_missile::sim::SITE_SUNAN;
    FlightSpec {
        burn_time_s: DEMO_BURN_S,
        ..FlightSpec::typical(
            trilat_missile::frames::Geodetic::new(site.0, site.1, 30.0),
            launch_time_s,
            DEMO_BEARING_DEG,
            DEMO_APOGEE_KM,
            DEMO_RANGE_KM,
        )
    }
}

/// The demo flight's shape (see [`demo_flight`]).
const DEMO_BEARING_DEG: f64 = 75.0;
/// Apogee of the demo flight (km).
const DEMO_APOGEE_KM: f64 = 200.0;
/// Range of the demo flight (km).
const DEMO_RANGE_KM: f64 = 900.0;
/// Burn time of the demo flight (s).
const DEMO_BURN_S: f64 = 30.0;

/// One detection of the demo flight, due at `at_ms`.
#[derive(Debug)]
pub struct TimedDetection {
    /// When to feed it (ms since the Unix epoch).
    pub at_ms: i64,
    /// Its data time (Unix s), the time in `record`.
    pub time_s: f64,
    /// The detection, in the DETECTIONS.jsonl form.
    pub record: DetectionRecord,
}

/// The demo flight seen by the partners' radars, timed so that lift-off is
/// at `launch_at`. The detections' own (data) times start at `launch_at` too,
/// unless `data_after_s` (the last detection time a previous run fed) is
/// later: the fuser refuses time going backwards.
pub fn missile_plan(
    schedule: &DemoSchedule,
    data_after_s: f64,
    seed: u64,
) -> Result<Vec<TimedDetection>, String> {
    let Some(launch_at) = &schedule.launch_at else {
        return Ok(Vec::new());
    };
    let launch_real_s = launch_at.unix_ms() as f64 / 1000.0;
    let launch_data_s = launch_real_s.max(data_after_s + 1.0);
    let registry =
        trilat_missile::sensors::SensorRegistry::new(trilat_missile::sim::default_sensors())
            .map_err(|e| e.to_string())?;
    let flight =
        trilat_missile::sim::fly(&demo_flight(launch_data_s)).map_err(|e| e.to_string())?;
    let detections = trilat_missile::sim::detect(
        &registry,
        std::slice::from_ref(&flight),
        &RadarSettings::default(),
        seed,
    )
    .map_err(|e| e.to_string())?;
    Ok(detections
        .into_iter()
        .map(|d| TimedDetection {
            at_ms: launch_at.unix_ms() + real_ms(d.time_s - launch_data_s, schedule.speed),
            time_s: d.time_s,
            record: DetectionRecord {
                sensor: registry.sensors()[d.sensor_idx].spec.id.clone(),
                time: trilat_missile::sensors::format_time(d.time_s),
                range_m: d.range_m,
                az_deg: d.az_deg,
                el_deg: d.el_deg,
                range_rate_mps: d.range_rate_mps,
            },
        })
        .collect())
}

/// The demo's synthetic seismic event at Punggye-ri, 2.5 km from the site's
/// published point (the declared tests lie within 9 km of it), as the
/// QuakeML 1.2 an agency's event service would send. Its figures are chosen
/// to look like the declared tests: 0.7 km deep (±0.5 km: a measured
/// shallow depth), mb 5.6 and Ms 4.2 (Ms − 1.25 mb = −2.8, explosion-like),
/// a 6 km × 4 km 90 % ellipse. No event type: the verdict comes from the
/// evidence. Its id, agency and region text say EXERCISE; the event id is
/// unique per run (`started_at`).
pub fn seismic_event_quakeml(schedule: &DemoSchedule) -> Option<String> {
    let at = schedule.seismic_at.as_ref()?;
    let run = schedule.started_at.unix_ms();
    Some(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<q:quakeml xmlns="http://quakeml.org/xmlns/bed/1.2" xmlns:q="http://quakeml.org/xmlns/quakeml/1.2">
<eventParameters publicID="smi:trilat.demo/exercise/{run}">
<event publicID="smi:trilat.demo/exercise/{run}/punggye-ri">
<description><text>EXERCISE EXERCISE EXERCISE: synthetic event at the Punggye-ri test site, North Korea (Trilat demo; not a real event)</text><type>region name</type></description>
<origin publicID="smi:trilat.demo/exercise/{run}/origin">
<time><value>{at}</value><uncertainty>0.5</uncertainty></time>
<latitude><value>{lat}</value></latitude><longitude><value>{lon}</value></longitude>
<depth><value>700</value><uncertainty>500</uncertainty></depth>
<originUncertainty><maxHorizontalUncertainty>6000</maxHorizontalUncertainty><minHorizontalUncertainty>4000</minHorizontalUncertainty><azimuthMaxHorizontalUncertainty>45</azimuthMaxHorizontalUncertainty><confidenceLevel>90</confidenceLevel></originUncertainty>
<creationInfo><agencyID>EXERCISE</agencyID></creationInfo>
</origin>
<magnitude publicID="smi:trilat.demo/exercise/{run}/mb"><mag><value>5.6</value><uncertainty>0.1</uncertainty></mag><type>mb</type><creationInfo><agencyID>EXERCISE</agencyID></creationInfo></magnitude>
<magnitude publicID="smi:trilat.demo/exercise/{run}/ms"><mag><value>4.2</value><uncertainty>0.1</uncertainty></mag><type>Ms</type><creationInfo><agencyID>EXERCISE</agencyID></creationInfo></magnitude>
</event>
</eventParameters>
</q:quakeml>
"#,
        lat = DEMO_SEISMIC_LAT,
        lon = DEMO_SEISMIC_LON,
    ))
}

/// The demo event's epicentre (see [`seismic_event_quakeml`]).
const DEMO_SEISMIC_LAT: f64 = 41.300;
/// See [`DEMO_SEISMIC_LAT`].
const DEMO_SEISMIC_LON: f64 = 129.080;

/// The story's state at one node: its pacing, the schedule of the current
/// run, and the replay signal.
pub struct DemoRunner {
    pacing: DemoPacing,
    current: Mutex<Option<DemoSchedule>>,
    /// The schedule a requested replay will follow.
    next: Mutex<Option<DemoSchedule>>,
    replay: Notify,
    /// Data time (Unix s) of the last detection fed, across runs.
    missile_data_last_s: Mutex<f64>,
    /// Runs started so far (the seed of each run's radar noise).
    n_runs: Mutex<u64>,
}

impl DemoRunner {
    /// A runner with no run yet.
    pub fn new(pacing: DemoPacing) -> DemoRunner {
        DemoRunner {
            pacing,
            current: Mutex::new(None),
            next: Mutex::new(None),
            replay: Notify::new(),
            missile_data_last_s: Mutex::new(f64::NEG_INFINITY),
            n_runs: Mutex::new(0),
        }
    }

    /// The schedule of the current run (none before the first starts).
    pub fn schedule(&self) -> Option<DemoSchedule> {
        lock(&self.current).clone()
    }

    /// Asks the running story to start again from the beginning, now;
    /// returns the new run's schedule.
    pub fn request_replay(&self, parts: DemoParts) -> DemoSchedule {
        let schedule = DemoSchedule::new(crate::now_ms(), &self.pacing, parts);
        *lock(&self.next) = Some(schedule.clone());
        self.replay.notify_one();
        schedule
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the story, and again each time a replay is requested, until the
/// node stops (this is one of the node's tasks).
pub(super) async fn run(state: &AppState) {
    let Ok(engines) = state.engines.get() else {
        return;
    };
    let demo = &engines.demo;
    let parts = parts_here(state);
    loop {
        let schedule = lock(&demo.next)
            .take()
            .unwrap_or_else(|| DemoSchedule::new(crate::now_ms(), &demo.pacing, parts));
        *lock(&demo.current) = Some(schedule.clone());
        let seed = {
            let mut n_runs = lock(&demo.n_runs);
            *n_runs += 1;
            *n_runs
        };
        engines.maritime.reset();
        tracing::info!(party = %state.party, ?schedule, "demo story (EXERCISE) starts");
        let story = async {
            tokio::join!(
                play_maritime(state, &schedule),
                play_missile(state, &schedule, seed),
                play_seismic(state, &schedule)
            );
            // Finished: wait for a replay.
            std::future::pending::<()>().await;
        };
        tokio::select! {
            () = story => {}
            () = demo.replay.notified() => {}
        }
        tracing::info!(party = %state.party, "demo story replayed");
    }
}

/// Which parts of the story play at this node.
fn parts_here(state: &AppState) -> DemoParts {
    let config = state.engines.get().ok().map(|engines| &engines.config);
    DemoParts {
        launch: config.is_some_and(|config| config.missile.demo_launch),
        maritime: trilat_ais::synth::demo_scenario(0)
            .iter()
            .any(|feed| feed.partner == state.party.as_str()),
        seismic: config.is_some_and(|config| config.seismic.demo_event),
    }
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/demo/replay", axum::routing::post(demo_replay))
}

/// `POST /api/v1/demo/replay` (admin): starts the node's exercise story
/// again; 202 with the new schedule.
async fn demo_replay(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
) -> Result<(axum::http::StatusCode, axum::Json<DemoSchedule>), AppError> {
    caller.require(Role::Admin)?;
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "the demo of {} is replayed by its own admin",
            state.party
        )));
    }
    let schedule = replay(&state)?;
    tracing::info!(party = %state.party, by = %caller.name, "demo replay requested");
    Ok((axum::http::StatusCode::ACCEPTED, axum::Json(schedule)))
}

/// Starts the node's exercise story again (the route and `trilat demo
/// --replay-every` call this); the new run's schedule. A node that runs no
/// demo answers as for an unknown path.
pub fn replay(state: &AppState) -> Result<DemoSchedule, AppError> {
    let engines = state.engines.get()?;
    if !engines.config.demo {
        return Err(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "no_route",
            "no such endpoint: this node runs no demo (see /api/v1/openapi.json)",
        ));
    }
    Ok(engines.demo.request_replay(parts_here(state)))
}

/// The schedule of the node's current run: `None` while the engines start
/// or when the node runs no demo.
pub fn schedule(state: &AppState) -> Option<DemoSchedule> {
    let engines = state.engines.get().ok()?;
    engines.config.demo.then(|| engines.demo.schedule())?
}

/// Sleeps until `at_ms` on the wall clock.
async fn sleep_until_ms(at_ms: i64) {
    let wait_ms = at_ms - crate::now_ms();
    if wait_ms > 0 {
        tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
    }
}

/// Feeds this node's AIS batches at their times, then closes what is open.
async fn play_maritime(state: &AppState, schedule: &DemoSchedule) {
    let plan = maritime_plan(schedule, state.party.as_str());
    let n_batches = plan.len();
    for batch in plan {
        sleep_until_ms(batch.at_ms).await;
        super::maritime::demo_feed(state, &batch.lines).await;
    }
    if n_batches > 0 {
        super::maritime::demo_finish(state).await;
        tracing::info!(party = %state.party, "demo AIS scenario played");
    }
}

/// Posts the synthetic seismic event through the node's seismic ingest at
/// its origin time.
async fn play_seismic(state: &AppState, schedule: &DemoSchedule) {
    let (Some(at), Some(text)) = (&schedule.seismic_at, seismic_event_quakeml(schedule)) else {
        return;
    };
    sleep_until_ms(at.unix_ms()).await;
    match super::seismic::ingest(state, &text, "demo").await {
        Ok(answer) => tracing::info!(
            party = %state.party,
            reports = answer.reports.len(),
            likely_nuclear_test = answer.events.iter().any(|e| e.likely_nuclear_test),
            "demo seismic event (EXERCISE) posted"
        ),
        Err(e) => tracing::error!(%e, "demo seismic event not posted"),
    }
}

/// Feeds the flight's detections at their times, then the last scan.
async fn play_missile(state: &AppState, schedule: &DemoSchedule, seed: u64) {
    let Ok(engines) = state.engines.get() else {
        return;
    };
    let data_after_s = *lock(&engines.demo.missile_data_last_s);
    let plan = match missile_plan(schedule, data_after_s, seed) {
        Ok(plan) => plan,
        Err(e) => {
            tracing::error!(%e, "demo launch not simulated");
            return;
        }
    };
    if plan.is_empty() {
        return;
    }
    for detection in &plan {
        sleep_until_ms(detection.at_ms).await;
        *lock(&engines.demo.missile_data_last_s) = detection.time_s;
        super::missile::demo_feed(state, Some(&detection.record)).await;
    }
    // The last scan is processed when the next starts; there is none.
    super::missile::demo_feed(state, None).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_missile::engine::{EngineEvent, EngineParams};

    /// 2025-11-24T16:00:00Z, a fixed start so the tests do not read the clock.
    const START_MS: i64 = 1_764_000_000_000;

    const LAUNCH: DemoParts = DemoParts {
        launch: true,
        maritime: false,
        seismic: false,
    };
    const MARITIME: DemoParts = DemoParts {
        launch: false,
        maritime: true,
        seismic: false,
    };

    fn pacing(speed: f64) -> DemoPacing {
        DemoPacing {
            speed,
            ..DemoPacing::default()
        }
    }

    #[test]
    fn pacing_refuses_what_makes_no_story() {
        assert_eq!(DemoPacing::default().check(), Ok(()));
        let bad = [
            DemoPacing {
                speed: 0.5,
                ..DemoPacing::default()
            },
            DemoPacing {
                speed: f64::NAN,
                ..DemoPacing::default()
            },
            DemoPacing {
                launch_after_s: -1.0,
                ..DemoPacing::default()
            },
            DemoPacing {
                maritime_play_s: 0.0,
                ..DemoPacing::default()
            },
            DemoPacing {
                maritime_after_s: f64::INFINITY,
                ..DemoPacing::default()
            },
            DemoPacing {
                seismic_after_s: -5.0,
                ..DemoPacing::default()
            },
        ];
        for pacing in bad {
            let err = pacing.check().unwrap_err();
            assert!(err.contains("[engines.demo_pacing]"), "{err}");
        }
    }

    #[test]
    fn schedule_says_what_plays_here_and_when() {
        let schedule = DemoSchedule::new(START_MS, &pacing(1.0), LAUNCH);
        assert_eq!(
            schedule.launch_at,
            Some(Timestamp::from_unix_ms(START_MS + 120_000))
        );
        assert_eq!(schedule.maritime_from, None);
        let fast = DemoSchedule::new(START_MS, &pacing(10.0), MARITIME);
        assert_eq!(fast.launch_at, None);
        assert_eq!(fast.seismic_at, None);
        assert_eq!(
            fast.maritime_from,
            Some(Timestamp::from_unix_ms(START_MS + 2_000))
        );
        assert_eq!(
            fast.maritime_to,
            Some(Timestamp::from_unix_ms(START_MS + 26_000))
        );
    }

    /// Feeds the plan to a fuser as the node does; the wall-clock times (ms)
    /// at which the first assessment and the first warning level above
    /// "launch detected" were published.
    fn first_products_ms(plan: &[TimedDetection]) -> (Option<i64>, Option<i64>, Option<i64>) {
        let registry =
            trilat_missile::sensors::SensorRegistry::new(trilat_missile::sim::default_sensors())
                .unwrap();
        let zones = trilat_missile::zones::GeoZones::fixture();
        let mut fuser =
            trilat_missile::MissileEngine::new(registry, Box::new(zones), EngineParams::default());
        let (mut warning, mut assessment, mut level) = (None, None, None);
        for detection in plan {
            for event in fuser.feed_record(&detection.record).unwrap() {
                match event {
                    EngineEvent::Warning(w) => {
                        warning.get_or_insert(detection.at_ms);
                        if w.level > trilat_missile::warning::WarningLevel::Advisory {
                            level.get_or_insert(detection.at_ms);
                        }
                    }
                    EngineEvent::Assessment(_) => {
                        assessment.get_or_insert(detection.at_ms);
                    }
                    EngineEvent::Track(_) => {}
                }
            }
        }
        (warning, assessment, level)
    }

    #[test]
    fn the_launch_is_assessed_within_a_minute_of_the_announced_time() {
        let schedule = DemoSchedule::new(START_MS, &pacing(1.0), LAUNCH);
        let launch_ms = schedule.launch_at.unwrap().unix_ms();
        let plan = missile_plan(&schedule, f64::NEG_INFINITY, 1).unwrap();
        assert!(plan.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        assert!(plan[0].at_ms >= launch_ms, "a detection before lift-off");
        // At speed 1 the data clock is the wall clock.
        assert!(plan
            .iter()
            .all(|d| (d.time_s * 1000.0 - d.at_ms as f64).abs() < 1.0));
        let (warning, assessment, level) = first_products_ms(&plan);
        let after_launch_s = |ms: Option<i64>| ms.map(|ms| (ms - launch_ms) as f64 / 1000.0);
        let (warning_s, assessment_s, level_s) = (
            after_launch_s(warning).expect("a launch warning"),
            after_launch_s(assessment).expect("an assessment"),
            after_launch_s(level).expect("a warning above advisory"),
        );
        assert!(
            warning_s <= 30.0,
            "launch warning {warning_s} s after lift-off"
        );
        assert!(
            assessment_s <= 60.0,
            "first assessment {assessment_s} s after lift-off"
        );
        assert!(level_s <= 60.0, "warning level {level_s} s after lift-off");
    }

    #[test]
    fn a_fast_forwarded_replay_keeps_the_data_clock_moving_forward() {
        let schedule = DemoSchedule::new(START_MS, &pacing(100.0), LAUNCH);
        let launch_ms = schedule.launch_at.unwrap().unix_ms();
        // A previous run fed detections up to 10 minutes after this launch.
        let data_after_s = launch_ms as f64 / 1000.0 + 600.0;
        let plan = missile_plan(&schedule, data_after_s, 2).unwrap();
        assert!(plan.iter().all(|d| d.time_s > data_after_s));
        assert!(plan[0].at_ms >= launch_ms);
        let (_, assessment, _) = first_products_ms(&plan);
        let assessment_ms = assessment.expect("an assessment") - launch_ms;
        assert!(
            assessment_ms <= 600,
            "first assessment {assessment_ms} ms after lift-off at speed 100"
        );
    }

    #[test]
    fn the_maritime_day_plays_over_its_window_and_ends_now() {
        let schedule = DemoSchedule::new(START_MS, &pacing(1.0), MARITIME);
        let (from, to) = (
            schedule.maritime_from.unwrap().unix_ms(),
            schedule.maritime_to.unwrap().unix_ms(),
        );
        assert!(
            maritime_plan(&schedule, "USA").is_empty(),
            "USA has no feed"
        );
        let plan = maritime_plan(&schedule, "JPN");
        assert_eq!(plan[0].at_ms, from);
        assert!(plan.iter().all(|b| b.at_ms <= to));
        assert!(plan
            .windows(2)
            .all(|w| w[0].at_ms + AIS_BATCH_MS <= w[1].at_ms));
        // The data clock ends where the window does: the vessels are current.
        let last_data_ms = plan
            .iter()
            .flat_map(|b| &b.lines)
            .filter_map(|l| line_time_ms(l))
            .max()
            .unwrap();
        assert!((to - last_data_ms).abs() <= 1000, "{}", to - last_data_ms);
        // Fed batch by batch, events come while the story plays, not at its start.
        let mut analyser = super::super::maritime::analyser(
            &super::super::maritime::AisConfig::default(),
            None,
            std::sync::Arc::new(trilat_geo::ZoneIndex::new(trilat_geo::fixture_zones())),
        );
        let mut seen: Vec<(i64, String)> = Vec::new();
        for batch in &plan {
            let mut events = Vec::new();
            for line in &batch.lines {
                analyser
                    .feed_line(line.as_bytes(), None, &mut events)
                    .unwrap();
            }
            seen.extend(events.iter().map(|e| (batch.at_ms, e.name().to_string())));
        }
        let names: Vec<&str> = seen.iter().map(|(_, n)| n.as_str()).collect();
        assert!(names.contains(&"gap"), "{names:?}");
        assert!(names.contains(&"encounter"), "{names:?}");
        // The dark vessel reappears 15 h into the 23 h day: the gap and the
        // encounter come in the second half of the window, not at its start.
        let play_ms = to - from;
        for (at, name) in &seen {
            if name == "gap" || name == "encounter" {
                assert!(*at >= from + play_ms / 2, "{name} at {}", at - from);
            }
        }
    }

    #[test]
    fn the_seismic_event_is_posted_at_its_time_and_assessed_a_likely_test() {
        let parts = DemoParts {
            seismic: true,
            ..DemoParts::default()
        };
        assert_eq!(
            seismic_event_quakeml(&DemoSchedule::new(START_MS, &pacing(1.0), MARITIME)),
            None
        );
        for (speed, after_ms) in [(1.0, 300_000), (100.0, 3_000)] {
            let schedule = DemoSchedule::new(START_MS, &pacing(speed), parts);
            let at = schedule.seismic_at.expect("this node posts the event");
            assert_eq!(at.unix_ms(), START_MS + after_ms);
            // After the launch (2:00) and the AIS day (0:20-4:20) at speed 1.
            let launch_at = DemoSchedule::new(START_MS, &pacing(speed), LAUNCH).launch_at;
            assert!(launch_at.unwrap() < at);
            // Read and assessed as the node's ingest does.
            let text = seismic_event_quakeml(&schedule).unwrap();
            let parsed = trilat_seismic::read(&text).unwrap();
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            let [event] = parsed.events.as_slice() else {
                panic!("one event: {:?}", parsed.events);
            };
            assert_eq!(
                event.origin.time.unix_timestamp_nanos() / 1_000_000,
                i128::from(at.unix_ms()),
                "the origin time is the posting time"
            );
            assert!(event.id.contains("exercise"), "{}", event.id);
            assert!(event
                .region
                .as_deref()
                .unwrap()
                .starts_with("EXERCISE EXERCISE EXERCISE"));
            let assessment =
                &trilat_seismic::assess_all(&parsed.events, &trilat_seismic::Params::default())[0];
            assert!(assessment.likely_nuclear_test, "{:?}", assessment.reasons);
            assert!(assessment.site_distance_km.unwrap() < 5.0);
            let factors: Vec<&str> = assessment
                .reasons
                .iter()
                .filter(|r| r.weight > 0)
                .map(|r| r.factor.as_str())
                .collect();
            assert_eq!(
                factors,
                ["test-site", "depth", "mb-ms"],
                "{:?}",
                assessment.reasons
            );
        }
    }
}
