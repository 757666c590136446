//! A seismic inject written as the bulletin an agency would send: a
//! QuakeML 1.2 document or an IMS1.0 short bulletin, the formats the node's
//! seismic ingest reads (`trilat_seismic::read`). The event id, agency and
//! region say EXERCISE, so nobody mistakes the event for a real one.

use trilat_missile::sensors::format_time;

use crate::scenario::{BulletinFormat, SeismicInject};

/// Who the bulletin says reported the event.
const AGENCY: &str = "EXERCISE";

/// The bulletin of `seismic`, its origin time `origin_unix_ms`; `event_key`
/// makes the event id unique (the run and the inject).
pub fn bulletin(seismic: &SeismicInject, origin_unix_ms: i64, event_key: &str) -> String {
    assert!(!event_key.is_empty());
    assert!(!event_key.contains(char::is_whitespace));
    match seismic.format {
        BulletinFormat::Quakeml => quakeml(seismic, origin_unix_ms, event_key),
        BulletinFormat::Ims1 => ims1(seismic, origin_unix_ms, event_key),
    }
}

fn quakeml(seismic: &SeismicInject, origin_unix_ms: i64, event_key: &str) -> String {
    let time = format_time(origin_unix_ms as f64 / 1000.0);
    let [lat, lon] = seismic.epicentre;
    let depth_m = seismic.depth_km * 1000.0;
    let id = format!("smi:trilat.exercise/{event_key}");
    let mut magnitudes = quakeml_magnitude(&id, "mb", seismic.magnitude_mb);
    if let Some(ms) = seismic.magnitude_ms {
        magnitudes.push_str(&quakeml_magnitude(&id, "Ms", ms));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<q:quakeml xmlns="http://quakeml.org/xmlns/bed/1.2" xmlns:q="http://quakeml.org/xmlns/quakeml/1.2">
<eventParameters publicID="{id}">
<event publicID="{id}/event">
<description><text>EXERCISE EXERCISE EXERCISE: synthetic event (Trilat exercise; not a real event)</text><type>region name</type></description>
<origin publicID="{id}/origin">
<time><value>{time}</value></time>
<latitude><value>{lat}</value></latitude><longitude><value>{lon}</value></longitude>
<depth><value>{depth_m}</value></depth>
<creationInfo><agencyID>{AGENCY}</agencyID></creationInfo>
</origin>
{magnitudes}</event>
</eventParameters>
</q:quakeml>
"#
    )
}

fn quakeml_magnitude(id: &str, kind: &str, value: f64) -> String {
    format!(
        "<magnitude publicID=\"{id}/{kind}\"><mag><value>{value}</value></mag><type>{kind}</type><creationInfo><agencyID>{AGENCY}</agencyID></creationInfo></magnitude>\n"
    )
}

/// The IMS1.0 short form: fixed columns (date 1–10, time 12–22, latitude
/// 37–44, longitude 46–54, depth 72–76, author 119–127; magnitude type
/// 1–5, value 7–10, author 21–29). Times are to the hundredth of a second,
/// as the format writes them.
fn ims1(seismic: &SeismicInject, origin_unix_ms: i64, event_key: &str) -> String {
    let iso = format_time(origin_unix_ms as f64 / 1000.0);
    // "YYYY-MM-DDTHH:MM:SS.mmmZ" → "YYYY/MM/DD" and "HH:MM:SS.ss".
    let date = iso[..10].replace('-', "/");
    let time = &iso[11..22];
    let [lat, lon] = seismic.epicentre;
    let origin = format!(
        "{date} {time}{:14}{lat:8.4} {lon:9.4}{:17}{:5.1} {:41}{AGENCY}",
        "", "", seismic.depth_km, ""
    );
    debug_assert_eq!(origin.find(AGENCY), Some(118));
    let mut magnitudes = format!("mb     {:3.1}          {AGENCY}\n", seismic.magnitude_mb);
    if let Some(ms) = seismic.magnitude_ms {
        magnitudes.push_str(&format!("Ms     {ms:3.1}          {AGENCY}\n"));
    }
    format!(
        "BEGIN IMS1.0\nDATA_TYPE BULLETIN IMS1.0:short\nTrilat exercise bulletin (EXERCISE EXERCISE EXERCISE; not a real event)\n\nEVENT {event_key} EXERCISE\n   Date       Time        Err   RMS Latitude Longitude  Smaj  Smin  Az Depth   Err Ndef Nsta Gap  mdist  Mdist Qual   Author      OrigID\n{origin}\n\nMagnitude  Err Nsta Author      OrigID\n{magnitudes}\nSTOP\n"
    )
}
