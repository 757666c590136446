//! Yield from body-wave magnitude: `mb = a + b·log10(Y)`, Y in kilotons,
//! for a fully coupled explosion in hard rock at normal burial depth.
//!
//! The central estimate uses Murphy (1981)'s hard-rock relation
//! `mb = 4.45 + 0.75 log10 Y` (the same constants Ringdal et al. (1992)
//! fit for the Shagan River test site). The range spans it and two other
//! published parameter pairs used for the Korean peninsula:
//! `mb = 4.0 + log10 Y` (the rule of thumb quoted for IMS data) and
//! `mb = 4.28 + 0.84 log10 Y` (KIGAM, the Korea Institute of Geoscience
//! and Mineral Resources). The range is the spread over the relations'
//! parameters only: it does not include the mb's own error (±0.1 in mb is
//! about ±25–35 % in yield), nor the agency's mb bias (USGS mb runs about
//! 0.1–0.2 above the IDC's for these events), nor coupling or depth.

use crate::event::{Event, MagnitudeScale};
use serde::{Deserialize, Serialize};

/// One published relation `mb = a + b·log10(Y kt)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// Short name and source.
    pub name: &'static str,
    /// Intercept a.
    pub a: f64,
    /// Slope b.
    pub b: f64,
}

impl Relation {
    /// The yield in kilotons this relation gives for `mb`.
    pub fn yield_kt(&self, mb: f64) -> f64 {
        assert!(self.b > 0.0, "a relation's slope is positive");
        10f64.powf((mb - self.a) / self.b)
    }
}

/// The central relation: Murphy (1981), hard rock.
pub const MURPHY_1981: Relation = Relation {
    name: "Murphy (1981), hard rock: mb = 4.45 + 0.75 log10 Y",
    a: 4.45,
    b: 0.75,
};
/// The relations the range is taken over (the central one first).
pub const RELATIONS: [Relation; 3] = [
    MURPHY_1981,
    Relation {
        name: "IMS rule of thumb: mb = 4.0 + log10 Y",
        a: 4.0,
        b: 1.0,
    },
    Relation {
        name: "KIGAM (Korean peninsula): mb = 4.28 + 0.84 log10 Y",
        a: 4.28,
        b: 0.84,
    },
];
/// Below this mb no yield is given (the relations are not calibrated
/// there, and it is the noise floor of teleseismic mb).
pub const MB_MIN: f64 = 2.5;

/// A yield estimate from one mb.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YieldEstimate {
    /// The mb used.
    pub mb: f64,
    /// Its agency, when given.
    pub mb_agency: Option<String>,
    /// Central estimate (Murphy 1981), kt.
    pub central_kt: f64,
    /// Lowest over [`RELATIONS`], kt.
    pub low_kt: f64,
    /// Highest over [`RELATIONS`], kt.
    pub high_kt: f64,
    /// Each relation's figure: (name, kt).
    pub by_relation: Vec<(String, f64)>,
}

/// The yield from the event's first mb, if it has one at or above
/// [`MB_MIN`].
pub fn from_mb(event: &Event) -> Option<YieldEstimate> {
    let mb = event.magnitude(MagnitudeScale::Mb)?;
    if mb.value < MB_MIN || mb.value > 9.0 {
        return None;
    }
    let by_relation: Vec<(String, f64)> = RELATIONS
        .iter()
        .map(|r| (r.name.to_owned(), r.yield_kt(mb.value)))
        .collect();
    let low_kt = by_relation
        .iter()
        .map(|r| r.1)
        .fold(f64::INFINITY, f64::min);
    let high_kt = by_relation.iter().map(|r| r.1).fold(0.0, f64::max);
    let central_kt = MURPHY_1981.yield_kt(mb.value);
    assert!(low_kt <= central_kt && central_kt <= high_kt);
    Some(YieldEstimate {
        mb: mb.value,
        mb_agency: mb.agency.clone(),
        central_kt,
        low_kt,
        high_kt,
        by_relation,
    })
}
