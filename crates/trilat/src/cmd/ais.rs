//! `trilat ais …`: decode AIS, analyse tracks and events, make synthetic
//! traffic. Glue only: the engine is `trilat_ais`; this file opens files.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use trilat_ais::analyser::{Analyser, FeedError};
use trilat_ais::gpsd::to_gpsd_json;
use trilat_ais::identity::MidTable;
use trilat_ais::ports::PortIndex;
use trilat_ais::track::{Config, Event, Tracker};
use trilat_ais::Decoder;

/// Longest input line accepted (NMEA sentences are ≤ 82 characters; tag
/// blocks and receiver fields add some).
const LINE_LEN_MAX: usize = 4096;
/// Decode errors printed individually before only counting.
const ERRORS_SHOWN_MAX: u64 = 20;

/// The `trilat ais` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Decode NMEA AIS sentences: one message per line out.
    #[command(after_help = DECODE_HELP)]
    Decode(DecodeArgs),
    /// Build vessel tracks and detect events (gaps, encounters, loitering,
    /// identity anomalies, zone entry/exit, port calls).
    #[command(after_help = ANALYZE_HELP)]
    Analyze(AnalyzeArgs),
    /// Write synthetic AIS: the demo vessel scenario or a day of traffic.
    #[command(after_help = SYNTH_HELP)]
    Synth(SynthArgs),
    /// Send NMEA files to a node's AIS engine (`POST /api/v1/ais/nmea`), in chunks.
    #[command(after_help = SEND_HELP)]
    Send(SendArgs),
}

const DECODE_HELP: &str = "Examples:
  trilat ais decode capture.nmea                  # one summary line per message
  trilat ais decode capture.nmea --json           # gpsd-style JSON, scaled
  nc ais.example.net 5631 | trilat ais decode - --json --unscaled

Input: NMEA 0183 lines (!AIVDM/!AIVDO, any talker such as !BSVDM), with or without NMEA 4
tag blocks (\\s:station,c:unixtime*hh\\) and receiver prefixes (a Unix time before the
sentence) or suffixes (the USCG format). Other NMEA sentences are skipped. Multi-sentence
messages are reassembled even when interleaved.
Output fields are named and scaled as gpsd's AIS JSON; values meaning \"not available\"
(lat 91, lon 181, speed 102.3, heading 511 ...) are omitted.
Bad lines are counted and reported on stderr (the first 20 in full), never fatal.
Exit status: 0 on success (even with bad lines), 1 when the input cannot be read.";

const ANALYZE_HELP: &str = "Examples:
  trilat ais analyze day.nmea
  trilat ais analyze jcg.nmea kcg.nmea --zones fixture --json > events.jsonl
  trilat ais analyze day.nmea --ports UpdatedPub150.csv --zones my_areas.geojson --gap-hours 6

