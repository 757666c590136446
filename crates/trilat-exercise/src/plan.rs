//! The play plan: a scenario turned into timed steps, each one request a
//! sensor or an analyst would make (publish a report, send radar
//! detections, send AIS lines), at an exercise time. Missile launches
//! become the simulator's detections (`trilat_missile::sim`), AIS stories
//! the synthetic feeds of `trilat_ais::synth`; the data times inside them
//! follow the exercise clock from `data_start_unix_ms` (exercise time 0).
//! A link outage becomes four steps: both ends of the link cut at its time,
//! both restored `duration_s` later; a node restart two: the node stopped
//! at its time, started again `down_s` later. No step goes to a node while
//! it is down.

use serde_json::json;
use trilat_core::{Marking, Party};
use trilat_missile::frames::Geodetic;
use trilat_missile::sensors::{format_time, DetectionRecord, SensorRegistry};
use trilat_missile::sim::{FlightSpec, RadarSettings, SalvoSpec};

use crate::scenario::{Action, AisInject, AisStory, HitDecision, LaunchInject, Scenario};

/// Detections sent in one request at most.
pub const DETECTIONS_PER_STEP_MAX: usize = 500;
/// AIS lines sent in one request at most.
pub const AIS_LINES_PER_STEP_MAX: usize = 2_000;
/// Radar detections of one exercise second go in one request.
const DETECTION_BATCH_MS: f64 = 1_000.0;
/// AIS lines of this many exercise ms go in one request.
const AIS_BATCH_MS: f64 = 500.0;
/// Steps in one plan at most (a lofted ICBM's salvo is a few thousand).
pub const STEPS_MAX: usize = 200_000;

/// One request of the play, due at an exercise time.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Exercise ms when it is due.
    pub at_ms: f64,
    /// The inject it plays (from 0).
    pub inject_idx: usize,
    /// What to send.
    pub action: StepAction,
}

/// What a step sends, and to which party's node.
#[derive(Clone, Debug, PartialEq)]
pub enum StepAction {
    /// Publish a report (flagged exercise) at `party`'s node.
    Publish {
        /// The publishing party.
        party: Party,
        /// The report kind.
        kind: &'static str,
        /// Its marking.
        marking: Marking,
        /// Its payload.
        payload: serde_json::Value,
    },
    /// Radar detections for `party`'s missile fuser (DETECTIONS.jsonl records).
    Detections {
        /// The fusing party.
        party: Party,
        /// In time order.
        records: Vec<DetectionRecord>,
    },
    /// AIS lines (NMEA with tag blocks) for `party`'s AIS ingest.
    Nmea {
        /// The receiving party.
        party: Party,
        /// In time order.
        lines: Vec<String>,
    },
    /// A seismic bulletin (QuakeML 1.2 or IMS1.0) for `party`'s seismic
    /// ingest.
    Bulletin {
        /// The posting party.
        party: Party,
        /// The bulletin's text.
        text: String,
    },
    /// A name screened at `party`'s node; its best hit published with the
    /// analyst's decision as `sanctions.hit`.
    SanctionsHit {
        /// The screening party.
        party: Party,
        /// The screening request (`name`, `schema`, `country`).
        screen: serde_json::Value,
        /// The analyst's decision.
        decision: HitDecision,
        /// The analyst's note.
        note: String,
        /// The hit report's marking; `None`: the node's engines' marking.
        marking: Option<Marking>,
    },
    /// Cut (`suspend`) or restore the federation link from `party`'s node
    /// to `peer` (`POST /api/v1/federation/peers/{peer}/suspend` or
    /// `…/resume`, admin). A `link_outage` cuts both ends at its time and
    /// restores both `duration_s` later.
    Link {
        /// The node whose link is cut or restored.
        party: Party,
        /// The peer at the other end.
        peer: Party,
        /// Cut (true) or restore (false).
        suspend: bool,
    },
    /// Stop (`up: false`) or start again (`up: true`) `party`'s node; only
    /// the runner that started the node can (`--cluster`).
    Node {
        /// The node's party.
        party: Party,
        /// Start (true) or stop (false).
        up: bool,
    },
}

