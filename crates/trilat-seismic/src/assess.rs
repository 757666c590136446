//! One assessment per event: where it is against the test site and the
//! declared tests, how deep, what the mb–Ms discriminant says, how big an
//! explosion it would be, how it relates to earlier tests, and an
//! explosion likelihood with its reasons.
//!
//! The likelihood is a sum of weighted, named pieces of evidence (each a
//! [`Reason`]), so the desk sees why, not only what. Weights:
//!
//! | evidence | weight |
//! |---|---|
//! | agency classes it a nuclear explosion (known / suspected) | +4 / +3 |
//! | agency classes it another explosion (quarry, mining, chemical …) | +2 |
//! | agency classes it an earthquake or other natural event | −1 |
//! | epicentre within [`Params::site_radius_km`] of the test site (less its uncertainty, at most that radius again) | +3 |
//! | elsewhere inside the approximate DPRK box | +1 |
//! | mb–Ms explosion-like / earthquake-like | +3 / −3 |
//! | measured depth shallow (≤ [`Params::shallow_km`], error ≤ 5 km) | +1 |
//! | measured depth deeper than any explosion (depth − error > [`Params::deep_km`]) | −3 |
//! | depth given without error and > [`Params::deep_km`] | −1 |
//! | minutes after a test, at the same place (collapse or aftershock) | −3 |
//!
//! Score ≥ 3: likely explosion; 1–2: possible; ≤ 0: unlikely. A likely
//! explosion is a likely **nuclear test** unless the agency calls it a
//! quarry, mining or chemical explosion, and it must be at the test site,
//! in the DPRK box, or classed nuclear by the agency.

use crate::discriminant::{self, Discriminant, DiscriminantVerdict};
use crate::event::Event;
use crate::sites::{distance_km, in_dprk_box, DeclaredTest, DECLARED_TESTS, PUNGGYE_RI};
use crate::yields::{self, YieldEstimate};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The assessment's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Within this distance of the test site (after subtracting the
    /// epicentre's uncertainty) an event is "at the site", km. The six
    /// declared tests' USGS epicentres lie within 9 km of the site's
    /// published point; teleseismic epicentres are good to about 10 km.
    pub site_radius_km: f64,
    /// A measured depth at or above this is shallow enough for a buried
    /// explosion, km (the declared tests were 0.5–0.8 km deep).
    pub shallow_km: f64,
    /// Deeper than this no explosion has been buried, km (the deepest
    /// contained tests were about 2.5 km).
    pub deep_km: f64,
    /// Two events at most this far apart can be one event or related, km.
    pub related_km: f64,
    /// Within this many seconds an event coincides with a test.
    pub coincide_s: i64,
    /// Within this many seconds after a test an event at the same place
    /// is a collapse or aftershock, not a new test.
    pub after_s: i64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            site_radius_km: 25.0,
            shallow_km: 3.0,
            deep_km: 5.0,
            related_km: 30.0,
            coincide_s: 120,
            after_s: 3600,
        }
    }
}

/// How likely an explosion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Score ≤ 0.
    Unlikely,
    /// Score 1–2.
    Possible,
    /// Score ≥ 3.
    Likely,
}

/// One piece of evidence and its weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Which evidence (`test-site`, `dprk-region`, `mb-ms`, `depth`,
    /// `event-type`, `after-test`).
    pub factor: String,
    /// Its weight in the score.
    pub weight: i32,
    /// In words, with the figures.
    pub text: String,
}

/// How an event relates to a declared test (or an earlier event of the
/// same batch assessed as a likely explosion).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// `coincides` (the same event) or `follows` (minutes after, same place).
    pub kind: String,
    /// The test or event it relates to (the date of a declared test, or
    /// the event's id).
    pub to: String,
    /// Seconds after it (negative: before).
    pub dt_s: f64,
    /// Distance between the epicentres, km.
    pub distance_km: f64,
}

/// The distance to one declared test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestDistance {
    /// The test's date.
    pub date: String,
    /// Distance between the epicentres, km.
    pub distance_km: f64,
}

/// The assessment of one event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The event's id.
    pub event_id: String,
    /// Origin time.
    #[serde(with = "time::serde::rfc3339")]
    pub origin_time: OffsetDateTime,
    /// Epicentre latitude.
    pub lat: Option<f64>,
    /// Epicentre longitude.
    pub lon: Option<f64>,
    /// The epicentre's largest uncertainty, km.
    pub uncertainty_km: Option<f64>,
    /// Depth, km, and whether it was fixed.
    pub depth_km: Option<f64>,
    /// Distance to the Punggye-ri test site, km.
    pub site_distance_km: Option<f64>,
    /// Distance to each declared test, oldest first.
    pub declared_tests: Vec<TestDistance>,
    /// The mb–Ms discriminant, when both magnitudes are given.
    pub discriminant: Option<Discriminant>,
    /// The yield the event's mb implies if it is an explosion.
    pub yield_estimate: Option<YieldEstimate>,
    /// Relations to declared tests and earlier likely explosions.
    pub relations: Vec<Relation>,
    /// The evidence, in the order it was weighed.
    pub reasons: Vec<Reason>,
    /// Sum of the weights.
    pub score: i32,
    /// The explosion likelihood.
    pub explosion: Likelihood,
    /// True for a likely explosion that is a likely nuclear test (see the
    /// module documentation).
    pub likely_nuclear_test: bool,
}

