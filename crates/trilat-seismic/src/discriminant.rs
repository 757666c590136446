//! The mb–Ms discriminant. For the same body-wave magnitude an explosion
//! makes much weaker surface waves than an earthquake (a small, fast,
//! isotropic source), so it plots low on an Ms-against-mb diagram.
//!
//! The line is the International Data Centre's Ms:mb event-screening
//! criterion: an event with `Ms − 1.25 mb > −2.2` is screened out as
//! consistent with an earthquake (CTBT Protocol Part I §18 and Annex 2
//! list mb:Ms among the IDC's standard screening parameters; the constants
//! as the IDC applies them are described by Fisk, Jepsen & Murphy (2002),
//! Pure Appl. Geophys. 159; see docs/seismic.md for what was and was not
//! checked in the sources). The IDC also asks the difference to exceed the line by
//! twice its standard error before screening out; when the magnitudes'
//! errors are given we do the same, else the point value decides.

use crate::event::{Event, MagnitudeScale};
use serde::{Deserialize, Serialize};

/// The screening line's constant: `Ms − 1.25 mb` above it is
/// earthquake-like.
pub const SCREEN_CONSTANT: f64 = -2.2;
/// The screening line's slope on mb.
pub const SCREEN_MB_SLOPE: f64 = 1.25;

/// The discriminant's result for one event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discriminant {
    /// mb used (the event's first mb).
    pub mb: f64,
    /// Its agency, when given.
    pub mb_agency: Option<String>,
    /// Ms used (the event's first Ms).
    pub ms: f64,
    /// Its agency, when given.
    pub ms_agency: Option<String>,
    /// `Ms − 1.25 mb`.
    pub value: f64,
    /// Its standard error from the magnitudes' errors, when both are given.
    pub sigma: Option<f64>,
    /// What the value says.
    pub verdict: DiscriminantVerdict,
}

/// Where the event falls against the screening line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscriminantVerdict {
    /// Below the line: explosion-like (weak surface waves for its mb).
    ExplosionLike,
    /// Above the line by more than twice the error: earthquake-like.
    EarthquakeLike,
    /// Above the line, but within twice the error of it.
    Indeterminate,
}

impl DiscriminantVerdict {
    /// True below the screening line.
    pub fn is_explosion_like(self) -> bool {
        self == DiscriminantVerdict::ExplosionLike
    }
}

/// The discriminant, when the event has both an mb and an Ms.
pub fn mb_ms(event: &Event) -> Option<Discriminant> {
    let mb = event.magnitude(MagnitudeScale::Mb)?;
    let ms = event.magnitude(MagnitudeScale::Ms)?;
    let value = ms.value - SCREEN_MB_SLOPE * mb.value;
    let sigma = match (mb.error, ms.error) {
        (Some(eb), Some(es)) => Some((SCREEN_MB_SLOPE * eb).hypot(es)),
        _ => None,
    };
    let verdict = if value < SCREEN_CONSTANT {
        DiscriminantVerdict::ExplosionLike
    } else if value - SCREEN_CONSTANT > 2.0 * sigma.unwrap_or(0.0) {
        DiscriminantVerdict::EarthquakeLike
    } else {
        DiscriminantVerdict::Indeterminate
    };
    Some(Discriminant {
        mb: mb.value,
        mb_agency: mb.agency.clone(),
        ms: ms.value,
        ms_agency: ms.agency.clone(),
        value,
        sigma,
        verdict,
    })
}
