//! The scenario file (TOML, `docs/exercise.md`, `scenarios/scenario.schema.json`):
//! a name, a description and injects on the exercise clock.
//!
//! Parsing is two steps: the TOML text into a table (syntax errors carry
//! the line), then each `[[inject]]` into an [`Inject`] through
//! `serde_path_to_error`, so an error names the file, the inject (counted
//! from 1, as a reader counts) and the field. [`Scenario::check`] then
//! applies the bounds serde cannot express.

use serde::{Deserialize, Serialize};
use trilat_core::{FurtherSharing, Marking, Party, Tlp};

/// Most injects in one scenario.
pub const INJECTS_MAX: usize = 1_000;
/// Latest inject time: a week of exercise.
pub const AT_S_MAX: f64 = 7.0 * 86_400.0;
/// Longest note text, in bytes.
pub const TEXT_BYTES_MAX: usize = 16 * 1024;
/// Longest STIX object, in bytes.
pub const STIX_BYTES_MAX: usize = 256 * 1024;
/// Most missiles in one salvo (the simulator's own bound).
pub const SALVO_MISSILES_MAX: u32 = trilat_missile::sim::MISSILES_MAX as u32;

/// A parsed, checked scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    /// Short name, e.g. `freedom-edge-day`.
    pub name: String,
    /// What the exercise trains.
    pub description: String,
    /// The injects, in the file's order (their times never decrease).
    pub injects: Vec<Inject>,
}

/// One inject: what happens, and when on the exercise clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inject {
    /// Seconds from the exercise's start.
    pub at_s: f64,
    /// A label for the report (default: the inject's type and number).
    pub label: Option<String>,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

/// What an inject does. `type` in the file.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// An analyst's note or incident report, published by `party`'s node.
    Note(NoteInject),
    /// One STIX 2.1 object (an indicator, say), published by `party`'s node
    /// as a `cyber.stix` report; partners read it over TAXII.
    Stix(StixInject),
    /// A missile launch or salvo: the simulator's flights, seen by the
    /// partners' radars, fed to `party`'s missile fuser.
    MissileLaunch(LaunchInject),
    /// A synthetic AIS story played into the nodes of the parties whose
    /// receivers hear it.
    AisStory(AisInject),
    /// A seismic event: a bulletin (QuakeML 1.2 or IMS1.0) posted to
    /// `party`'s seismic ingest, whose engine publishes the event and its
    /// nuclear-test assessment.
    Seismic(SeismicInject),
    /// A name screened at `party`'s node against its sanctions lists; the
    /// best hit, with the analyst's decision, published as `sanctions.hit`.
    SanctionsHit(SanctionsHitInject),
    /// The federation link between two nodes lost, then restored.
    LinkOutage(LinkOutageInject),
    /// A node stopped as a crash stops it and started again on the same
    /// store and port: only nodes the runner started (`--cluster`).
    NodeRestart(NodeRestartInject),
}

/// `type = "note"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInject {
    /// The publishing party (its node must be in the exercise).
    pub party: Party,
    /// The marking.
    pub marking: MarkingSpec,
    /// The note.
    pub text: String,
}

/// `type = "stix"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StixInject {
    /// The publishing party.
    pub party: Party,
    /// The marking.
    pub marking: MarkingSpec,
    /// The STIX 2.1 object, as JSON text.
    pub object: String,
}

/// `type = "missile_launch"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchInject {
    /// The party whose node fuses the partners' radars.
    pub party: Party,
    /// Launch site, `[lat, lon]` in degrees.
    pub site: [f64; 2],
    /// Initial bearing, degrees from north.
    pub bearing_deg: f64,
    /// Apogee (km).
    pub apogee_km: f64,
    /// Ground range (km).
    pub range_km: f64,
    /// Burn time (s); default: typical of the class the shape implies.
    #[serde(default)]
    pub burn_s: Option<f64>,
    /// Missiles in the salvo (default 1).
    #[serde(default = "one")]
    pub missiles: u32,
    /// Seconds between launches of a salvo (default 30).
    #[serde(default = "thirty")]
    pub interval_s: f64,
    /// A window, in seconds after the (first) launch, in which every radar
    /// is silent: a coverage gap.
    #[serde(default)]
    pub gap_s: Option<[f64; 2]>,
    /// Seed of the radars' noise, misses and false alarms (default 1).
    #[serde(default = "one_u64")]
    pub seed: u64,
}

