//! `trilat cyber …`: import STIX 2.1 bundles as `cyber.stix` report drafts,
//! export reports (or bundles) as marked STIX bundles, check patterns.
//! Glue only: flags → files read here → `trilat_cyber` calls.

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use trilat_core::{Marking, Party, Policy, ReportDraft, Timestamp, Tlp};
use trilat_cyber::{bundle::BUNDLE_BYTES_MAX, ExportItem};

/// The `trilat cyber` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import STIX 2.1 bundles: validate every object, map each to a `cyber.stix` report draft.
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Export reports (or re-export bundles) as one STIX 2.1 bundle carrying Trilat's markings.
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Check STIX patterns (indicator `pattern` values) and print their canonical form.
    #[command(after_help = PATTERN_HELP)]
    Pattern(PatternArgs),
    /// Measure TAXII page latency over HTTP against an in-process node on loopback.
    #[command(after_help = BENCH_TAXII_HELP)]
    BenchTaxii(BenchTaxiiArgs),
}

const BENCH_TAXII_HELP: &str = "\
Starts a USA node in this process (a temporary directory, SQLite store, listening on
127.0.0.1), loads --objects cyber.stix reports straight into its store (the MITRE ATT&CK
bundles from --data when present, then generated indicators; one in ten generated ones is
released to USA only, the rest to TRILAT), then, as a JPN reader (so the release rule runs
on every record), walks the default collection in pages of --limit objects following
`next`, --rounds times, and once more per round from an `added_after` halfway through.
Prints the wall-clock latency of each GET (request sent to body read) as p50/p99/max, and
the process CPU time per page (server and client together; the machine's load does not
inflate it). Then GETs 200 objects by id (`objects/{id}/?match[version]=all`, spread over
the collection; those not released to JPN answer 404) and prints their p50/p99.

Build with --release for meaningful figures.

Examples:
  cargo run --release -p trilat -- cyber bench-taxii
  trilat cyber bench-taxii --objects 50000 --rounds 10 --json";

const IMPORT_HELP: &str = "\
Each object is parsed and checked (required properties, identifiers, timestamps, custom
property names, indicator patterns, versioning: only the creator versions an object, modified
increases, revoked is final). Bad objects are listed with the reason and skipped; the rest are
kept. Each object becomes a report of kind cyber.stix owned by --owner (one report per STIX id,
one report version per STIX version). The marking comes from the object's own markings: TLP
from the TLP 2.0 (or 1.0) marking definitions, classification and releasability from the
Trilat releasability marking (docs/cyber.md); what the object does not say comes from
--level, --tlp and --rel-to.

Exit status: 0 when every object was accepted, 3 when some were rejected, 1 on error.

Examples:
  trilat cyber import \\
    ../shared/data/cyber/mitre_attack/enterprise-attack-v18_dprk-groups_subset.stix21.json
  trilat cyber import apt1.json --owner KOR --tlp AMBER --rel-to USA,KOR --out reports.jsonl
  trilat cyber import bundle.json --json";

const EXPORT_HELP: &str = "\
Inputs are report files written by `trilat cyber import --out` (JSON lines of report drafts)
or STIX bundles (imported on the fly with the same defaults as `import`). Only the latest
version of each report is exported. With --for, only reports the release rule lets that
party see are exported (the default trilateral policy). Each object gets object_marking_refs
for its TLP 2.0 marking and its Trilat releasability marking, and the bundle carries those
marking definitions; objects that already carry exactly those are written byte for byte as
they came. --bare writes objects exactly as imported, without marking references.

Examples:
  trilat cyber export reports.jsonl > bundle.json
  trilat cyber export reports.jsonl --for JPN --out for-japan.json
  trilat cyber export ../shared/data/cyber/oasis_stix21_examples/apt1.json --bare";

const PATTERN_HELP: &str = "\
Prints the canonical form of each valid pattern, or the error with its byte offset.
Exit status 3 when a pattern is invalid.

Examples:
  trilat cyber pattern \"[ipv4-addr:value = '175.45.178.1']\"
  trilat cyber pattern \"[file:hashes.'SHA-256' = 'aa…'] AND [domain-name:value = 'x.kp']\"";