impl StepAction {
    /// The party whose node the step goes to.
    pub fn party(&self) -> &Party {
        match self {
            StepAction::Publish { party, .. }
            | StepAction::Detections { party, .. }
            | StepAction::Nmea { party, .. }
            | StepAction::Bulletin { party, .. }
            | StepAction::SanctionsHit { party, .. }
            | StepAction::Link { party, .. }
            | StepAction::Node { party, .. } => party,
        }
    }
}

/// A scenario that cannot be planned (the simulator refused a flight, or
/// the plan would be too long).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("inject {}: {message}", inject_idx + 1)]
pub struct PlanError {
    /// The inject, from 0.
    pub inject_idx: usize,
    /// Why.
    pub message: String,
}

/// The steps of `scenario` in time order (steps of one time in inject
/// order). A step due at a node while a `node_restart` has it down is
/// refused, naming both injects.
pub fn plan(scenario: &Scenario, data_start_unix_ms: i64) -> Result<Vec<Step>, PlanError> {
    let mut steps = Vec::new();
    for (inject_idx, inject) in scenario.injects.iter().enumerate() {
        let fail = |message: String| PlanError {
            inject_idx,
            message,
        };
        let at_ms = inject.at_s * 1000.0;
        let step = |action| Step {
            at_ms,
            inject_idx,
            action,
        };
        match &inject.action {
            Action::Note(note) => steps.push(step(StepAction::Publish {
                party: note.party.clone(),
                kind: "note",
                marking: note.marking.marking(),
                payload: json!({ "text": note.text }),
            })),
            Action::Stix(stix) => {
                let entry = trilat_cyber::Entry::parse(&stix.object)
                    .map_err(|e| fail(format!("object: {e}")))?;
                steps.push(step(StepAction::Publish {
                    party: stix.party.clone(),
                    kind: trilat_cyber::mapping::REPORT_KIND,
                    marking: stix.marking.marking(),
                    payload: trilat_cyber::mapping::StixPayload::value_of(&entry),
                }));
            }
            Action::MissileLaunch(launch) => {
                let launch_unix_ms = data_start_unix_ms + at_ms as i64;
                let n_steps = steps.len();
                launch_steps(launch, inject_idx, at_ms, launch_unix_ms, &mut steps)
                    .map_err(fail)?;
                if steps.len() == n_steps {
                    return Err(fail(
                        "no radar detects this launch (the gap covers the whole flight, or it flies outside every radar's coverage)".into(),
                    ));
                }
            }
            Action::AisStory(story) => {
                ais_steps(story, inject_idx, at_ms, data_start_unix_ms, &mut steps);
            }
            Action::Seismic(seismic) => {
                let origin_unix_ms =
                    data_start_unix_ms + (at_ms - seismic.origin_before_s * 1000.0) as i64;
                let event_key = format!("{data_start_unix_ms}-{}", inject_idx + 1);
                steps.push(step(StepAction::Bulletin {
                    party: seismic.party.clone(),
                    text: crate::bulletin::bulletin(seismic, origin_unix_ms, &event_key),
                }));
            }
            Action::SanctionsHit(hit) => {
                let mut screen = json!({ "name": hit.name });
                if let Some(schema) = &hit.schema {
                    screen["schema"] = json!(schema);
                }
                if let Some(country) = &hit.country {
                    screen["country"] = json!(country);
                }
                steps.push(step(StepAction::SanctionsHit {
                    party: hit.party.clone(),
                    screen,
                    decision: hit.decision,
                    note: hit.note.clone(),
                    marking: hit.marking.as_ref().map(|m| m.marking()),
                }));
            }
            Action::LinkOutage(outage) => {
                let [a, b] = &outage.between;
                let restore_ms = at_ms + outage.duration_s * 1000.0;
                for (when, suspend) in [(at_ms, true), (restore_ms, false)] {
                    for (party, peer) in [(a, b), (b, a)] {
                        steps.push(Step {
                            at_ms: when,
                            inject_idx,
                            action: StepAction::Link {
                                party: party.clone(),
                                peer: peer.clone(),
                                suspend,
                            },
                        });
                    }
                }
            }
            Action::NodeRestart(restart) => {
                let start_ms = at_ms + restart.down_s * 1000.0;
                for (when, up) in [(at_ms, false), (start_ms, true)] {
                    steps.push(Step {
                        at_ms: when,
                        inject_idx,
                        action: StepAction::Node {
                            party: restart.party.clone(),
                            up,
                        },
                    });
                }
            }
        }
        if steps.len() > STEPS_MAX {
            return Err(fail(format!(
                "the plan has more than {STEPS_MAX} steps; shorten the scenario"
            )));
        }
    }
    steps.sort_by(|a, b| {
        a.at_ms
            .total_cmp(&b.at_ms)
            .then(a.inject_idx.cmp(&b.inject_idx))
    });
    check_nodes_up(scenario, &steps)?;
    // The runner records each inject at its first step: every inject has one.
    for inject_idx in 0..scenario.injects.len() {
        assert!(
            steps.iter().any(|s| s.inject_idx == inject_idx),
            "inject {inject_idx} has no step"
        );
    }
    Ok(steps)
}