/// `type = "ais_story"`: a built-in story, or vessels described in the
/// file (one of the two).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AisInject {
    /// A built-in story: `sts-encounter` (a tanker and a dark DPRK-linked
    /// vessel meet in the East China Sea; Japan's and Korea's receivers).
    #[serde(default)]
    pub story: Option<AisStory>,
    /// Exercise seconds over which the story plays.
    pub play_s: f64,
    /// The story's vessels (`[[inject.vessel]]`), when not a built-in one.
    #[serde(default, rename = "vessel")]
    pub vessels: Vec<VesselSpec>,
}

/// One vessel of a described AIS story: who it says it is, where it sails
/// (straight legs between track points), when it is dark, and whose
/// receivers hear it. A meeting is two tracks at one point over the same
/// hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VesselSpec {
    /// The MMSI it transmits (9 digits).
    pub mmsi: u32,
    /// The name it transmits (at most 20 characters of the AIS alphabet).
    pub name: String,
    /// The IMO number it transmits (default 0: none).
    #[serde(default)]
    pub imo: u32,
    /// The call sign (at most 7 characters).
    #[serde(default)]
    pub callsign: String,
    /// AIS ship and cargo type (default 0: not available; 80 tanker,
    /// 70 cargo, 30 fishing).
    #[serde(default)]
    pub ship_type: u8,
    /// The parties whose receivers hear it.
    pub heard_by: Vec<Party>,
    /// Seconds between its position reports (default 180).
    #[serde(default = "report_s_default")]
    pub report_s: u32,
    /// Track points `[hours from the story's start, lat, lon]`, hours
    /// increasing.
    pub track: Vec<[f64; 3]>,
    /// Windows `[from_h, to_h]` in which it does not transmit (an AIS gap).
    #[serde(default)]
    pub dark_h: Vec<[f64; 2]>,
}

/// Most vessels in one described story.
pub const VESSELS_MAX: usize = 100;
/// Most track points of one vessel.
pub const TRACK_POINTS_MAX: usize = 1_000;
/// Most position reports of one described story (all vessels).
pub const AIS_REPORTS_MAX: u64 = 200_000;
/// Longest story, hours (a week, as the exercise).
pub const STORY_H_MAX: f64 = 168.0;

/// The AIS stories the runner can play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AisStory {
    /// `trilat_ais::synth::demo_scenario`.
    StsEncounter,
}

/// `type = "seismic"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeismicInject {
    /// The party whose analyst posts the bulletin.
    pub party: Party,
    /// How the bulletin is written (default `quakeml`).
    #[serde(default)]
    pub format: BulletinFormat,
    /// Epicentre, `[lat, lon]` in degrees.
    pub epicentre: [f64; 2],
    /// Depth below the surface (km).
    pub depth_km: f64,
    /// Body-wave magnitude mb.
    pub magnitude_mb: f64,
    /// Surface-wave magnitude Ms, if measured (the assessment's Ms:mb
    /// discriminant needs it).
    #[serde(default)]
    pub magnitude_ms: Option<f64>,
    /// Seconds before the inject the event happened (the bulletin arrives
    /// after the origin time; default 0).
    #[serde(default)]
    pub origin_before_s: f64,
}

/// The bulletin formats the seismic ingest reads that the runner writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BulletinFormat {
    /// A QuakeML 1.2 document, as an agency's event service sends.
    #[default]
    Quakeml,
    /// An IMS1.0 short bulletin, as the IDC and ISC send.
    Ims1,
}