/// A place and time an event can relate to.
struct Anchor {
    label: String,
    time: OffsetDateTime,
    lat: f64,
    lon: f64,
}

impl From<&DeclaredTest> for Anchor {
    fn from(t: &DeclaredTest) -> Anchor {
        Anchor {
            label: format!("declared test {}", t.date),
            time: t.origin_time,
            lat: t.lat,
            lon: t.lon,
        }
    }
}

/// Assesses a batch: in time order, each event is related to the declared
/// tests and to the batch's earlier likely explosions. Returns one
/// assessment per event, in the input order.
pub fn assess_all(events: &[Event], params: &Params) -> Vec<Assessment> {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].origin.time);
    let mut anchors: Vec<Anchor> = DECLARED_TESTS.iter().map(Anchor::from).collect();
    let mut out: Vec<Option<Assessment>> = vec![None; events.len()];
    for idx in order {
        let a = assess_against(&events[idx], params, &anchors);
        if a.explosion == Likelihood::Likely {
            if let (Some(lat), Some(lon)) = (a.lat, a.lon) {
                anchors.push(Anchor {
                    label: format!("event {}", a.event_id),
                    time: a.origin_time,
                    lat,
                    lon,
                });
            }
        }
        out[idx] = Some(a);
    }
    let out: Vec<Assessment> = out.into_iter().flatten().collect();
    assert_eq!(out.len(), events.len());
    out
}

/// Assesses one event against the declared tests.
pub fn assess(event: &Event, params: &Params) -> Assessment {
    let anchors: Vec<Anchor> = DECLARED_TESTS.iter().map(Anchor::from).collect();
    assess_against(event, params, &anchors)
}

fn assess_against(event: &Event, params: &Params, anchors: &[Anchor]) -> Assessment {
    let origin = &event.origin;
    let uncertainty_km = origin.uncertainty.map(|u| u.radius_max_km());
    let mut reasons = Vec::new();
    type_evidence(event, &mut reasons);
    let mut site_distance_km = None;
    let mut declared_tests = Vec::new();
    let mut relations = Vec::new();
    if let Some((lat, lon)) = event.epicentre() {
        let d = distance_km(lat, lon, PUNGGYE_RI.lat, PUNGGYE_RI.lon);
        site_distance_km = Some(d);
        place_evidence(d, lat, lon, uncertainty_km, params, &mut reasons);
        declared_tests = DECLARED_TESTS
            .iter()
            .map(|t| TestDistance {
                date: t.date.to_owned(),
                distance_km: distance_km(lat, lon, t.lat, t.lon),
            })
            .collect();
        relations = relate(event, lat, lon, anchors, params, &mut reasons);
    } else {
        reasons.push(reason(
            "test-site",
            0,
            "no epicentre given: the place cannot be weighed".into(),
        ));
    }
    depth_evidence(event, params, &mut reasons);
    let discriminant = discriminant::mb_ms(event);
    if let Some(d) = &discriminant {
        reasons.push(discriminant_reason(d));
    }
    assert!(
        reasons.len() <= 16,
        "each factor adds at most a few reasons"
    );
    let score: i32 = reasons.iter().map(|r| r.weight).sum();
    let explosion = match score {
        s if s >= 3 => Likelihood::Likely,
        1 | 2 => Likelihood::Possible,
        _ => Likelihood::Unlikely,
    };
    let likely_nuclear_test = explosion == Likelihood::Likely
        && !is_non_nuclear_explosion(event)
        && reasons.iter().any(|r| {
            r.weight > 0
                && matches!(
                    r.factor.as_str(),
                    "test-site" | "dprk-region" | "event-type"
                )
        });
    assert!(!likely_nuclear_test || explosion == Likelihood::Likely);
    Assessment {
        event_id: event.id.clone(),
        origin_time: origin.time,
        lat: origin.lat,
        lon: origin.lon,
        uncertainty_km,
        depth_km: origin.depth_km,
        site_distance_km,
        declared_tests,
        discriminant,
        yield_estimate: yields::from_mb(event),
        relations,
        reasons,
        score,
        explosion,
        likely_nuclear_test,
    }
}

fn reason(factor: &str, weight: i32, text: String) -> Reason {
    Reason {
        factor: factor.to_owned(),
        weight,
        text,
    }
}

fn event_type_lower(event: &Event) -> Option<String> {
    event
        .event_type
        .as_deref()
        .map(|t| t.trim().to_ascii_lowercase())
}

fn is_non_nuclear_explosion(event: &Event) -> bool {
    event_type_lower(event)
        .is_some_and(|t| t.contains("quarry") || t.contains("mining") || t.contains("chemical"))
}

