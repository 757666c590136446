//! `GET /api/v1/ais/vessels`: the AIS picture of this node's own feeds, the
//! most recently heard vessels first, each with its short trail (the
//! tracker's ring of recent fixes, unless `trail=false`). `since` answers
//! only the vessels heard since a time, so a client polling every second
//! receives the changes, not the whole picture again. Feed data is the node's own, not a
//! report: only its own party's tokens read it, readers included.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use trilat_ais::track::{Tracker, VesselSummary};
use trilat_core::Timestamp;

use crate::api::parse_bbox;
use crate::config::Role;
use crate::{AppError, AppState, Caller, QueryParams};

/// Vessels one answer carries at most (the console draws up to this many).
pub const VESSELS_MAX: usize = 10_000;
/// Vessels answered when no `limit` is given.
const VESSELS_DEFAULT: usize = 1_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VesselsParams {
    bbox: Option<String>,
    limit: Option<usize>,
    /// Only vessels last heard at or after this time (unix milliseconds).
    since: Option<i64>,
    /// Whether each vessel carries its trail (default true).
    trail: Option<bool>,
}

/// The answer.
#[derive(Debug, Serialize)]
pub(super) struct VesselsAnswer {
    /// Whether this feed is exercise data (`[engines] exercise`).
    exercise: bool,
    /// Vessels in the box (or held), before `since` and `limit`.
    total: usize,
    vessels: Vec<VesselView>,
}

/// One vessel.
#[derive(Debug, Serialize)]
struct VesselView {
    mmsi: u32,
    name: Option<String>,
    callsign: Option<String>,
    imo: Option<u32>,
    flag: Option<&'static str>,
    ship_type: Option<&'static str>,
    lat: f64,
    lon: f64,
    sog_kn: Option<f32>,
    cog_deg: Option<f32>,
    heading_deg: Option<u16>,
    last_seen: Timestamp,
    /// `[lon, lat, unix_ms]`, oldest first; absent with `trail=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    trail: Option<Vec<(f64, f64, i64)>>,
}

pub(super) async fn vessels_get(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<VesselsParams>,
) -> Result<Json<VesselsAnswer>, AppError> {
    caller.require(Role::Reader)?;
    // The tracker holds this node's own, unreleased feed data.
    if caller.party != state.party {
        return Err(AppError::forbidden(format!(
            "AIS vessels are {}'s own feed data",
            state.party
        )));
    }
    let bbox = params.bbox.as_deref().map(parse_bbox).transpose()?;
    let limit = match params.limit {
        None => VESSELS_DEFAULT,
        Some(n) if (1..=VESSELS_MAX).contains(&n) => n,
        Some(n) => {
            return Err(AppError::bad_request(
                "invalid_query",
                format!("limit {n}: expected 1 to {VESSELS_MAX}"),
            ))
        }
    };
    let select = Select {
        bbox,
        limit,
        since_unix_ms: params.since.unwrap_or(i64::MIN),
        trails: params.trail.unwrap_or(true),
    };
    let engines = state.engines.get()?;
    let (total, vessels) = engines
        .maritime
        .with_tracker(|tracker| snapshot(tracker, &select));
    Ok(Json(VesselsAnswer {
        exercise: engines.config.exercise,
        total,
        vessels,
    }))
}

/// What one request asks for.
struct Select {
    bbox: Option<[f64; 4]>,
    limit: usize,
    since_unix_ms: i64,
    trails: bool,
}

/// The vessels in the box, counted, then the `limit` most recently heard of
/// those heard since `since_unix_ms`, with their trails when asked.
fn snapshot(tracker: &Tracker, select: &Select) -> (usize, Vec<VesselView>) {
    let mut summaries: Vec<VesselSummary> = tracker
        .summaries()
        .into_iter()
        .filter(|v| select.bbox.is_none_or(|bbox| in_bbox(bbox, v.lat, v.lon)))
        .collect();
    let total = summaries.len();
    summaries.retain(|v| v.last_seen_unix_ms >= select.since_unix_ms);
    summaries.sort_by_key(|v| std::cmp::Reverse(v.last_seen_unix_ms));
    summaries.truncate(select.limit);
    let vessels: Vec<VesselView> = summaries
        .into_iter()
        .map(|v| {
            let trail = select.trails.then(|| {
                tracker
                    .trail(v.mmsi)
                    .iter()
                    .map(|fix| (fix.lon, fix.lat, fix.time_unix_ms))
                    .collect()
            });
            view(v, trail)
        })
        .collect();
    assert!(vessels.len() <= select.limit);
    (total, vessels)
}

/// `[west, south, east, north]`; west > east crosses the antimeridian.
fn in_bbox([west, south, east, north]: [f64; 4], lat: f64, lon: f64) -> bool {
    let lon_in = if west <= east {
        (west..=east).contains(&lon)
    } else {
        lon >= west || lon <= east
    };
    lon_in && (south..=north).contains(&lat)
}

fn view(v: VesselSummary, trail: Option<Vec<(f64, f64, i64)>>) -> VesselView {
    VesselView {
        mmsi: v.mmsi,
        name: v.shipname,
        callsign: v.callsign,
        imo: v.imo,
        flag: v
            .flag_country
            .as_deref()
            .and_then(trilat_geo::iso3_from_name),
        ship_type: v.shiptype.map(ship_type_name),
        lat: v.lat,
        lon: v.lon,
        sog_kn: v.speed_knots,
        cog_deg: v.course_deg,
        heading_deg: v.heading_deg,
        last_seen: Timestamp::from_unix_ms(v.last_seen_unix_ms),
        trail,
    }
}

/// The category of an AIS ship type code (ITU-R M.1371-5, table 53).
fn ship_type_name(code: u8) -> &'static str {
    match code {
        30 => "fishing",
        31 | 32 => "towing",
        52 => "tug",
        35 => "military",
        36 => "sailing",
        37 => "pleasure",
        40..=49 => "high_speed",
        50 => "pilot",
        51 => "search_and_rescue",
        55 => "law_enforcement",
        60..=69 => "passenger",
        70..=79 => "cargo",
        80..=89 => "tanker",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_and_ship_types() {
        assert!(in_bbox([120.0, 30.0, 130.0, 40.0], 35.0, 125.0));
        assert!(!in_bbox([120.0, 30.0, 130.0, 40.0], 35.0, 131.0));
        assert!(!in_bbox([120.0, 30.0, 130.0, 40.0], 41.0, 125.0));
        // Across the antimeridian.
        assert!(in_bbox([170.0, -10.0, -170.0, 10.0], 0.0, 179.5));
        assert!(in_bbox([170.0, -10.0, -170.0, 10.0], 0.0, -175.0));
        assert!(!in_bbox([170.0, -10.0, -170.0, 10.0], 0.0, 0.0));
        assert_eq!(ship_type_name(84), "tanker");
        assert_eq!(ship_type_name(70), "cargo");
        assert_eq!(ship_type_name(0), "other");
    }
}