/// Where imported objects come from and the marking they default to.
#[derive(Debug, clap::Args)]
pub struct DefaultsArgs {
    /// The party that owns the reports (ISO 3166-1 alpha-3 code).
    #[arg(long, default_value = "USA")]
    owner: String,
    /// Classification level for objects without a Trilat releasability marking.
    #[arg(long, default_value = "UNCLASSIFIED")]
    level: String,
    /// TLP for objects without a TLP marking: CLEAR, GREEN, AMBER, AMBER+STRICT, RED.
    #[arg(long, default_value = "AMBER")]
    tlp: String,
    /// Releasability for objects without a Trilat releasability marking (comma-separated).
    #[arg(long, default_value = "TRILAT", value_delimiter = ',')]
    rel_to: Vec<String>,
}

/// `trilat cyber import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// STIX 2.1 bundle files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    defaults: DefaultsArgs,
    /// Write the report drafts here (JSON lines), for `trilat cyber export` or a node.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// `trilat cyber export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Report files (JSON lines from `import --out`) or STIX bundles.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    defaults: DefaultsArgs,
    /// Export only what this party may see.
    #[arg(long = "for")]
    recipient: Option<String>,
    /// Write objects exactly as imported, without marking references.
    #[arg(long)]
    bare: bool,
    /// Write the bundle here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `trilat cyber pattern`.
#[derive(Debug, clap::Args)]
pub struct PatternArgs {
    /// Patterns to check.
    #[arg(required = true)]
    patterns: Vec<String>,
}

/// `trilat cyber bench-taxii`.
#[derive(Debug, clap::Args)]
pub struct BenchTaxiiArgs {
    /// Reports to load (MITRE objects first, then generated indicators).
    #[arg(long, default_value_t = 20_000)]
    objects: usize,
    /// Objects per page (`limit`).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// Full walks of the collection (each followed by an `added_after` walk).
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// The shared data directory (for the MITRE ATT&CK bundles).
    #[arg(long, env = "TRILAT_SHARED_DATA", default_value = "../shared/data")]
    data: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs one `trilat cyber` subcommand.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Import(args) => import(args),
        Command::Export(args) => export(args),
        Command::Pattern(args) => pattern(args),
        Command::BenchTaxii(args) => bench_taxii(args),
    }
}

struct Defaults {
    owner: Party,
    marking: Marking,
}

fn defaults(args: &DefaultsArgs) -> Result<Defaults> {
    let owner = Party::new(&args.owner).map_err(|e| anyhow::anyhow!("--owner: {e}"))?;
    let tlp = Tlp::ALL
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(&args.tlp))
        .with_context(|| {
            format!(
                "--tlp {:?}: expected CLEAR, GREEN, AMBER, AMBER+STRICT or RED",
                args.tlp
            )
        })?;
    let marking = Marking::new(
        &args.level,
        tlp,
        args.rel_to.iter().map(|s| s.trim().to_string()),
    );
    Policy::trilateral_default()
        .check_marking(&marking)
        .map_err(|e| anyhow::anyhow!("default marking {}: {e}", marking.banner()))?;
    Ok(Defaults { owner, marking })
}