/// `type = "sanctions_hit"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanctionsHitInject {
    /// The party whose node screens the name (it must have lists loaded)
    /// and publishes the hit.
    pub party: Party,
    /// The name screened, in any script.
    pub name: String,
    /// `person`, `organization`, `vessel` or `aircraft`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Nationality or flag, ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    /// The analyst's decision on the best hit (default `confirmed`).
    #[serde(default)]
    pub decision: HitDecision,
    /// The analyst's note.
    #[serde(default)]
    pub note: String,
    /// The hit report's marking (default: the node's engines' marking).
    #[serde(default)]
    pub marking: Option<MarkingSpec>,
}

/// What the analyst decided about the hit (the sanctions route's words).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitDecision {
    /// The screened party is the listed entity.
    #[default]
    Confirmed,
    /// The screened party is not the listed entity.
    FalsePositive,
}

/// The schemas the screening route knows.
pub const SANCTIONS_SCHEMAS: &[&str] = &["person", "organization", "vessel", "aircraft"];
/// Longest name screened (the route's own bound).
pub const SCREEN_NAME_BYTES_MAX: usize = 512;

/// `type = "link_outage"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOutageInject {
    /// The two parties whose link is cut.
    pub between: [Party; 2],
    /// Seconds until it is restored.
    pub duration_s: f64,
}

/// `type = "node_restart"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRestartInject {
    /// The party whose node restarts.
    pub party: Party,
    /// Exercise seconds it stays down (1 s to 7 days).
    pub down_s: f64,
}

/// A marking as written in a scenario: `further_sharing` is optional
/// (default `none`, as in the API).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkingSpec {
    /// Classification level.
    pub level: String,
    /// TLP 2.0 label.
    pub tlp: Tlp,
    /// Releasability: parties or groups.
    pub rel_to: Vec<String>,
    /// Further-sharing rule.
    #[serde(default)]
    pub further_sharing: Option<FurtherSharing>,
}

impl MarkingSpec {
    /// The report marking.
    pub fn marking(&self) -> Marking {
        Marking {
            further_sharing: self.further_sharing.unwrap_or(FurtherSharing::None),
            ..Marking::new(&self.level, self.tlp, self.rel_to.iter().cloned())
        }
    }
}

fn one() -> u32 {
    1
}
fn one_u64() -> u64 {
    1
}
fn report_s_default() -> u32 {
    180
}
fn thirty() -> f64 {
    30.0
}

impl Action {
    /// The `type` name in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::Note(_) => "note",
            Action::Stix(_) => "stix",
            Action::MissileLaunch(_) => "missile_launch",
            Action::AisStory(_) => "ais_story",
            Action::Seismic(_) => "seismic",
            Action::SanctionsHit(_) => "sanctions_hit",
            Action::LinkOutage(_) => "link_outage",
            Action::NodeRestart(_) => "node_restart",
        }
    }

    /// Why the runner can play this inject only on nodes it started
    /// itself (`--cluster`), if so: no node route stops a node, the runner
    /// stops and starts the ones it owns.
    pub fn needs_own_nodes(&self) -> Option<&'static str> {
        match self {
            Action::NodeRestart(_) => Some(
                "node_restart needs --cluster: the runner can stop and start only the nodes it started (no node route restarts a node)",
            ),
            _ => None,
        }
    }

    /// The interval it takes the network apart, in exercise seconds from
    /// the inject's time, and the parties it touches: a link outage's two
    /// ends, a restarted node's party.
    pub fn outage(&self) -> Option<(f64, Vec<&Party>)> {
        match self {
            Action::LinkOutage(outage) => {
                Some((outage.duration_s, outage.between.iter().collect()))
            }
            Action::NodeRestart(restart) => Some((restart.down_s, vec![&restart.party])),
            _ => None,
        }
    }

    /// Whether the node's engines make the products (they are flagged
    /// exercise only when the node runs with `[engines] exercise = true`).
    pub fn engine_made(&self) -> bool {
        matches!(
            self,
            Action::MissileLaunch(_)
                | Action::AisStory(_)
                | Action::Seismic(_)
                | Action::SanctionsHit(_)
        )
    }
}

