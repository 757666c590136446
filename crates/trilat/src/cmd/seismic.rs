//! `trilat seismic …`: read seismic events (QuakeML 1.2, IMS1.0, USGS
//! GeoJSON) and assess each as a possible nuclear test. Glue only: the
//! engine is `trilat_seismic`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use trilat_seismic::{assess_all, format_utc, read, Assessment, Event, Likelihood, Params};

/// The `trilat seismic` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Assess events: distance to Punggye-ri and the declared tests, depth, mb-Ms, yield, likelihood.
    #[command(after_help = ASSESS_HELP)]
    Assess(AssessArgs),
}

const ASSESS_HELP: &str = "Examples:
  trilat seismic assess bulletin.txt                 # an IMS1.0 bulletin
  trilat seismic assess events.xml feed.geojson --json > assessments.json

Each FILE is QuakeML 1.2 (starts with `<`), a USGS GeoJSON feed (starts with `{`) or an IMS1.0
short bulletin (has a `DATA_TYPE BULLETIN IMS1.0:short` line); the format is detected. All
events of all files are assessed together, so a later event can relate to an earlier likely
test. --json prints {\"events\": [...], \"assessments\": [...], \"diagnostics\": [...]}.
Method and sources: docs/seismic.md.
Exit status: 0 on success, 1 on a file that cannot be read (the message names the line).";

/// Arguments of `trilat seismic assess`.
#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// Event files (QuakeML 1.2, IMS1.0 bulletin, USGS GeoJSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `trilat seismic` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Assess(args) => assess(args),
    }
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut text = String::new();
    let limit = trilat_seismic::INPUT_LEN_MAX as u64 + 1;
    file.take(limit)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {} (UTF-8 text expected)", path.display()))?;
    anyhow::ensure!(
        text.len() <= trilat_seismic::INPUT_LEN_MAX,
        "{}: larger than {} bytes",
        path.display(),
        trilat_seismic::INPUT_LEN_MAX
    );
    Ok(text)
}

fn assess(args: AssessArgs) -> anyhow::Result<()> {
    let mut events: Vec<Event> = Vec::new();
    let mut diagnostics = Vec::new();
    for path in &args.files {
        let text = read_file(path)?;
        let parsed = read(&text).with_context(|| path.display().to_string())?;
        for d in parsed.diagnostics {
            diagnostics.push(serde_json::json!({
                "file": path.display().to_string(), "line": d.line, "what": d.what
            }));
        }
        anyhow::ensure!(
            events.len() + parsed.events.len() <= trilat_seismic::EVENTS_MAX,
            "more than {} events in all",
            trilat_seismic::EVENTS_MAX
        );
        events.extend(parsed.events);
    }
    let assessments = assess_all(&events, &Params::default());
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "events": events, "assessments": assessments, "diagnostics": diagnostics,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    for d in &diagnostics {
        eprintln!(
            "note: {}:{}: {}",
            d["file"].as_str().unwrap_or(""),
            d["line"],
            d["what"].as_str().unwrap_or("")
        );
    }
    print_table(&mut out, &events, &assessments)?;
    Ok(())
}

fn print_table(
    out: &mut impl Write,
    events: &[Event],
    assessments: &[Assessment],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:<18} {:>8} {:>9} {:>7} {:>9} {:<12} {:>6} {:<16} {:<10}",
        "time (UTC)",
        "event",
        "lat",
        "lon",
        "depth",
        "site km",
        "magnitudes",
        "mb-Ms",
        "yield kt",
        "explosion"
    )?;
    for (e, a) in events.iter().zip(assessments) {
        let mags: Vec<String> = e
            .magnitudes
            .iter()
            .take(2)
            .map(|m| format!("{}{:.1}", m.raw_type, m.value))
            .collect();
        let flag = match (a.likely_nuclear_test, a.explosion) {
            (true, _) => "LIKELY TEST",
            (false, Likelihood::Likely) => "likely",
            (false, Likelihood::Possible) => "possible",
            (false, Likelihood::Unlikely) => "unlikely",
        };
        writeln!(
            out,
            "{:<24} {:<18} {:>8} {:>9} {:>7} {:>9} {:<12} {:>6} {:<16} {:<10}",
            format_utc(a.origin_time),
            short(&e.id, 18),
            opt(a.lat, 3),
            opt(a.lon, 3),
            opt(a.depth_km, 1),
            opt(a.site_distance_km, 0),
            mags.join(" "),
            a.discriminant
                .as_ref()
                .map_or("-".into(), |d| format!("{:.2}", d.value)),
            a.yield_estimate.as_ref().map_or("-".into(), |y| format!(
                "{:.1} ({:.1}-{:.1})",
                y.central_kt, y.low_kt, y.high_kt
            )),
            flag,
        )?;
        for r in a.reasons.iter().filter(|r| r.weight != 0) {
            writeln!(out, "    {:+} {}: {}", r.weight, r.factor, r.text)?;
        }
        for r in &a.relations {
            writeln!(
                out,
                "    {} {} ({:+.0} s, {:.1} km)",
                r.kind, r.to, r.dt_s, r.distance_km
            )?;
        }
    }
    Ok(())
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.decimals$}"))
}

/// A readable id for the table: the last part of a URI-like id that looks
/// like an identifier (`…/query?eventid=ci37285320&format=…` → `ci37285320`).
fn short(id: &str, n: usize) -> String {
    let part = id
        .split(['/', '?', '&', '=', ';'])
        .rfind(|p| p.len() >= 4 && p.bytes().any(|b| b.is_ascii_digit()))
        .unwrap_or(id);
    part.chars().take(n).collect()
}