Files are read one after another as one stream (give them in time order). Message times
come from tag blocks (c:) or receiver time stamps; lines without any keep the last time seen.
Events: gap (no transmission >= --gap-hours where other vessels were heard, far from shore),
encounter (two vessels within 500 m for >= 2 h at median speed < 2 knots, >= 10 km from a
port: a possible ship-to-ship transfer), loitering, identity-anomaly (invalid MMSI, DPRK MID
445, name/IMO/call-sign changes, IMO check digit, one IMO on two MMSIs, impossible jumps),
zone-entry / zone-exit (with --zones), port-call.
Ports and MIDs: by default the NGA World Port Index ports (2,951) and the ITU MID table shipped
with trilat; --ports / --mids name other files (a file that cannot be read is an error).
--zones: 'fixture' (a small built-in North-East Asia set, approximate) or a GeoJSON
FeatureCollection of polygons (areas of interest unless a feature's 'kind' says otherwise).
--json prints one event per line (the maritime.event payload); otherwise a table and a
summary. A progress bar shows on stderr for large inputs.";

const SYNTH_HELP: &str = "Examples:
  trilat ais synth --demo jpn > jcg.nmea          # Japan's feed of the demo scenario
  trilat ais synth --demo kor > kcg.nmea          # Korea's feed
  trilat ais synth --vessels 500 --step-s 10 > day.nmea
  trilat ais analyze jcg.nmea

The demo: a tanker ('A LI', broadcasting an IMO number that fails its check digit) meets a
vessel with a DPRK MMSI in the East China Sea for about 3.5 hours, after the latter was dark
for 13 hours. All names and numbers are made up for the demo.";

const SEND_HELP: &str = "Examples:
  export TRILAT_TOKEN=trl_...                     # an analyst token of the node's own party
  trilat ais send jcg.nmea --node http://127.0.0.1:7402
  trilat ais synth --demo kor | trilat ais send - --node http://127.0.0.1:7403

The node decodes the lines, tracks vessels and publishes events (gap, encounter, identity
anomalies ...) as maritime.event reports, shared under the node's marking rules. Files are sent
in order, --chunk-lines lines per request (the node accepts at most 100,000). Lines longer than
1,024 bytes or not UTF-8 are skipped here and counted. Lines without a tag-block time are
timed by the node's clock. A progress bar shows on stderr for large files.";

/// Longest line the node accepts (`POST /api/v1/ais/nmea`).
const SEND_LINE_BYTES_MAX: usize = 1024;
/// Most lines the node accepts in one request.
const SEND_CHUNK_LINES_MAX: usize = 100_000;

/// `trilat ais send` arguments.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// NMEA files (or `-`), sent in order.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The node's base URL.
    #[arg(long, env = "TRILAT_NODE", default_value = "http://127.0.0.1:7401")]
    pub node: String,
    /// API token (bearer) of an analyst of the node's party.
    #[arg(long, env = "TRILAT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Lines per request (1 to 100,000).
    #[arg(long, default_value_t = 10_000)]
    pub chunk_lines: usize,
}

/// `trilat ais decode` arguments.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// NMEA file, or `-` for standard input.
    pub input: PathBuf,
    /// Print gpsd-style JSON (one object per line).
    #[arg(long)]
    pub json: bool,
    /// With --json: raw integers as in the message (gpsd's "scaled":false).
    #[arg(long, requires = "json")]
    pub unscaled: bool,
}

/// `trilat ais analyze` arguments.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// NMEA files (or `-`), read in order as one stream.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Zones: `fixture` or a GeoJSON file; repeatable.
    #[arg(long)]
    pub zones: Vec<String>,
    /// World Port Index CSV (NGA Pub. 150) for port calls and anchorages; default: the WPI
    /// ports shipped with trilat.
    #[arg(long)]
    pub ports: Option<PathBuf>,
    /// ITU MID table CSV (MID,Allocated_to) to flag unallocated MIDs; default: the table
    /// shipped with trilat.
    #[arg(long)]
    pub mids: Option<PathBuf>,
    /// Gap threshold in hours.
    #[arg(long, default_value_t = 12.0)]
    pub gap_hours: f64,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `trilat ais synth` arguments.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Write the demo scenario as this partner's feed (`jpn` or `kor`).
    #[arg(long)]
    pub demo: Option<String>,
    /// Vessels in the synthetic day.
    #[arg(long, default_value_t = 200)]
    pub vessels: u32,
    /// Seconds between position reports per vessel.
    #[arg(long, default_value_t = 30)]
    pub step_s: i64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Start time (Unix seconds).
    #[arg(long, default_value_t = 1_767_225_600)]
    pub start_unix_s: i64,
}

/// Runs one `trilat ais` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Decode(args) => decode(args),
        Command::Analyze(args) => analyze(args),
        Command::Synth(args) => synth(args),
        Command::Send(args) => send(args),
    }
}

/// What `trilat ais send` counted.
#[derive(Debug, Default)]
struct SendTally {
    lines_sent: u64,
    lines_skipped: u64,
    lines_refused: u64,
    events: u64,
    requests: u64,
}