impl Inject {
    /// The label, or `TYPE #n` (n from 1).
    pub fn label_or(&self, inject_idx: usize) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| format!("{} #{}", self.action.type_name(), inject_idx + 1))
    }
}

/// A scenario that cannot be read: what, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    /// The file (as the caller named it).
    pub file: String,
    /// The inject, counted from 0; `None` for the file's head.
    pub inject_idx: Option<usize>,
    /// The line of the inject's `[[inject]]` header, counted from 1, when
    /// the file writes its injects as such tables.
    pub line: Option<usize>,
    /// The field, e.g. `marking.tlp`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ScenarioError {
    fn render(&self) -> String {
        let mut text = self.file.clone();
        if let Some(line) = self.line {
            text.push_str(&format!(":{line}"));
        }
        if let Some(idx) = self.inject_idx {
            text.push_str(&format!(": inject {}", idx + 1));
        }
        if let Some(field) = &self.field {
            text.push_str(&format!(": field `{field}`"));
        }
        text.push_str(": ");
        text.push_str(&self.message);
        text
    }
}

/// The file's head, before the injects are read one by one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    inject: Vec<toml::Value>,
}

impl Scenario {
    /// Reads and checks a scenario; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let head_err = |field: Option<String>, message: String| ScenarioError {
            file: file.to_string(),
            inject_idx: None,
            line: None,
            field,
            message,
        };
        let table: toml::Value = toml::from_str(text)
            .map_err(|e| head_err(None, e.to_string().trim_end().to_string()))?;
        let head: Head = serde_path_to_error::deserialize(table).map_err(|e| {
            let field = path_field(&e.path().to_string());
            head_err(field, serde_message(&e.into_inner()))
        })?;
        if head.inject.len() > INJECTS_MAX {
            return Err(head_err(
                Some("inject".into()),
                format!(
                    "{} injects; at most {INJECTS_MAX} per scenario",
                    head.inject.len()
                ),
            ));
        }
        let mut header_lines = inject_header_lines(text);
        if header_lines.len() != head.inject.len() {
            // Injects written inline (`inject = [{…}]`), or a header inside a
            // multi-line string: no line is better than a wrong one.
            header_lines.clear();
        }
        let err =
            |inject_idx: Option<usize>, field: Option<String>, message: String| ScenarioError {
                file: file.to_string(),
                inject_idx,
                line: inject_idx.and_then(|idx| header_lines.get(idx).copied()),
                field,
                message,
            };
        let mut injects = Vec::with_capacity(head.inject.len());
        for (inject_idx, value) in head.inject.into_iter().enumerate() {
            let inject = parse_inject(value)
                .map_err(|(field, message)| err(Some(inject_idx), field, message))?;
            injects.push(inject);
        }
        let scenario = Scenario {
            name: head.name,
            description: head.description,
            injects,
        };
        scenario
            .check()
            .map_err(|(inject_idx, field, message)| err(inject_idx, Some(field), message))?;
        Ok(scenario)
    }

    /// The bounds serde cannot express: `(inject, field, what)` of the first
    /// broken one.
    fn check(&self) -> Result<(), (Option<usize>, String, String)> {
        if self.name.trim().is_empty() {
            return Err((None, "name".into(), "must not be empty".into()));
        }
        let mut at_s_prev = 0.0;
        for (inject_idx, inject) in self.injects.iter().enumerate() {
            let fail =
                |field: &str, message: String| Err((Some(inject_idx), field.into(), message));
            if !(0.0..=AT_S_MAX).contains(&inject.at_s) {
                return fail("at_s", format!("{}: expected 0 to {AT_S_MAX}", inject.at_s));
            }
            if inject.at_s < at_s_prev {
                return fail(
                    "at_s",
                    format!(
                        "{} is before the previous inject's {at_s_prev}: injects are listed in time order",
                        inject.at_s
                    ),
                );
            }
            at_s_prev = inject.at_s;
            check_action(&inject.action).or_else(|(field, message)| fail(&field, message))?;
        }
        self.check_outages()
    }

    /// The first inject the runner can play only on nodes it started
    /// (`--cluster`): its index and why.
    pub fn first_needing_own_nodes(&self) -> Option<(usize, &'static str)> {
        self.injects
            .iter()
            .enumerate()
            .find_map(|(idx, inject)| inject.action.needs_own_nodes().map(|why| (idx, why)))
    }

    /// A node restart overlapping another restart of the same node or an
    /// outage of one of its links: the restarted node would come back
    /// with its links restored (a suspension is held in memory), or be
    /// stopped twice. `(inject, field, what)` of the later one.
    fn check_outages(&self) -> Result<(), (Option<usize>, String, String)> {
        for (idx, inject) in self.injects.iter().enumerate() {
            let Action::NodeRestart(restart) = &inject.action else {
                continue;
            };
            let (from_s, to_s) = (inject.at_s, inject.at_s + restart.down_s);
            for (other_idx, other) in self.injects.iter().enumerate() {
                let Some((duration_s, parties)) = other.action.outage() else {
                    continue;
                };
                let overlaps = other.at_s < to_s && from_s < other.at_s + duration_s;
                if other_idx == idx || !overlaps || !parties.contains(&&restart.party) {
                    continue;
                }
                let later_idx = idx.max(other_idx);
                return Err((
                    Some(later_idx),
                    "at_s".into(),
                    format!(
                        "inject {} ({} of {}, T+{} to T+{} s) overlaps inject {} ({}, T+{} to T+{} s): a node is restarted only while all its links are up and it is not already down",
                        idx + 1,
                        inject.action.type_name(),
                        restart.party,
                        from_s,
                        to_s,
                        other_idx + 1,
                        other.action.type_name(),
                        other.at_s,
                        other.at_s + duration_s
                    ),
                ));
            }
        }
        Ok(())
    }

    /// When the last inject starts, in exercise seconds (0 for none).
    pub fn last_at_s(&self) -> f64 {
        self.injects.last().map_or(0.0, |inject| inject.at_s)
    }
}