/// No step is due at a node between its stop and its start (a sensor's
/// request to a node that is down would fail the run half-way).
fn check_nodes_up(scenario: &Scenario, steps: &[Step]) -> Result<(), PlanError> {
    for (restart_idx, inject) in scenario.injects.iter().enumerate() {
        let Action::NodeRestart(restart) = &inject.action else {
            continue;
        };
        let (stop_ms, start_ms) = (
            inject.at_s * 1000.0,
            (inject.at_s + restart.down_s) * 1000.0,
        );
        let blocked = steps.iter().find(|s| {
            s.inject_idx != restart_idx
                && s.action.party() == &restart.party
                && stop_ms <= s.at_ms
                && s.at_ms <= start_ms
        });
        if let Some(step) = blocked {
            return Err(PlanError {
                inject_idx: step.inject_idx,
                message: format!(
                    "a request to {}'s node at T+{:.1} s, while inject {} has it down (T+{} to T+{} s); move one of them",
                    restart.party,
                    step.at_ms / 1000.0,
                    restart_idx + 1,
                    inject.at_s,
                    inject.at_s + restart.down_s
                ),
            });
        }
    }
    Ok(())
}

/// The salvo's detections by the partners' radars (the simulator's default
/// sensors, which the node's fuser knows), without those in the gap,
/// batched by exercise second.
fn launch_steps(
    launch: &LaunchInject,
    inject_idx: usize,
    at_ms: f64,
    launch_unix_ms: i64,
    steps: &mut Vec<Step>,
) -> Result<(), String> {
    let launch_time_s = launch_unix_ms as f64 / 1000.0;
    let site = Geodetic::new(launch.site[0], launch.site[1], 30.0);
    let mut first = FlightSpec::typical(
        site,
        launch_time_s,
        launch.bearing_deg,
        launch.apogee_km,
        launch.range_km,
    );
    if let Some(burn_s) = launch.burn_s {
        first.burn_time_s = burn_s;
    }
    let salvo = SalvoSpec {
        first,
        n_missiles: launch.missiles as usize,
        interval_s: launch.interval_s,
        bearing_step_deg: 1.0,
        launcher_spacing_km: 5.0,
    };
    let flights = trilat_missile::sim::fly_salvo(&salvo).map_err(|e| e.to_string())?;
    let registry =
        SensorRegistry::new(trilat_missile::sim::default_sensors()).map_err(|e| e.to_string())?;
    let detections =
        trilat_missile::sim::detect(&registry, &flights, &RadarSettings::default(), launch.seed)
            .map_err(|e| e.to_string())?;
    let in_gap = |time_s: f64| {
        launch.gap_s.is_some_and(|[from_s, to_s]| {
            let after_s = time_s - launch_time_s;
            (from_s..to_s).contains(&after_s)
        })
    };
    let mut batch: Option<Step> = None;
    for detection in detections.iter().filter(|d| !in_gap(d.time_s)) {
        let step_at_ms = at_ms + (detection.time_s - launch_time_s) * 1000.0;
        let record = DetectionRecord {
            sensor: registry.sensors()[detection.sensor_idx].spec.id.clone(),
            time: format_time(detection.time_s),
            range_m: detection.range_m,
            az_deg: detection.az_deg,
            el_deg: detection.el_deg,
            range_rate_mps: detection.range_rate_mps,
        };
        match &mut batch {
            Some(Step {
                at_ms: batch_at_ms,
                action: StepAction::Detections { records, .. },
                ..
            }) if step_at_ms - *batch_at_ms < DETECTION_BATCH_MS
                && records.len() < DETECTIONS_PER_STEP_MAX =>
            {
                records.push(record)
            }
            _ => {
                steps.extend(batch.take());
                batch = Some(Step {
                    at_ms: step_at_ms,
                    inject_idx,
                    action: StepAction::Detections {
                        party: launch.party.clone(),
                        records: vec![record],
                    },
                });
            }
        }
    }
    steps.extend(batch);
    Ok(())
}