fn send(args: SendArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=SEND_CHUNK_LINES_MAX).contains(&args.chunk_lines),
        "--chunk-lines must be between 1 and {SEND_CHUNK_LINES_MAX}"
    );
    let client = trilat_node::client::NodeClient::new(&args.node, &args.token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut tally = SendTally::default();
    for input in &args.inputs {
        let (reader, len) = open(input)?;
        let bar = progress(len);
        let mut chunk = String::new();
        let mut chunk_lines = 0usize;
        let mut failure: Option<anyhow::Error> = None;
        for_each_line(reader, |line, n_read| {
            bar.inc(n_read as u64);
            if failure.is_some() {
                return;
            }
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(text) if line.len() <= SEND_LINE_BYTES_MAX => {
                    chunk.push_str(text);
                    chunk.push('\n');
                    chunk_lines += 1;
                }
                _ => tally.lines_skipped += 1,
            }
            if chunk_lines == args.chunk_lines {
                let body = std::mem::take(&mut chunk);
                chunk_lines = 0;
                if let Err(e) = runtime.block_on(send_chunk(&client, body, &mut tally)) {
                    failure = Some(e);
                }
            }
        })?;
        bar.finish_and_clear();
        if let Some(e) = failure {
            return Err(e.context(format!("sending {}", input.display())));
        }
        if chunk_lines > 0 {
            runtime
                .block_on(send_chunk(&client, chunk, &mut tally))
                .with_context(|| format!("sending {}", input.display()))?;
        }
    }
    eprintln!(
        "sent {} lines in {} requests; skipped {} (too long or not UTF-8); the node refused {}; {} events",
        tally.lines_sent, tally.requests, tally.lines_skipped, tally.lines_refused, tally.events
    );
    Ok(())
}

/// How long `trilat ais send` waits for a node whose engines are starting.
const SEND_UNAVAILABLE_WAIT_S_MAX: u32 = 60;

async fn send_chunk(
    client: &trilat_node::client::NodeClient,
    body: String,
    tally: &mut SendTally,
) -> anyhow::Result<()> {
    let mut waited_s = 0;
    let answer = loop {
        match client.post_text("/api/v1/ais/nmea", body.clone()).await {
            // A node that has just started loads its engines (zones, lists) in
            // the background and answers 503 meanwhile: wait, bounded.
            Err(trilat_node::client::ClientError::Api { status: 503, .. })
                if waited_s < SEND_UNAVAILABLE_WAIT_S_MAX =>
            {
                if waited_s == 0 {
                    eprintln!("the node's engines are starting; waiting up to {SEND_UNAVAILABLE_WAIT_S_MAX} s");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                waited_s += 1;
            }
            res => break res?,
        }
    };
    tally.requests += 1;
    tally.lines_sent += answer["lines"].as_u64().unwrap_or(0);
    tally.lines_refused += answer["lines_refused"].as_u64().unwrap_or(0);
    tally.events += answer["events"].as_u64().unwrap_or(0);
    Ok(())
}

fn open(path: &PathBuf) -> anyhow::Result<(Box<dyn BufRead>, Option<u64>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(BufReader::new(std::io::stdin())), None));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 16, file)), len))
}

/// Calls `each` with every line (without its ending), bounded in length;
/// longer lines are passed truncated (the decoder then rejects them).
fn for_each_line(
    mut reader: impl BufRead,
    mut each: impl FnMut(&[u8], usize),
) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(256);
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(LINE_LEN_MAX as u64)
            .read_until(b'\n', &mut buf)
            .context("read error")?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() != Some(&b'\n') && n == LINE_LEN_MAX {
            // Skip the rest of an overlong line without holding it: a file
            // without newlines must not grow memory.
            reader.skip_until(b'\n').context("read error")?;
        }
        each(&buf, n);
    }
}

fn progress(len: Option<u64>) -> indicatif::ProgressBar {
    match len {
        Some(len) if len > 8 << 20 => {
            let bar = indicatif::ProgressBar::new(len);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        }
        _ => indicatif::ProgressBar::hidden(),
    }
}