/// The line (from 1) of each `[[inject]]` header, in order: where an
/// error in an inject points a planner to.
fn inject_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            squeezed.starts_with("[[inject]]")
        })
        .map(|(idx, _)| idx + 1)
        .collect()
}

/// The types [`Action`] knows.
const TYPES_KNOWN: &[&str] = &[
    "note",
    "stix",
    "missile_launch",
    "ais_story",
    "seismic",
    "sanctions_hit",
    "link_outage",
    "node_restart",
];

/// One `[[inject]]` table: `at_s`, `label` and `type` first, then the rest
/// as the type's fields. Errors are `(field, what)`.
fn parse_inject(value: toml::Value) -> Result<Inject, (Option<String>, String)> {
    let toml::Value::Table(mut table) = value else {
        return Err((None, "an inject is a table ([[inject]])".into()));
    };
    let at_s = match table.remove("at_s") {
        Some(toml::Value::Integer(n)) => n as f64,
        Some(toml::Value::Float(x)) => x,
        Some(other) => {
            return Err((
                Some("at_s".into()),
                format!("expected seconds (a number), found {}", other.type_str()),
            ))
        }
        None => {
            return Err((
                Some("at_s".into()),
                "missing: when the inject happens".into(),
            ))
        }
    };
    let label = match table.remove("label") {
        Some(toml::Value::String(text)) => Some(text),
        Some(other) => {
            return Err((
                Some("label".into()),
                format!("expected a string, found {}", other.type_str()),
            ))
        }
        None => None,
    };
    let type_name = match table.remove("type") {
        Some(toml::Value::String(text)) => text,
        Some(other) => {
            return Err((
                Some("type".into()),
                format!("expected a string, found {}", other.type_str()),
            ))
        }
        None => {
            return Err((
                Some("type".into()),
                format!("missing; one of {}", TYPES_KNOWN.join(", ")),
            ))
        }
    };
    let rest = toml::Value::Table(table);
    let action = match type_name.as_str() {
        "note" => Action::Note(fields(rest)?),
        "stix" => Action::Stix(fields(rest)?),
        "missile_launch" => Action::MissileLaunch(fields(rest)?),
        "ais_story" => Action::AisStory(fields(rest)?),
        "seismic" => Action::Seismic(fields(rest)?),
        "sanctions_hit" => Action::SanctionsHit(fields(rest)?),
        "link_outage" => Action::LinkOutage(fields(rest)?),
        "node_restart" => Action::NodeRestart(fields(rest)?),
        other => {
            return Err((
                Some("type".into()),
                format!("unknown type {other:?}; one of {}", TYPES_KNOWN.join(", ")),
            ))
        }
    };
    Ok(Inject {
        at_s,
        label,
        action,
    })
}