fn type_evidence(event: &Event, reasons: &mut Vec<Reason>) {
    let Some(t) = event_type_lower(event) else {
        return;
    };
    let certainty = event.event_type_certainty.as_deref().unwrap_or("");
    let (weight, text) = if t == "nuclear explosion" {
        let w = if certainty == "suspected" { 3 } else { 4 };
        (
            w,
            format!(
                "the agency classes it a nuclear explosion ({})",
                or_unstated(certainty)
            ),
        )
    } else if t.contains("explosion") || t.contains("blast") || t == "quarry" {
        (2, format!("the agency classes it {t:?}"))
    } else if t == "not existing" || t == "not reported" || t == "other event" {
        return;
    } else {
        (-1, format!("the agency classes it {t:?}"))
    };
    reasons.push(reason("event-type", weight, text));
}

fn or_unstated(s: &str) -> &str {
    if s.is_empty() {
        "certainty not stated"
    } else {
        s
    }
}

fn place_evidence(
    d: f64,
    lat: f64,
    lon: f64,
    uncertainty_km: Option<f64>,
    params: &Params,
    reasons: &mut Vec<Reason>,
) {
    // A poorly located event may lie at the site, but an uncertainty of
    // hundreds of km must not put half the region "at the site": the slack
    // is capped at the site radius itself.
    let slack = uncertainty_km.unwrap_or(0.0).min(params.site_radius_km);
    assert!(
        d.is_finite() && d >= 0.0,
        "a distance is a non-negative number"
    );
    if d - slack <= params.site_radius_km {
        reasons.push(reason(
            "test-site",
            3,
            format!(
                "{d:.1} km from the {} (uncertainty {}), within {} km",
                PUNGGYE_RI.name,
                uncertainty_km.map_or("not given".into(), |u| format!("{u:.1} km")),
                params.site_radius_km
            ),
        ));
    } else if in_dprk_box(lat, lon) {
        reasons.push(reason(
            "dprk-region",
            1,
            format!("inside the approximate DPRK box, {d:.0} km from the test site"),
        ));
    }
}

fn depth_evidence(event: &Event, params: &Params, reasons: &mut Vec<Reason>) {
    let origin = &event.origin;
    let Some(depth) = origin.depth_km else { return };
    if origin.depth_fixed {
        reasons.push(reason(
            "depth",
            0,
            format!("depth {depth:.1} km was fixed, not measured"),
        ));
        return;
    }
    match origin.depth_error_km {
        Some(err) if depth - err > params.deep_km => reasons.push(reason(
            "depth",
            -3,
            format!("depth {depth:.1} ± {err:.1} km: deeper than any buried explosion"),
        )),
        Some(err) if depth <= params.shallow_km && err <= 5.0 => reasons.push(reason(
            "depth",
            1,
            format!("depth {depth:.1} ± {err:.1} km: shallow, as a buried explosion is"),
        )),
        Some(err) => reasons.push(reason(
            "depth",
            0,
            format!("depth {depth:.1} ± {err:.1} km does not decide"),
        )),
        None if depth > params.deep_km => reasons.push(reason(
            "depth",
            -1,
            format!("depth {depth:.1} km (no error given): deeper than explosions are buried"),
        )),
        None => reasons.push(reason(
            "depth",
            0,
            format!("depth {depth:.1} km with no error given does not decide"),
        )),
    }
}

fn discriminant_reason(d: &Discriminant) -> Reason {
    let figures = format!(
        "Ms {:.2} − 1.25 × mb {:.2} = {:.2} against the IDC screening line −2.2",
        d.ms, d.mb, d.value
    );
    match d.verdict {
        DiscriminantVerdict::ExplosionLike => reason(
            "mb-ms",
            3,
            format!("{figures}: explosion-like (weak surface waves for its mb)"),
        ),
        DiscriminantVerdict::EarthquakeLike => {
            reason("mb-ms", -3, format!("{figures}: earthquake-like"))
        }
        DiscriminantVerdict::Indeterminate => reason(
            "mb-ms",
            0,
            format!("{figures}: within twice its error of the line"),
        ),
    }
}

fn relate(
    event: &Event,
    lat: f64,
    lon: f64,
    anchors: &[Anchor],
    params: &Params,
    reasons: &mut Vec<Reason>,
) -> Vec<Relation> {
    let mut relations = Vec::new();
    for anchor in anchors {
        let d = distance_km(lat, lon, anchor.lat, anchor.lon);
        if d > params.related_km {
            continue;
        }
        let dt_s = (event.origin.time - anchor.time).as_seconds_f64();
        let kind = if dt_s.abs() <= params.coincide_s as f64 {
            "coincides"
        } else if dt_s > 0.0 && dt_s <= params.after_s as f64 {
            "follows"
        } else {
            continue;
        };
        if kind == "follows" {
            reasons.push(reason(
                "after-test",
                -3,
                format!(
                    "{:.1} min after the {} and {d:.1} km from it: a cavity collapse or aftershock, not a new test (the 2017 test was followed 8.5 min later by a collapse, CENC 4.6)",
                    dt_s / 60.0,
                    anchor.label
                ),
            ));
        }
        relations.push(Relation {
            kind: kind.to_owned(),
            to: anchor.label.clone(),
            dt_s,
            distance_km: d,
        });
    }
    relations
}
