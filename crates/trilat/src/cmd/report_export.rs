//! `trilat report export`: the reports a query answers, as GeoJSON or KML
//! for GIS tools. Glue only: flags → the node's report query (every page)
//! → `trilat_tak::export`. (The other `trilat report` commands are in `node.rs`.)

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use trilat_core::Report;
use trilat_node::client::NodeClient;

/// What `trilat report export --help` shows after the flags.
pub const EXPORT_HELP: &str = "\
Asks the node for every page of GET /api/v1/reports with the filters given (so the node
applies the release rule for the token's party and audits the read), then writes one
document: GeoJSON (RFC 7946, a FeatureCollection; a report without a geometry keeps a null
geometry) or KML 2.2 (one Placemark per report with a geometry). Each feature carries the
report's id, owner, kind, version, times, exercise flag and its marking (the banner in
`classification`), and the payload. Opens in QGIS, ArcGIS and Google Earth.

The export is the caller's responsibility once written: it keeps the banner, but a file
does not enforce releasability.

Examples:
  export TRILAT_TOKEN=trl_...
  trilat report export --format geojson --kind missile.assessment --out launches.geojson
  trilat report export --format kml --bbox 124,33,132,43 --from 2026-12-01T00:00:00Z --out sea.kml
  trilat report export --format geojson --owner KOR --exercise true > kor-exercise.geojson";

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// GeoJSON (RFC 7946).
    Geojson,
    /// KML 2.2.
    Kml,
}

/// `trilat report export` flags.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,
    /// The node's API.
    #[arg(long, env = "TRILAT_NODE", default_value = "http://127.0.0.1:7401")]
    node: String,
    /// A bearer token of the node (any role).
    #[arg(long, env = "TRILAT_TOKEN", hide_env_values = true)]
    token: String,
    /// Only this kind (e.g. `seismic.event`).
    #[arg(long)]
    kind: Option<String>,
    /// Only this owner (e.g. `JPN`).
    #[arg(long)]
    owner: Option<String>,
    /// Observed at or after (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Observed at or before (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// Only in this box: west,south,east,north (degrees).
    #[arg(long)]
    bbox: Option<String>,
    /// Exercise reports only (`true`) or real-world only (`false`); default both.
    #[arg(long)]
    exercise: Option<bool>,
    /// Stop after this many reports.
    #[arg(long, default_value_t = 100_000)]
    max: usize,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Most reports one export holds.
const EXPORT_REPORTS_MAX: usize = 1_000_000;
/// Most pages followed (a node that keeps answering `next` cannot loop us forever).
const PAGES_MAX: usize = 100_000;

/// Runs `trilat report export`.
pub async fn export(args: ExportArgs) -> Result<()> {
    if args.max == 0 || args.max > EXPORT_REPORTS_MAX {
        bail!("--max must be between 1 and {EXPORT_REPORTS_MAX}");
    }
    let client = NodeClient::new(&args.node, &args.token);
    let reports = fetch(&client, &args).await?;
    let text = match args.format {
        Format::Geojson => {
            let mut text = serde_json::to_string_pretty(&trilat_tak::export::geojson(&reports))?;
            text.push('\n');
            text
        }
        Format::Kml => {
            trilat_tak::export::kml(&reports, &format!("Trilat reports from {}", args.node))
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("{}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    eprintln!("{} reports exported", reports.len());
    Ok(())
}

/// A page of `GET /api/v1/reports`.
#[derive(serde::Deserialize)]
struct Page {
    reports: Vec<Report>,
    next: Option<String>,
}

/// Every page of the query, up to `--max` reports.
async fn fetch(client: &NodeClient, args: &ExportArgs) -> Result<Vec<Report>> {
    let mut filters = Vec::new();
    let named = [
        ("kind", args.kind.clone()),
        ("owner", args.owner.clone()),
        ("from", args.from.clone()),
        ("to", args.to.clone()),
        ("bbox", args.bbox.clone()),
        ("exercise", args.exercise.map(|e| e.to_string())),
    ];
    for (name, value) in named {
        if let Some(value) = value {
            filters.push(format!("{name}={}", percent_encode(&value)));
        }
    }
    let mut reports: Vec<Report> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..PAGES_MAX {
        let mut query = filters.clone();
        if let Some(cursor) = &cursor {
            query.push(format!("cursor={}", percent_encode(cursor)));
        }
        let path = format!("/api/v1/reports?{}", query.join("&"));
        let page = client
            .get(&path)
            .await
            .with_context(|| format!("{}{path}", args.node))?;
        let page: Page =
            serde_json::from_value(page).context("the node's answer is not a page of reports")?;
        reports.extend(page.reports);
        if reports.len() >= args.max {
            reports.truncate(args.max);
            eprintln!("stopped at --max {} reports", args.max);
            break;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(reports)
}

/// A query-string value: unreserved characters kept, the rest %XX.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