/// A type's fields, with the failing field's path.
fn fields<T: serde::de::DeserializeOwned>(
    value: toml::Value,
) -> Result<T, (Option<String>, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = path_field(&e.path().to_string());
        (field, serde_message(&e.into_inner()))
    })
}

/// serde's message without the `in `KEY`` line toml appends (the field is
/// named already).
fn serde_message(err: &toml::de::Error) -> String {
    let text = err.to_string();
    let message = text.split("\nin `").next().unwrap_or(&text);
    message.trim_end().to_string()
}

/// `inject[2].marking.tlp` or `marking.tlp` → `marking.tlp`; `None` at the root.
fn path_field(path: &str) -> Option<String> {
    let path = path.trim_start_matches('.');
    (!path.is_empty() && path != ".").then(|| path.to_string())
}

fn range_check(field: &str, value: f64, min: f64, max: f64) -> Result<(), (String, String)> {
    if value.is_finite() && (min..=max).contains(&value) {
        return Ok(());
    }
    Err((field.into(), format!("{value}: expected {min} to {max}")))
}

fn check_marking(marking: &MarkingSpec) -> Result<(), (String, String)> {
    if marking.level.trim().is_empty() {
        return Err(("marking.level".into(), "must not be empty".into()));
    }
    if marking.rel_to.is_empty() {
        return Err((
            "marking.rel_to".into(),
            "must name at least one party or group".into(),
        ));
    }
    Ok(())
}

fn check_action(action: &Action) -> Result<(), (String, String)> {
    match action {
        Action::Note(note) => {
            check_marking(&note.marking)?;
            if note.text.trim().is_empty() || note.text.len() > TEXT_BYTES_MAX {
                return Err((
                    "text".into(),
                    format!("must be 1 to {TEXT_BYTES_MAX} bytes"),
                ));
            }
            Ok(())
        }
        Action::Stix(stix) => {
            check_marking(&stix.marking)?;
            if stix.object.len() > STIX_BYTES_MAX {
                return Err(("object".into(), format!("more than {STIX_BYTES_MAX} bytes")));
            }
            stix_check(&stix.object)
                .map_err(|e| ("object".into(), format!("not a valid STIX 2.1 object: {e}")))
        }
        Action::MissileLaunch(launch) => check_launch(launch),
        Action::AisStory(ais) => {
            range_check("play_s", ais.play_s, 1.0, AT_S_MAX)?;
            check_ais_story(ais)
        }
        Action::Seismic(seismic) => check_seismic(seismic),
        Action::SanctionsHit(hit) => check_sanctions_hit(hit),
        Action::LinkOutage(outage) => {
            if outage.between[0] == outage.between[1] {
                return Err(("between".into(), "names one party twice".into()));
            }
            range_check("duration_s", outage.duration_s, 1.0, AT_S_MAX)
        }
        Action::NodeRestart(restart) => range_check("down_s", restart.down_s, 1.0, AT_S_MAX),
    }
}