/// The story's feeds, each partner's lines to its own node, the story's day
/// stretched over `play_s` exercise seconds; its data times end when the
/// play ends, so the vessels are current then.
fn ais_steps(
    story: &AisInject,
    inject_idx: usize,
    at_ms: f64,
    data_start_unix_ms: i64,
    steps: &mut Vec<Step>,
) {
    let play_ms = story.play_s * 1000.0;
    let end_unix_s = (data_start_unix_ms + (at_ms + play_ms) as i64) / 1000;
    let (span_s, feeds) = match story.story {
        Some(AisStory::StsEncounter) => {
            // Generated once to learn the story's length, then anchored at its end.
            let span_s = story_span_s(&trilat_ais::synth::demo_scenario(0)).max(1);
            let feeds = trilat_ais::synth::demo_scenario(end_unix_s - span_s)
                .into_iter()
                .filter_map(|feed| Some((Party::new(&feed.partner).ok()?, feed.lines)))
                .collect();
            (span_s, feeds)
        }
        None => {
            let span_s = crate::vessels::story_span_s(&story.vessels).max(1);
            (
                span_s,
                crate::vessels::feeds(&story.vessels, end_unix_s - span_s),
            )
        }
    };
    let story_start_s = end_unix_s - span_s;
    for (party, lines) in feeds {
        let mut batch: Option<(f64, Vec<String>)> = None;
        for line in lines {
            // A line without a time (a continuation) goes with the one before.
            let line_at_ms = match line_time_ms(&line) {
                Some(t_ms) => {
                    let f = ((t_ms - story_start_s * 1000) as f64 / (span_s * 1000) as f64)
                        .clamp(0.0, 1.0);
                    at_ms + f * play_ms
                }
                None => batch
                    .as_ref()
                    .map_or(at_ms, |(batch_at_ms, _)| *batch_at_ms),
            };
            match &mut batch {
                Some((batch_at_ms, lines))
                    if line_at_ms - *batch_at_ms < AIS_BATCH_MS
                        && lines.len() < AIS_LINES_PER_STEP_MAX =>
                {
                    lines.push(line)
                }
                _ => {
                    if let Some((batch_at_ms, lines)) = batch.take() {
                        steps.push(nmea_step(batch_at_ms, inject_idx, &party, lines));
                    }
                    batch = Some((line_at_ms, vec![line]));
                }
            }
        }
        if let Some((batch_at_ms, lines)) = batch {
            steps.push(nmea_step(batch_at_ms, inject_idx, &party, lines));
        }
    }
}

fn nmea_step(at_ms: f64, inject_idx: usize, party: &Party, lines: Vec<String>) -> Step {
    debug_assert!(!lines.is_empty());
    Step {
        at_ms,
        inject_idx,
        action: StepAction::Nmea {
            party: party.clone(),
            lines,
        },
    }
}

/// Seconds from the first to the last tagged line of the feeds.
fn story_span_s(feeds: &[trilat_ais::synth::DemoFeed]) -> i64 {
    let times = feeds
        .iter()
        .flat_map(|feed| &feed.lines)
        .filter_map(|line| line_time_ms(line));
    let (min, max) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    if min > max {
        return 0;
    }
    (max - min) / 1000
}

/// A line's tag-block time, through the decoder's own NMEA parser.
fn line_time_ms(line: &str) -> Option<i64> {
    match trilat_ais::nmea::parse_line(line.as_bytes()) {
        Ok(trilat_ais::nmea::Line::Ais(sentence)) => sentence.tag.time_unix_ms,
        _ => None,
    }
}