fn read_text(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if size > BUNDLE_BYTES_MAX as u64 {
        bail!(
            "{}: {size} bytes, more than {BUNDLE_BYTES_MAX}",
            path.display()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn progress_bar(label: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} objects ({per_sec})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

/// Only the top-level `type` of a file.
#[derive(serde::Deserialize)]
struct TopType {
    #[serde(rename = "type")]
    type_name: Option<String>,
}

/// One file's import result.
struct FileImport {
    drafts: Vec<ReportDraft>,
    rejected: Vec<String>,
    counts_by_type: BTreeMap<String, usize>,
    n_objects: usize,
}

fn import_file(path: &Path, defaults: &Defaults) -> Result<FileImport> {
    let mut text = read_text(path)?;
    // A file holding one object (not a bundle) is read as a bundle of one.
    let top_type = serde_json::from_str::<TopType>(&text)
        .ok()
        .and_then(|t| t.type_name);
    if top_type.as_deref().is_some_and(|t| t != "bundle") {
        text = trilat_cyber::write_bundle(&trilat_cyber::bundle::new_bundle_id(), [text.as_str()]);
    }
    let bar = progress_bar(&path.file_name().unwrap_or_default().to_string_lossy());
    let parsed = trilat_cyber::parse_bundle(&text, |done, total| {
        if done == 1 {
            bar.set_length(total as u64);
        }
        if done % 256 == 0 || done == total {
            bar.set_position(done as u64);
        }
    })
    .with_context(|| format!("{}", path.display()))?;
    bar.finish_and_clear();
    let n_objects = parsed.entries.len() + parsed.rejected.len();
    let now = Timestamp::from_unix_ms(time::OffsetDateTime::now_utc().unix_timestamp() * 1000);
    let outcome = trilat_cyber::import_bundle(&parsed, &defaults.owner, &defaults.marking, now);
    let rejected = parsed
        .rejected
        .iter()
        .chain(&outcome.rejected)
        .map(|e| e.to_string())
        .collect();
    Ok(FileImport {
        drafts: outcome.drafts,
        rejected,
        counts_by_type: outcome.counts_by_type,
        n_objects,
    })
}

fn import(args: ImportArgs) -> Result<()> {
    let defaults = defaults(&args.defaults)?;
    let mut out = match &args.out {
        Some(path) => Some(BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let mut summaries = Vec::new();
    let mut n_rejected = 0;
    for path in &args.files {
        let started = std::time::Instant::now();
        let file = import_file(path, &defaults)?;
        let elapsed_s = started.elapsed().as_secs_f64();
        if let Some(out) = out.as_mut() {
            for draft in &file.drafts {
                serde_json::to_writer(&mut *out, draft)?;
                out.write_all(b"\n")?;
            }
        }
        n_rejected += file.rejected.len();
        summaries.push(serde_json::json!({
            "file": path.display().to_string(),
            "objects": file.n_objects,
            "accepted": file.drafts.len(),
            "rejected": file.rejected.len(),
            "by_type": file.counts_by_type,
            "rejections": file.rejected,
            "seconds": elapsed_s,
        }));
    }
    if let Some(mut out) = out {
        out.flush()?;
    }
    print_import_summaries(&summaries, args.json)?;
    if n_rejected > 0 {
        return Err(crate::exit::Refused(format!("{n_rejected} objects rejected")).into());
    }
    Ok(())
}

fn print_import_summaries(summaries: &[serde_json::Value], json: bool) -> Result<()> {
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &summaries)?;
        writeln!(stdout)?;
        return Ok(());
    }
    for summary in summaries {
        writeln!(
            stdout,
            "{}: {} objects, {} accepted, {} rejected ({:.3} s)",
            summary["file"].as_str().unwrap_or(""),
            summary["objects"],
            summary["accepted"],
            summary["rejected"],
            summary["seconds"].as_f64().unwrap_or(0.0),
        )?;
        for (type_name, count) in summary["by_type"].as_object().into_iter().flatten() {
            writeln!(stdout, "  {type_name:<24} {count}")?;
        }
        for rejection in summary["rejections"].as_array().into_iter().flatten() {
            writeln!(stdout, "  rejected: {}", rejection.as_str().unwrap_or(""))?;
        }
    }
    Ok(())
}

/// Reads report drafts (JSON lines) or a bundle (imported with `defaults`).
fn read_inputs(inputs: &[PathBuf], defaults: &Defaults) -> Result<Vec<ReportDraft>> {
    let mut drafts = Vec::new();
    for path in inputs {
        let text = read_text(path)?;
        // STIX files (a bundle, or one object) have a top-level `type`;
        // report files are JSON lines of drafts, which do not parse as one value.
        let is_stix = serde_json::from_str::<TopType>(&text)
            .ok()
            .is_some_and(|t| t.type_name.is_some());
        if is_stix {
            let file = import_file(path, defaults)?;
            for rejection in &file.rejected {
                eprintln!("{}: rejected: {rejection}", path.display());
            }
            drafts.extend(file.drafts);
            continue;
        }
        for (line_idx, line) in text.as_bytes().lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let draft: ReportDraft = serde_json::from_str(&line)
                .with_context(|| format!("{} line {}", path.display(), line_idx + 1))?;
            trilat_cyber::validate_payload(draft.kind.as_str(), &draft.payload)
                .with_context(|| format!("{} line {}", path.display(), line_idx + 1))?;
            drafts.push(draft);
        }
    }
    Ok(drafts)
}

fn export(args: ExportArgs) -> Result<()> {
    let defaults = defaults(&args.defaults)?;
    let drafts = read_inputs(&args.inputs, &defaults)?;
    // Latest version of each report, in first-seen order.
    let mut latest: BTreeMap<_, usize> = BTreeMap::new();
    let mut order = Vec::new();
    for (idx, draft) in drafts.iter().enumerate() {
        match latest.get(&draft.id) {
            Some(&held) if drafts[held].version >= draft.version => {}
            Some(_) => {
                latest.insert(draft.id, idx);
            }
            None => {
                latest.insert(draft.id, idx);
                order.push(draft.id);
            }
        }
    }
    let policy = Policy::trilateral_default();
    let recipient = match &args.recipient {
        Some(code) => Some(Party::new(code).map_err(|e| anyhow::anyhow!("--for: {e}"))?),
        None => None,
    };
    let mut items = Vec::with_capacity(order.len());
    let mut n_withheld = 0;
    for id in &order {
        let draft = &drafts[latest[id]];
        if let Some(recipient) = &recipient {
            if policy
                .release_marked(&draft.owner, &draft.kind, &draft.marking, recipient)
                .is_err()
            {
                n_withheld += 1;
                continue;
            }
        }
        items.push(ExportItem {
            payload: &draft.payload,
            marking: &draft.marking,
        });
    }
    let bundle =
        trilat_cyber::export_bundle(&trilat_cyber::bundle::new_bundle_id(), &items, !args.bare)?;
    match &args.out {
        Some(path) => std::fs::write(path, bundle.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut stdout = stdout.lock();
            stdout.write_all(bundle.as_bytes())?;
            stdout.write_all(b"\n")?;
        }
    }
    eprintln!("exported {} objects, withheld {n_withheld}", items.len());
    Ok(())
}

fn pattern(args: PatternArgs) -> Result<()> {
    let mut n_invalid = 0;
    for text in &args.patterns {
        match trilat_cyber::parse_pattern(text) {
            Ok(pattern) => println!("valid: {pattern}"),
            Err(err) => {
                n_invalid += 1;
                println!("invalid: {err}");
            }
        }
    }
    if n_invalid > 0 {
        return Err(crate::exit::Refused(format!("{n_invalid} patterns invalid")).into());
    }
    Ok(())
}

fn bench_taxii(args: BenchTaxiiArgs) -> Result<()> {
    use trilat_bench::measure::percentile;
    let figures = trilat_bench::taxii::run(&trilat_bench::taxii::Spec {
        n_objects: args.objects,
        limit: args.limit,
        rounds: args.rounds,
        data: args.data,
    })?;
    let p = |sorted: &[f64], p: f64| percentile(sorted, p).unwrap_or(f64::NAN);
    let full_ms = &figures.full_page_wall_ms;
    let all_ms = &figures.page_wall_ms;
    let by_id_ms = &figures.object_by_id_wall_ms;
    let n_pages = all_ms.len();
    let cpu_ms_per_page = figures.walks_cpu.as_secs_f64() * 1e3 / n_pages as f64;
    let (n_loaded, n_visible) = (figures.n_loaded, figures.n_visible);
    if args.json {
        let figures = serde_json::json!({
            "reports_loaded": n_loaded,
            "objects_visible_to_jpn": n_visible,
            "page_limit": args.limit,
            "pages": n_pages,
            "full_pages": full_ms.len(),
            "full_page_wall_ms": {"p50": p(full_ms, 0.5), "p99": p(full_ms, 0.99), "max": full_ms.last()},
            "any_page_wall_ms": {"p50": p(all_ms, 0.5), "p99": p(all_ms, 0.99), "max": all_ms.last()},
            "cpu_ms_per_page": cpu_ms_per_page,
            "object_by_id_wall_ms": {"gets": by_id_ms.len(), "p50": p(by_id_ms, 0.5), "p99": p(by_id_ms, 0.99)},
            "wall_s": figures.walks_wall.as_secs_f64(),
        });
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    println!(
        "{n_loaded} reports loaded, {n_visible} visible to JPN; {n_pages} GETs of limit={} ({} full pages)",
        args.limit,
        full_ms.len()
    );
    println!(
        "full page ({} objects) wall: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.limit,
        p(full_ms, 0.5),
        p(full_ms, 0.99),
        full_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "any page (incl. added_after walks) wall: p50 {:.1} ms, p99 {:.1} ms",
        p(all_ms, 0.5),
        p(all_ms, 0.99)
    );
    println!("process CPU per page (server + client): {cpu_ms_per_page:.1} ms");
    println!(
        "object by id (objects/{{id}}/, {} GETs) wall: p50 {:.2} ms, p99 {:.2} ms",
        by_id_ms.len(),
        p(by_id_ms, 0.5),
        p(by_id_ms, 0.99)
    );
    Ok(())
}