/// Whether `text` is one STIX 2.1 object the node will accept: the STIX
/// engine's own parse and validation; the error is its message.
pub fn stix_check(text: &str) -> Result<(), String> {
    let entry = trilat_cyber::Entry::parse(text).map_err(|e| e.to_string())?;
    trilat_cyber::validate_object(&entry.object).map_err(|e| e.to_string())
}

fn check_ais_story(ais: &AisInject) -> Result<(), (String, String)> {
    match (ais.story, ais.vessels.is_empty()) {
        (Some(_), false) => {
            return Err((
                "story".into(),
                "give a built-in story or [[inject.vessel]] tables, not both".into(),
            ))
        }
        (None, true) => {
            return Err((
                "story".into(),
                "missing: a built-in story (`sts-encounter`) or [[inject.vessel]] tables".into(),
            ))
        }
        _ => {}
    }
    if ais.vessels.len() > VESSELS_MAX {
        return Err((
            "vessel".into(),
            format!("{} vessels; at most {VESSELS_MAX}", ais.vessels.len()),
        ));
    }
    let mut n_reports = 0u64;
    for (vessel_idx, vessel) in ais.vessels.iter().enumerate() {
        check_vessel(vessel)
            .map_err(|(field, message)| (format!("vessel[{vessel_idx}].{field}"), message))?;
        let span_h = vessel.track.last().map_or(0.0, |p| p[0]) - vessel.track[0][0];
        n_reports += (span_h * 3600.0 / f64::from(vessel.report_s)) as u64 + 1;
    }
    if n_reports > AIS_REPORTS_MAX {
        return Err((
            "vessel".into(),
            format!("{n_reports} position reports; at most {AIS_REPORTS_MAX} per story (raise report_s)"),
        ));
    }
    Ok(())
}

fn check_vessel(vessel: &VesselSpec) -> Result<(), (String, String)> {
    if !(100_000_000..=999_999_999).contains(&vessel.mmsi) {
        return Err(("mmsi".into(), format!("{}: expected 9 digits", vessel.mmsi)));
    }
    let ais_text = |field: &str, text: &str, len_max: usize| {
        let ok = text.len() <= len_max
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b" -./'&()".contains(&b));
        match ok {
            true => Ok(()),
            false => Err((
                field.to_string(),
                format!(
                    "{text:?}: at most {len_max} of A-Z, 0-9, space and -./'&() (the AIS alphabet)"
                ),
            )),
        }
    };
    if vessel.name.trim().is_empty() {
        return Err(("name".into(), "must not be empty".into()));
    }
    ais_text("name", &vessel.name, 20)?;
    ais_text("callsign", &vessel.callsign, 7)?;
    if vessel.imo > 9_999_999 {
        return Err(("imo".into(), format!("{}: at most 7 digits", vessel.imo)));
    }
    if vessel.heard_by.is_empty() {
        return Err(("heard_by".into(), "must name at least one party".into()));
    }
    if !(10..=3_600).contains(&vessel.report_s) {
        return Err((
            "report_s".into(),
            format!("{}: expected 10 to 3600", vessel.report_s),
        ));
    }
    check_track(&vessel.track)?;
    for (gap_idx, [from_h, to_h]) in vessel.dark_h.iter().enumerate() {
        let field = format!("dark_h[{gap_idx}]");
        if !(from_h.is_finite() && to_h.is_finite() && from_h < to_h) {
            return Err((
                field,
                format!("[{from_h}, {to_h}]: the gap must end after it starts"),
            ));
        }
    }
    Ok(())
}