fn decode(args: DecodeArgs) -> anyhow::Result<()> {
    let (reader, _) = open(&args.input)?;
    let mut decoder = Decoder::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut write_err = None;
    for_each_line(reader, |line, _| match decoder.decode_line(line) {
        Ok(Some(msg)) => {
            let res = if args.json {
                let json = serde_json::Value::Object(to_gpsd_json(&msg, !args.unscaled));
                writeln!(out, "{json}")
            } else {
                writeln!(out, "{}", summary_line(&msg))
            };
            if let Err(e) = res {
                write_err.get_or_insert(e);
            }
        }
        Ok(None) => {}
        Err(e) => {
            if decoder.stats().errors <= ERRORS_SHOWN_MAX {
                eprintln!("{}: {e}", args.input.display());
            }
        }
    })?;
    if let Some(e) = write_err {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write output");
        }
    }
    out.flush().ok();
    let s = decoder.stats();
    eprintln!(
        "{} lines: {} messages, {} AIS sentences, {} other NMEA, {} errors, {} incomplete groups",
        s.lines, s.messages, s.sentences, s.other_nmea, s.errors, s.incomplete_groups
    );
    Ok(())
}

fn summary_line(msg: &trilat_ais::Message<'_>) -> String {
    let mut s = format!(
        "line {:>6}  type {:>2}  mmsi {:09}",
        msg.meta().line,
        msg.msg_type(),
        msg.mmsi()
    );
    if let Some(p) = msg.position() {
        let opt = |v: Option<f64>, w: usize| {
            v.map_or_else(|| format!("{:>w$}", "n/a"), |v| format!("{v:>w$.5}"))
        };
        s.push_str(&format!("  lat {}  lon {}", opt(p.lat, 10), opt(p.lon, 11)));
        if let Some(v) = p.speed_knots {
            s.push_str(&format!("  {v:.1} kn"));
        }
        if let Some(v) = p.course_deg {
            s.push_str(&format!("  cog {v:.1}"));
        }
        if let Some(v) = p.heading_deg {
            s.push_str(&format!("  hdg {v}"));
        }
    }
    if let Some(d) = msg.static_data() {
        if let Some(v) = d.shipname {
            s.push_str(&format!("  name {:?}", v.as_str()));
        }
        if let Some(v) = d.imo {
            s.push_str(&format!("  imo {v}"));
        }
        if let Some(v) = d.callsign {
            s.push_str(&format!("  callsign {:?}", v.as_str()));
        }
        if let Some(v) = d.destination {
            s.push_str(&format!("  dest {:?}", v.as_str()));
        }
    }
    if let Some(t) = msg.meta().time_unix_ms {
        s.push_str(&format!("  t {}", format_time(t)));
    }
    s
}

fn format_time(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{unix_ms} ms"))
}

fn build_tracker(args: &AnalyzeArgs) -> anyhow::Result<Tracker> {
    let config = Config {
        gap_hours_min: args.gap_hours,
        ..Config::default()
    };
    anyhow::ensure!(
        args.gap_hours > 0.0 && args.gap_hours.is_finite(),
        "--gap-hours must be positive"
    );
    let mut tracker = Tracker::new(config);
    if !args.zones.is_empty() {
        let mut zones = Vec::new();
        for spec in &args.zones {
            if spec == "fixture" {
                zones.extend(trilat_geo::fixture_zones());
            } else {
                let text = std::fs::read_to_string(spec)
                    .with_context(|| format!("cannot read zones {spec}"))?;
                let parsed =
                    trilat_geo::parse_geojson_zones(&text, trilat_geo::ZoneKind::AreaOfInterest)
                        .with_context(|| format!("zones file {spec}"))?;
                zones.extend(parsed);
            }
        }
        tracker = tracker.with_zones(Arc::new(trilat_geo::ZoneIndex::new(zones)));
    }
    let ports = match &args.ports {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            PortIndex::parse_wpi_csv(&text).with_context(|| path.display().to_string())?
        }
        None => PortIndex::shipped().context("the shipped World Port Index")?,
    };
    tracker = tracker.with_ports(Arc::new(ports));
    let mids = match &args.mids {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            MidTable::parse_csv(&text).with_context(|| path.display().to_string())?
        }
        None => MidTable::shipped().context("the shipped MID table")?,
    };
    tracker = tracker.with_mids(Arc::new(mids));
    Ok(tracker)
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<()> {
    let mut analyser = Analyser::new(build_tracker(&args)?);
    let mut events: Vec<Event> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut n_events = 0usize;
    let mut by_kind: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut print = |events: &mut Vec<Event>, out: &mut dyn Write| -> anyhow::Result<()> {
        for e in events.drain(..) {
            n_events += 1;
            *by_kind.entry(e.name()).or_default() += 1;
            if args.json {
                writeln!(out, "{}", serde_json::to_string(&e)?)?;
            } else {
                writeln!(out, "{}", event_line(&e))?;
            }
        }
        Ok(())
    };
    for path in &args.inputs {
        let (reader, len) = open(path)?;
        let bar = progress(len);
        let mut fatal = None;
        let mut shown = 0u64;
        for_each_line(reader, |line, n| {
            bar.inc(n as u64);
            match analyser.feed_line(line, None, &mut events) {
                Ok(()) => {}
                Err(FeedError::Decode(e)) => {
                    shown += 1;
                    if shown <= ERRORS_SHOWN_MAX {
                        bar.suspend(|| eprintln!("{}: {e}", path.display()));
                    }
                }
                Err(e) => {
                    fatal.get_or_insert(e);
                }
            }
        })?;
        bar.finish_and_clear();
        if let Some(e) = fatal {
            return Err(e).context(format!("analysing {}", path.display()));
        }
        print(&mut events, &mut out)?;
    }
    analyser.finish(&mut events);
    print(&mut events, &mut out)?;
    out.flush()?;
    let s = analyser.decode_stats();
    let t = analyser.tracker().stats();
    eprintln!(
        "{} lines: {} messages, {} errors; {} vessels, {} positions used ({} without position); {} events {:?}",
        s.lines,
        s.messages,
        s.errors,
        analyser.tracker().vessel_count(),
        t.positions,
        t.positions_skipped,
        n_events,
        by_kind
    );
    if !args.json {
        let summaries = analyser.tracker().summaries();
        eprintln!(
            "{:>9}  {:>4}  {:>8}  {:<20}  {:>7}  last seen",
            "MMSI", "segs", "fixes", "name", "IMO"
        );
        for v in summaries.iter().take(50) {
            eprintln!(
                "{:09}  {:>4}  {:>8}  {:<20}  {:>7}  {}",
                v.mmsi,
                v.segments,
                v.positions,
                v.shipname.as_deref().unwrap_or("-"),
                v.imo.map_or_else(|| "-".to_string(), |i| i.to_string()),
                format_time(v.last_seen_unix_ms)
            );
        }
        if summaries.len() > 50 {
            eprintln!("… and {} more vessels", summaries.len() - 50);
        }
    }
    Ok(())
}

fn event_line(e: &Event) -> String {
    let detail = serde_json::to_value(&e.detail).map(|v| {
        v.as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| *k != "event")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    });
    format!(
        "{}  {:<17} mmsi {:09}  {:>9.4} {:>10.4}  {}",
        format_time(e.start_unix_ms),
        e.name(),
        e.mmsi,
        e.lat,
        e.lon,
        detail.unwrap_or_default()
    )
}

fn synth(args: SynthArgs) -> anyhow::Result<()> {
    let lines = match args.demo.as_deref() {
        Some(partner) => {
            let feeds = trilat_ais::synth::demo_scenario(args.start_unix_s);
            let feed = feeds
                .into_iter()
                .find(|f| f.partner.eq_ignore_ascii_case(partner))
                .with_context(|| format!("--demo {partner}: expected jpn or kor"))?;
            feed.lines
        }
        None => {
            anyhow::ensure!(args.vessels <= 100_000, "--vessels at most 100000");
            anyhow::ensure!(args.step_s >= 1, "--step-s at least 1");
            trilat_ais::synth::synthetic_day(
                args.seed,
                args.vessels,
                args.step_s,
                args.start_unix_s,
            )
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in lines {
        if let Err(e) = writeln!(out, "{line}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e).context("cannot write output");
        }
    }
    out.flush().ok();
    Ok(())
}