fn check_track(track: &[[f64; 3]]) -> Result<(), (String, String)> {
    if !(2..=TRACK_POINTS_MAX).contains(&track.len()) {
        return Err((
            "track".into(),
            format!("{} points; expected 2 to {TRACK_POINTS_MAX}", track.len()),
        ));
    }
    let mut h_prev = f64::NEG_INFINITY;
    for (point_idx, [h, lat, lon]) in track.iter().enumerate() {
        range_check(&format!("track[{point_idx}][0]"), *h, 0.0, STORY_H_MAX)?;
        range_check(&format!("track[{point_idx}][1]"), *lat, -90.0, 90.0)?;
        range_check(&format!("track[{point_idx}][2]"), *lon, -180.0, 180.0)?;
        if *h <= h_prev {
            return Err((
                format!("track[{point_idx}][0]"),
                format!("{h} h is not after the previous point's {h_prev} h"),
            ));
        }
        h_prev = *h;
    }
    Ok(())
}

fn check_seismic(seismic: &SeismicInject) -> Result<(), (String, String)> {
    range_check("epicentre[0]", seismic.epicentre[0], -90.0, 90.0)?;
    range_check("epicentre[1]", seismic.epicentre[1], -180.0, 180.0)?;
    range_check("depth_km", seismic.depth_km, 0.0, 800.0)?;
    range_check("magnitude_mb", seismic.magnitude_mb, -2.0, 10.0)?;
    if let Some(ms) = seismic.magnitude_ms {
        range_check("magnitude_ms", ms, -2.0, 10.0)?;
    }
    range_check("origin_before_s", seismic.origin_before_s, 0.0, AT_S_MAX)
}

fn check_sanctions_hit(hit: &SanctionsHitInject) -> Result<(), (String, String)> {
    if hit.name.trim().is_empty() || hit.name.len() > SCREEN_NAME_BYTES_MAX {
        return Err((
            "name".into(),
            format!("must be 1 to {SCREEN_NAME_BYTES_MAX} bytes"),
        ));
    }
    if let Some(schema) = hit.schema.as_deref() {
        if !SANCTIONS_SCHEMAS.contains(&schema) {
            return Err((
                "schema".into(),
                format!(
                    "unknown schema {schema:?}; one of {}",
                    SANCTIONS_SCHEMAS.join(", ")
                ),
            ));
        }
    }
    if let Some(country) = hit.country.as_deref() {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err((
                "country".into(),
                format!("{country:?}: expected an ISO 3166-1 alpha-2 code, e.g. KP"),
            ));
        }
    }
    if hit.note.len() > TEXT_BYTES_MAX {
        return Err(("note".into(), format!("more than {TEXT_BYTES_MAX} bytes")));
    }
    match &hit.marking {
        Some(marking) => check_marking(marking),
        None => Ok(()),
    }
}

fn check_launch(launch: &LaunchInject) -> Result<(), (String, String)> {
    range_check("site[0]", launch.site[0], -90.0, 90.0)?;
    range_check("site[1]", launch.site[1], -180.0, 180.0)?;
    range_check("bearing_deg", launch.bearing_deg, 0.0, 360.0)?;
    range_check("apogee_km", launch.apogee_km, 20.0, 6_000.0)?;
    range_check("range_km", launch.range_km, 50.0, 15_000.0)?;
    if let Some(burn_s) = launch.burn_s {
        range_check("burn_s", burn_s, 5.0, 600.0)?;
    }
    if !(1..=SALVO_MISSILES_MAX).contains(&launch.missiles) {
        return Err((
            "missiles".into(),
            format!("{}: expected 1 to {SALVO_MISSILES_MAX}", launch.missiles),
        ));
    }
    range_check("interval_s", launch.interval_s, 1.0, 3_600.0)?;
    if let Some([from_s, to_s]) = launch.gap_s {
        range_check("gap_s[0]", from_s, 0.0, AT_S_MAX)?;
        range_check("gap_s[1]", to_s, 0.0, AT_S_MAX)?;
        if to_s <= from_s {
            return Err((
                "gap_s".into(),
                format!("[{from_s}, {to_s}]: the gap must end after it starts"),
            ));
        }
    }
    Ok(())
}
