//! `trilat sanctions …`: import lists into a store, screen names, compare pairs, evaluate and
//! benchmark the matcher. Glue only: flags → files read here → `trilat_sanctions` calls.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use trilat_sanctions::delta::{delta, Delta};
use trilat_sanctions::eval;
use trilat_sanctions::format::{detect, Format};
use trilat_sanctions::matcher::{compare, Rarity, THRESHOLD_DEFAULT};
use trilat_sanctions::model::{
    IdScheme, Identifier, ListSource, ListVersion, PartialDate, Problem, Schema,
};
use trilat_sanctions::unihan::HanReadings;
use trilat_sanctions::{analysis, japan, ofac, un, Query, Screener};

/// The default store of imported, normalised lists: `trilat/sanctions` in the user's data
/// directory (`$XDG_DATA_HOME`, else `~/.local/share` on Linux), never the current folder.
pub(crate) fn store_default() -> Result<PathBuf> {
    dirs::data_dir()
        .map(|dir| dir.join("trilat").join("sanctions"))
        .context("no data directory (HOME and XDG_DATA_HOME unset): pass --store DIR or set TRILAT_SANCTIONS_STORE")
}
/// Bound on the size of one list file.
const FILE_BYTES_MAX: u64 = 512 * 1024 * 1024;
/// Bound on rows in one batch CSV.
const BATCH_ROWS_MAX: usize = 10_000_000;

/// The `trilat sanctions` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import list files (UN XML, OFAC CSV + companions, Japan MOF / METI xlsx) into the store.
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Screen a name (or a CSV of names) against the imported lists.
    #[command(after_help = SCREEN_HELP)]
    Screen(ScreenArgs),
    /// Screen an identifier (wallet address, e-mail, website, phone, BIC, IMO, MMSI, passport …)
    /// or a file of them, exactly, against the imported lists.
    #[command(after_help = SCREEN_ID_HELP)]
    ScreenId(ScreenIdArgs),
    /// Score one pair of names (or a CSV of pairs) and explain the score.
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareArgs),
    /// Measure precision / recall / F1 on a labelled set built from the lists.
    #[command(after_help = EVAL_HELP)]
    Eval(EvalArgs),
    /// Measure index build time, memory, query latency and throughput.
    #[command(after_help = BENCH_HELP)]
    Bench(BenchArgs),
    /// Measure batch identifier screening (wallet addresses and e-mails per CPU-second).
    #[command(after_help = BENCH_IDS_HELP)]
    BenchIds(BenchIdsArgs),
}

const IMPORT_HELP: &str = "\
The store defaults to $XDG_DATA_HOME/trilat/sanctions (~/.local/share/trilat/sanctions when
XDG_DATA_HOME is unset); --store DIR or TRILAT_SANCTIONS_STORE chooses another. `screen`,
`screen-id`, `eval` and `bench` read the same store when --lists is not given.
Formats are detected from the file name and content. OFAC companions (alt.csv, add.csv,
sdn_comments.csv) are applied to the sdn.csv given in the same command. The normalised list
is stored as <STORE>/<list>.json (written atomically); importing a newer version of a list
prints and stores the delta (<STORE>/<list>.delta.json): added, removed, changed entities.

Examples:
  trilat sanctions import ../shared/data/sanctions/un/UN_consolidated_2026-02-27.xml
  trilat sanctions import sdn.csv alt.csv add.csv sdn_comments.csv --store /srv/sanctions
  trilat sanctions import mof_shisantouketsu20260305.xlsx meti_foreign_user_list_20250929.xlsx";

const SCREEN_HELP: &str = "\
Names in any script: Latin, Hangul (김정은), Han characters (金正恩, through the Unihan
readings Trilat ships), kana (ユン・ホジン), Cyrillic. Each hit shows its score, how each name part
matched, and the source record (list, record id, position in the file).

Batch mode (--csv IN.csv): one query per row, header row required. Columns:
  name (required), schema, dob, country, imo, id (copied to the output)
Output: CSV (query_id,name,rank,score,entity_id,caption,matched_name,source,record_id,position)
or, with --json, one JSON line per query {\"query\":…, \"hits\":[…]}.

Examples:
  trilat sanctions screen \"Kim Jong-un\" --schema person --dob 1984 --country KP
  trilat sanctions screen 김정은 --json
  trilat sanctions screen \"CHON MA SAN\" --schema vessel --imo 8660313
  trilat sanctions screen --csv applicants.csv --out hits.csv
  trilat sanctions screen \"Ri Chol Ho\" --lists consolidated.xml   # a list file, not the store";

const SCREEN_ID_HELP: &str = "\
Exact screening of the identifiers the lists carry, after each type's normalisation:
  digital_currency  Base58 addresses as written (case matters); 0x… (EVM) and Bech32 (bc1…)
                    in any case. EIP-55, Base58Check and Bech32/Bech32m checksums of the query
                    are checked and reported; a failing checksum is still looked up.
  email, website    case-insensitive; a website without http(s)://, www. and trailing /
  phone             digits only, an international 00 or + dropped
  swift_bic         upper case; an 11-character code ending XXX is its 8-character code
  imo_ship, mmsi    digits (IMO prefix dropped); ship and company IMO numbers share one space
  passport, national_id, registration, call_sign, aircraft_tail: upper-case letters and digits
Without --type the value is looked up as every type its shape allows.

Each hit names the listed entity, its programmes, the list version and the record.

Batch mode (--batch FILE): one identifier per line (blank lines and # comments skipped); one
JSON line per hit on stdout, a summary with the rate on stderr.

Examples:
  trilat sanctions screen-id 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h
  trilat sanctions screen-id 0x983a81ca6fb1e441266d2fbcb7d8e530ac2e05a2 --json
  trilat sanctions screen-id info@arrai.tv --type email
  trilat sanctions screen-id --batch wallets.txt --type digital_currency > hits.jsonl
  trilat sanctions screen-id KDBKKPPYXXX --lists sdn.csv   # a list file, not the store";

const COMPARE_HELP: &str = "\
JSON output has: score (0 to 1), threshold (the default alert threshold), match
(score >= threshold), method (korean | generic) and the explanation.

Examples:
  trilat sanctions compare 김정은 \"Kim Jong Un\" --json
  trilat sanctions compare \"Ri Chol Ho\" \"Lee Cheol-ho\"
  trilat sanctions compare --pairs pairs.csv      # columns name1,name2[,schema]; JSON lines out";

const EVAL_HELP: &str = "\
The labelled set is built by code from the lists (aliases of the same entity are positives,
the most token-similar other entity of the same list is a negative, MOF katakana vs English
rows are positives) and from synthetic Hangul names romanised by the published systems.
See docs/sanctions.md.

Example:
  trilat sanctions eval --lists ../shared/data/sanctions/un/UN_consolidated_2026-02-27.xml \\
      ../shared/data/sanctions/ofac/ofac_sdn_2024-05-03.csv ../shared/data/sanctions/japan/mof_shisantouketsu20260305.xlsx";

const BENCH_HELP: &str = "\
Queries: both names of every pair of the evaluation set (see `trilat sanctions eval`), each
screened alone on one thread; prints index build time and memory, per-query p50 / p99 (thread
CPU time and wall) and queries per CPU-second.

Build in release mode for meaningful figures:
  cargo build --release -p trilat
  target/release/trilat sanctions bench --lists UN.xml sdn.csv alt.csv mof.xlsx meti.xlsx";

const BENCH_IDS_HELP: &str = "\
The batch: the listed wallet addresses and e-mails, and near-misses of them (one character
changed) up to --identifiers lines, one listed value in 50. Each run screens the whole batch
on one thread as `screen-id --batch` does (every line classified by its shape, normalised,
looked up); the figure is identifiers per thread-CPU-second (median and best of --runs).

Build in release mode for meaningful figures:
  cargo build --release -p trilat
  target/release/trilat sanctions bench-ids --lists sdn.csv sdn_comments.csv";

/// Arguments of `bench-ids`.
#[derive(Debug, clap::Args)]
pub struct BenchIdsArgs {
    /// Identifiers in the batch.
    #[arg(long, default_value_t = 2_000_000)]
    identifiers: usize,
    /// Runs over the batch.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    #[command(flatten)]
    lists: ListArgs,
}

/// Where lists and the reading table come from.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Lists to load: store directories (of imported JSON) or raw list files. Default: the store
    /// `import` writes (TRILAT_SANCTIONS_STORE, else $XDG_DATA_HOME/trilat/sanctions).
    #[arg(long, num_args = 1.., value_name = "DIR_OR_FILES")]
    lists: Vec<PathBuf>,
    /// A full Unihan_Readings.txt (.txt or .txt.bz2) to read Han-character names with, in place
    /// of the table Trilat ships; env TRILAT_UNIHAN.
    #[arg(long, env = "TRILAT_UNIHAN")]
    unihan: Option<PathBuf>,
}

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// List files to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Store directory (default: $XDG_DATA_HOME/trilat/sanctions, i.e.
    /// ~/.local/share/trilat/sanctions).
    #[arg(long, env = "TRILAT_SANCTIONS_STORE")]
    store: Option<PathBuf>,
    /// Print the import summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `screen-id`.
#[derive(Debug, clap::Args)]
pub struct ScreenIdArgs {
    /// The identifier to screen (omit with --batch).
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    value: Option<String>,
    /// Its type (digital_currency, email, website, phone, swift_bic, imo_ship, mmsi, call_sign,
    /// passport, national_id, registration, aircraft_tail). Default: every type its shape allows.
    #[arg(long = "type", value_name = "TYPE")]
    scheme: Option<String>,
    /// A file of identifiers, one per line.
    #[arg(long, value_name = "FILE")]
    batch: Option<PathBuf>,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
}

/// Arguments of `screen`.
#[derive(Debug, clap::Args)]
pub struct ScreenArgs {
    /// The name to screen.
    #[arg(required_unless_present = "csv")]
    name: Option<String>,
    /// person | organization | vessel | aircraft.
    #[arg(long)]
    schema: Option<String>,
    /// Date of birth: YYYY, YYYY-MM or YYYY-MM-DD.
    #[arg(long)]
    dob: Option<String>,
    /// Nationality or flag, ISO 3166-1 alpha-2 (KP, KR, JP …).
    #[arg(long)]
    country: Option<String>,
    /// IMO ship or company number.
    #[arg(long)]
    imo: Option<String>,
    /// Passport number.
    #[arg(long)]
    passport: Option<String>,
    /// Minimum score of a hit.
    #[arg(long, default_value_t = THRESHOLD_DEFAULT)]
    threshold: f64,
    /// Maximum hits per query.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Batch mode: screen every row of this CSV.
    #[arg(long, value_name = "IN.csv")]
    csv: Option<PathBuf>,
    /// Batch output file (default: stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    lists: ListArgs,
}

/// Arguments of `compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// First name.
    #[arg(required_unless_present = "pairs")]
    name_a: Option<String>,
    /// Second name.
    #[arg(required_unless_present = "pairs")]
    name_b: Option<String>,
    /// person | organization | vessel | aircraft.
    #[arg(long)]
    schema: Option<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Compare every row of this CSV (columns name1,name2[,schema]); JSON lines out.
    #[arg(long, value_name = "FILE.csv")]
    pairs: Option<PathBuf>,
    /// A full Unihan_Readings.txt (.txt or .txt.bz2) to read Han-character names with, in place
    /// of the table Trilat ships; env TRILAT_UNIHAN.
    #[arg(long, env = "TRILAT_UNIHAN")]
    unihan: Option<PathBuf>,
}

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Alert threshold to evaluate.
    #[arg(long, default_value_t = THRESHOLD_DEFAULT)]
    threshold: f64,
    /// Number of synthetic Korean names.
    #[arg(long, default_value_t = 500)]
    synthetic: usize,
    /// Seed of the synthetic names.
    #[arg(long, default_value_t = 1718)]
    seed: u64,
    /// Write the labelled pairs (CSV: name1,name2,schema,label,category,score).
    #[arg(long, value_name = "FILE")]
    pairs_out: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
}

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Number of queries.
    #[arg(long, default_value_t = 20_000)]
    queries: usize,
    /// Also check this many queries against an exhaustive scan of every listed name (about
    /// 20 ms each): counts hits the score-aware retrieval misses (expected 0).
    #[arg(long, default_value_t = 0)]
    oracle: usize,
    #[command(flatten)]
    lists: ListArgs,
}

/// Runs one `trilat sanctions` subcommand.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Import(args) => import(args),
        Command::Screen(args) => screen(args),
        Command::ScreenId(args) => screen_id(args),
        Command::Compare(args) => compare_cmd(args),
        Command::Eval(args) => eval_cmd(args),
        Command::Bench(args) => bench(args),
        Command::BenchIds(args) => bench_ids(args),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > FILE_BYTES_MAX {
        bail!("{} is larger than {} bytes", path.display(), FILE_BYTES_MAX);
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// A list version from the file name: `2024-05-03` or `20260305` in it, else `unknown`.
fn version_from_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digits: Vec<(usize, char)> = name.char_indices().collect();
    for start in 0..digits.len() {
        let rest: String = digits[start..].iter().map(|(_, c)| c).take(10).collect();
        let b = rest.as_bytes();
        if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' {
            return rest;
        }
        if b.len() >= 8
            && b[..8].iter().all(u8::is_ascii_digit)
            && (start == 0 || !digits[start - 1].1.is_ascii_digit())
        {
            return format!("{}-{}-{}", &rest[..4], &rest[4..6], &rest[6..8]);
        }
    }
    "unknown".to_string()
}

fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Parses raw list files into list versions (OFAC companions joined to their SDN file).
fn parse_files(files: &[PathBuf], problems: &mut Vec<Problem>) -> Result<Vec<ListVersion>> {
    let mut lists: Vec<ListVersion> = Vec::new();
    let mut companions: Vec<(Format, PathBuf, Vec<u8>)> = Vec::new();
    for path in files {
        let bytes = read_file(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let format = detect(&name, &bytes[..bytes.len().min(4096)])
            .with_context(|| format!("{}: unknown list format", path.display()))?;
        let bar = spinner(format!(
            "parsing {} ({format:?}, {} bytes)",
            path.display(),
            bytes.len()
        ));
        let version = version_from_name(path);
        let parsed = match format {
            Format::UnXml => Some(un::parse(&bytes)),
            Format::OfacSdn => Some(ofac::parse_sdn(&bytes, &version)),
            Format::JapanMof => Some(japan::parse_mof(&bytes, &version)),
            Format::JapanMeti => Some(japan::parse_meti(&bytes, &version)),
            Format::OfacAlt | Format::OfacAdd | Format::OfacComments => {
                companions.push((format, path.clone(), bytes));
                None
            }
        };
        bar.finish_and_clear();
        if let Some(parsed) = parsed {
            let parsed = parsed.with_context(|| format!("parsing {}", path.display()))?;
            problems.extend(parsed.problems.into_iter().map(|p| Problem {
                position: format!("{}: {}", path.display(), p.position),
                message: p.message,
            }));
            lists.push(parsed.list);
        }
    }
    for (format, path, bytes) in companions {
        let Some(sdn) = lists.iter_mut().find(|l| l.source == ListSource::OfacSdn) else {
            bail!(
                "{}: an OFAC companion file needs its sdn.csv in the same command",
                path.display()
            );
        };
        let mut found = Vec::new();
        match format {
            Format::OfacAlt => ofac::apply_alt(sdn, &bytes, &mut found),
            Format::OfacAdd => ofac::apply_add(sdn, &bytes, &mut found),
            _ => ofac::apply_comments(sdn, &bytes, &mut found),
        };
        problems.extend(found.into_iter().map(|p| Problem {
            position: format!("{}: {}", path.display(), p.position),
            message: p.message,
        }));
    }
    Ok(lists)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    {
        let mut file =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

fn import(args: ImportArgs) -> Result<()> {
    let mut problems = Vec::new();
    let lists = parse_files(&args.files, &mut problems)?;
    let store = match &args.store {
        Some(store) => store.clone(),
        None => store_default()?,
    };
    std::fs::create_dir_all(&store).with_context(|| format!("creating {}", store.display()))?;
    let mut summaries = Vec::new();
    for list in &lists {
        let path = store.join(format!("{}.json", list.source.slug()));
        let previous: Option<ListVersion> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let change: Option<Delta> = previous.as_ref().map(|old| delta(old, list));
        write_atomic(&path, &serde_json::to_vec(list)?)?;
        if let Some(change) = &change {
            write_atomic(
                &store.join(format!("{}.delta.json", list.source.slug())),
                &serde_json::to_vec_pretty(change)?,
            )?;
        }
        let count = |s: Schema| list.entities.iter().filter(|e| e.schema == s).count();
        summaries.push(serde_json::json!({
            "list": list.source.slug(),
            "version": list.version,
            "entities": list.entities.len(),
            "persons": count(Schema::Person),
            "organizations": count(Schema::Organization),
            "vessels": count(Schema::Vessel),
            "aircraft": count(Schema::Aircraft),
            "stored": path.display().to_string(),
            "delta": change.as_ref().map(|d| serde_json::json!({"from": d.from_version, "added": d.added.len(), "removed": d.removed.len(), "changed": d.changed.len()})),
        }));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"lists": summaries, "problems": problems.iter().map(|p| serde_json::json!({"position": p.position, "message": p.message})).collect::<Vec<_>>()})
            )?
        );
        return Ok(());
    }
    for s in &summaries {
        println!(
            "{} version {}: {} entities ({} persons, {} organizations, {} vessels, {} aircraft) → {}",
            s["list"].as_str().unwrap_or(""), s["version"].as_str().unwrap_or(""), s["entities"], s["persons"], s["organizations"], s["vessels"], s["aircraft"], s["stored"].as_str().unwrap_or("")
        );
        if let Some(d) = s["delta"].as_object() {
            println!(
                "  delta from version {}: {} added, {} removed, {} changed",
                d["from"].as_str().unwrap_or(""),
                d["added"],
                d["removed"],
                d["changed"]
            );
        }
    }
    println!("{} problems", problems.len());
    for p in problems.iter().take(20) {
        println!("  {}: {}", p.position, p.message);
    }
    if problems.len() > 20 {
        println!("  … {} more (use --json for all)", problems.len() - 20);
    }
    Ok(())
}

/// Loads the Unihan file given in place of the shipped table (None: the shipped table). A file
/// that cannot be read is named on stderr and the shipped table is used.
fn load_unihan(path: &Option<PathBuf>) -> Option<Arc<HanReadings>> {
    // The node reads the same table the same way (`[engines.sanctions] unihan`).
    match trilat_node::engines::load_han_readings(path.as_deref()?) {
        Ok(table) => Some(Arc::new(table)),
        Err(e) => {
            eprintln!("note: {e}; Han-character names are read through the table Trilat ships");
            None
        }
    }
}

/// Loads lists from store directories and raw files.
fn load_lists(args: &ListArgs) -> Result<Vec<ListVersion>> {
    let sources = if args.lists.is_empty() {
        vec![std::env::var_os("TRILAT_SANCTIONS_STORE")
            .map(PathBuf::from)
            .map_or_else(store_default, Ok)?]
    } else {
        args.lists.clone()
    };
    let mut lists = Vec::new();
    let mut raw = Vec::new();
    for source in sources {
        if source.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&source)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for path in entries {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name.ends_with(".json") && !name.ends_with(".delta.json") {
                    let list: ListVersion = serde_json::from_slice(&read_file(&path)?)
                        .with_context(|| format!("reading stored list {}", path.display()))?;
                    lists.push(list);
                }
            }
        } else if source.extension().is_some_and(|e| e == "json") {
            let list: ListVersion = serde_json::from_slice(&read_file(&source)?)
                .with_context(|| format!("reading stored list {}", source.display()))?;
            lists.push(list);
        } else if source.exists() {
            raw.push(source);
        } else {
            bail!("{} does not exist (import lists first: trilat sanctions import FILE…, or pass --lists)", source.display());
        }
    }
    let mut problems = Vec::new();
    lists.extend(parse_files(&raw, &mut problems)?);
    if !problems.is_empty() {
        eprintln!(
            "note: {} problems while reading lists (see `trilat sanctions import`)",
            problems.len()
        );
    }
    if lists.is_empty() {
        bail!("no lists loaded (import lists first or pass --lists)");
    }
    Ok(lists)
}

fn build_screener(args: &ListArgs) -> Result<Screener> {
    let lists = load_lists(args)?;
    let readings = load_unihan(&args.unihan);
    let bar = spinner("indexing lists".into());
    let screener = Screener::new(lists, readings)?;
    bar.finish_and_clear();
    Ok(screener)
}

fn parse_schema(text: Option<&str>) -> Result<Option<Schema>> {
    text.filter(|s| !s.trim().is_empty())
        .map(|s| {
            Schema::parse(s).with_context(|| {
                format!("unknown schema {s:?} (person, organization, vessel, aircraft)")
            })
        })
        .transpose()
}

fn parse_dob(text: Option<&str>) -> Result<Option<PartialDate>> {
    text.filter(|s| !s.trim().is_empty())
        .map(|s| {
            PartialDate::parse_iso(s)
                .with_context(|| format!("bad date of birth {s:?} (YYYY, YYYY-MM or YYYY-MM-DD)"))
        })
        .transpose()
}

fn identifiers(
    imo: Option<&str>,
    passport: Option<&str>,
    country: Option<&str>,
) -> Vec<Identifier> {
    let mut out = Vec::new();
    if let Some(imo) = imo
        .map(trilat_sanctions::ident::imo_digits)
        .filter(|i| !i.is_empty())
    {
        let scheme = if trilat_sanctions::ident::imo_valid(&imo, IdScheme::ImoCompany)
            && !trilat_sanctions::ident::imo_valid(&imo, IdScheme::ImoShip)
        {
            IdScheme::ImoCompany
        } else {
            IdScheme::ImoShip
        };
        out.push(Identifier::new(scheme, &imo, None));
    }
    if let Some(passport) = passport.filter(|p| !p.trim().is_empty()) {
        out.push(Identifier::new(
            IdScheme::Passport,
            passport,
            country
                .and_then(trilat_sanctions::country::iso2)
                .map(str::to_string),
        ));
    }
    out
}

fn print_hits(query: &Query, hits: &[trilat_sanctions::Hit]) {
    if hits.is_empty() {
        println!(
            "no hit at or above {:.2} for {:?}",
            query.threshold, query.name
        );
        return;
    }
    for (rank, hit) in hits.iter().enumerate() {
        println!(
            "{}. {:.3}  {}  {} [{:?}]  matched {:?}  ({} {}, {})",
            rank + 1,
            hit.score,
            hit.entity_id,
            hit.caption,
            hit.schema,
            hit.matched_name,
            hit.source.slug(),
            hit.list_version,
            hit.position
        );
        for c in &hit.explanation {
            println!(
                "     {:<18} {:<18} {:<17} sim {:.2}  {:+.3}",
                c.query,
                c.candidate,
                format!("{:?}", c.how),
                c.similarity,
                c.contribution
            );
        }
    }
}

fn screen(args: ScreenArgs) -> Result<()> {
    let screener = build_screener(&args.lists)?;
    if let Some(csv_path) = &args.csv {
        return screen_batch(&screener, csv_path, &args);
    }
    let query = Query {
        name: args.name.clone().unwrap_or_default(),
        schema: parse_schema(args.schema.as_deref())?,
        birth_date: parse_dob(args.dob.as_deref())?,
        country: args.country.clone(),
        identifiers: identifiers(
            args.imo.as_deref(),
            args.passport.as_deref(),
            args.country.as_deref(),
        ),
        threshold: args.threshold,
        limit: args.limit,
    };
    let hits = screener.screen(&query);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"query": query, "hits": hits}))?
        );
    } else {
        print_hits(&query, &hits);
    }
    Ok(())
}

fn screen_id(args: ScreenIdArgs) -> Result<()> {
    let scheme = args
        .scheme
        .as_deref()
        .map(|text| {
            IdScheme::parse(text).with_context(|| {
                let names: Vec<&str> = IdScheme::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown identifier type {text:?} (one of {})",
                    names.join(", ")
                )
            })
        })
        .transpose()?;
    let screener = build_screener(&args.lists)?;
    if let Some(path) = &args.batch {
        return screen_id_batch(&screener, path, scheme);
    }
    let value = args.value.unwrap_or_default();
    if value.len() > trilat_sanctions::ident::VALUE_LEN_MAX {
        bail!(
            "identifier longer than {} bytes",
            trilat_sanctions::ident::VALUE_LEN_MAX
        );
    }
    let answer = screener.screen_id(&value, scheme);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let schemes: Vec<&str> = answer.looked_up_as.iter().map(|s| s.name()).collect();
    for (scheme, why) in &answer.query_invalid {
        println!("note: not a valid {}: {why}", scheme.name());
    }
    if answer.hits.is_empty() {
        println!(
            "no listed identifier equals {value:?} (looked up as {})",
            schemes.join(", ")
        );
    }
    for hit in &answer.hits {
        println!(
            "{} {}{}  {}  {} [{:?}]  programmes {}  ({} {}, {}){}",
            hit.scheme.name(),
            hit.value,
            hit.currency
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            hit.entity_id,
            hit.caption,
            hit.schema,
            hit.programmes.join(" "),
            hit.source.slug(),
            hit.list_version,
            hit.position,
            hit.listed_invalid
                .as_deref()
                .map(|why| format!("  listed value invalid: {why}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn screen_id_batch(screener: &Screener, path: &Path, scheme: Option<IdScheme>) -> Result<()> {
    let bytes = read_file(path)?;
    let text =
        std::str::from_utf8(&bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut write_error = None;
    let started = Instant::now();
    let counts =
        screener
            .identifiers()
            .screen_batch(text, scheme, |line_no, line, scheme, refs| {
                for r in refs {
                    let entity = &screener.entities()[r.entity_idx as usize];
                    let id = &entity.identifiers[r.id_idx as usize];
                    let row = serde_json::json!({
                        "line": line_no,
                        "query": line,
                        "scheme": scheme,
                        "value": id.value,
                        "currency": id.currency,
                        "entity_id": entity.id,
                        "caption": entity.caption(),
                        "schema": entity.schema,
                        "programmes": entity.programmes,
                        "source": entity.source,
                        "record_id": entity.record_id,
                    });
                    if let Err(e) = writeln!(out, "{row}") {
                        write_error.get_or_insert(e);
                    }
                }
            });
    let elapsed = started.elapsed().as_secs_f64();
    out.flush()?;
    if let Some(e) = write_error {
        return Err(e).context("writing hits");
    }
    eprintln!(
        "{} identifiers, {} matched ({} listed identifiers) in {:.3} s ({:.0} per second, wall)",
        counts.identifiers,
        counts.identifiers_matched,
        counts.hits,
        elapsed,
        counts.identifiers as f64 / elapsed.max(1e-9)
    );
    Ok(())
}

fn screen_batch(screener: &Screener, csv_path: &Path, args: &ScreenArgs) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(csv_path)
        .with_context(|| format!("reading {}", csv_path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let name_col = column("name").context("the CSV needs a `name` column (see --help)")?;
    let (schema_col, dob_col, country_col, imo_col, id_col) = (
        column("schema"),
        column("dob"),
        column("country"),
        column("imo"),
        column("id"),
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .take(BATCH_ROWS_MAX + 1)
        .collect::<std::result::Result<_, _>>()?;
    if rows.len() > BATCH_ROWS_MAX {
        bail!("more than {BATCH_ROWS_MAX} rows");
    }
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    let mut writer = (!args.json).then(|| csv::Writer::from_writer(Vec::new()));
    if let Some(w) = writer.as_mut() {
        w.write_record([
            "query_id",
            "name",
            "rank",
            "score",
            "entity_id",
            "caption",
            "matched_name",
            "source",
            "record_id",
            "position",
        ])?;
    }
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} queries [{elapsed}<{eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    for (row_idx, row) in rows.iter().enumerate() {
        let get = |col: Option<usize>| {
            col.and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let query_id = get(id_col)
            .map(str::to_string)
            .unwrap_or_else(|| (row_idx + 1).to_string());
        let query = Query {
            name: row.get(name_col).unwrap_or("").to_string(),
            schema: parse_schema(get(schema_col))
                .with_context(|| format!("row {}", row_idx + 2))?,
            birth_date: parse_dob(get(dob_col)).with_context(|| format!("row {}", row_idx + 2))?,
            country: get(country_col).map(str::to_string),
            identifiers: identifiers(get(imo_col), None, None),
            threshold: args.threshold,
            limit: args.limit,
        };
        let hits = screener.screen(&query);
        match writer.as_mut() {
            Some(w) => {
                for (rank, hit) in hits.iter().enumerate() {
                    w.write_record([
                        &query_id,
                        &query.name,
                        &(rank + 1).to_string(),
                        &format!("{:.4}", hit.score),
                        &hit.entity_id,
                        &hit.caption,
                        &hit.matched_name,
                        hit.source.slug(),
                        &hit.record_id,
                        &hit.position,
                    ])?;
                }
            }
            None => writeln!(
                out,
                "{}",
                serde_json::json!({"query_id": query_id, "query": query, "hits": hits})
            )?,
        }
        bar.inc(1);
    }
    if let Some(mut w) = writer {
        w.flush()?;
        out.write_all(w.get_ref())?;
    }
    out.flush()?;
    bar.finish_and_clear();
    eprintln!(
        "{} queries in {:.2} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn compare_json(
    a: &str,
    b: &str,
    schema: Option<Schema>,
    readings: Option<&HanReadings>,
) -> serde_json::Value {
    let s = compare(
        &analysis::analyze(a, schema, readings),
        &analysis::analyze(b, schema, readings),
        &Rarity::default(),
    );
    serde_json::json!({
        "name1": a, "name2": b, "score": s.score, "threshold": THRESHOLD_DEFAULT, "match": s.score >= THRESHOLD_DEFAULT,
        "method": s.method, "via": s.via, "explanation": s.explanation,
    })
}

fn compare_cmd(args: CompareArgs) -> Result<()> {
    let readings = load_unihan(&args.unihan);
    let schema = parse_schema(args.schema.as_deref())?;
    if let Some(path) = &args.pairs {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("reading {}", path.display()))?;
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        for (row_idx, row) in reader.records().enumerate() {
            let row = row.with_context(|| format!("{} row {}", path.display(), row_idx + 1))?;
            let (a, b) = (row.get(0).unwrap_or(""), row.get(1).unwrap_or(""));
            if row_idx == 0 && a.trim() == "name1" {
                continue;
            }
            let row_schema = match parse_schema(row.get(2))? {
                Some(s) => Some(s),
                None => schema,
            };
            writeln!(
                out,
                "{}",
                compare_json(a, b, row_schema, readings.as_deref())
            )?;
        }
        out.flush()?;
        return Ok(());
    }
    let (a, b) = (
        args.name_a.unwrap_or_default(),
        args.name_b.unwrap_or_default(),
    );
    let result = compare_json(&a, &b, schema, readings.as_deref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        println!(
            "{:.3} ({}) {} ↔ {}  [{} at threshold {THRESHOLD_DEFAULT}]",
            result["score"].as_f64().unwrap_or(0.0),
            result["method"].as_str().unwrap_or(""),
            a,
            b,
            if result["match"].as_bool().unwrap_or(false) {
                "match"
            } else {
                "no match"
            }
        );
        for c in result["explanation"].as_array().into_iter().flatten() {
            println!(
                "  {:<18} {:<18} {:<17} sim {:.2}  {:+.3}",
                c["query"].as_str().unwrap_or(""),
                c["candidate"].as_str().unwrap_or(""),
                c["how"].as_str().unwrap_or(""),
                c["similarity"].as_f64().unwrap_or(0.0),
                c["contribution"].as_f64().unwrap_or(0.0)
            );
        }
    }
    Ok(())
}

fn eval_cmd(args: EvalArgs) -> Result<()> {
    let lists = load_lists(&args.lists)?;
    let readings = load_unihan(&args.lists.unihan);
    let pairs = eval::build_pairs(&lists, args.synthetic, args.seed);
    let screener = Screener::new(lists, readings)?;
    let evaluation = eval::evaluate(
        &pairs,
        screener.rarity(),
        screener.readings(),
        args.threshold,
    );
    if let Some(path) = &args.pairs_out {
        let mut w = csv::Writer::from_path(path)?;
        w.write_record(["name1", "name2", "schema", "label", "category", "score"])?;
        for p in &pairs {
            let score = compare(
                &analysis::analyze(&p.name1, Some(p.schema), screener.readings()),
                &analysis::analyze(&p.name2, Some(p.schema), screener.readings()),
                screener.rarity(),
            )
            .score;
            w.write_record([
                &p.name1,
                &p.name2,
                &format!("{:?}", p.schema).to_lowercase(),
                &p.label.to_string(),
                &p.category,
                &format!("{score:.4}"),
            ])?;
        }
        w.flush()?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&evaluation)?);
        return Ok(());
    }
    let m = &evaluation.overall;
    println!("{} pairs at threshold {:.2}: precision {:.3} recall {:.3} F1 {:.3} (tp {} fp {} fn {} tn {})", evaluation.pairs, evaluation.threshold, m.precision, m.recall, m.f1, m.tp, m.fp, m.fn_, m.tn);
    println!(
        "{:<36} {:>6} {:>6} {:>6} {:>6}  {:>9} {:>7}",
        "category", "tp", "fp", "fn", "tn", "precision", "recall"
    );
    for (category, m) in &evaluation.by_category {
        println!(
            "{:<36} {:>6} {:>6} {:>6} {:>6}  {:>9.3} {:>7.3}",
            category, m.tp, m.fp, m.fn_, m.tn, m.precision, m.recall
        );
    }
    Ok(())
}

fn bench_ids(args: BenchIdsArgs) -> Result<()> {
    if args.runs == 0 || args.identifiers == 0 {
        bail!("--runs and --identifiers must be at least 1");
    }
    let screener = build_screener(&args.lists)?;
    let r = trilat_bench::sanctions::run_ids(&screener, args.identifiers, args.runs);
    if r.listed == 0 {
        bail!("the lists carry no wallet address or e-mail to build a batch from");
    }
    println!(
        "index: {} identifiers; batch drawn from {} listed wallets and e-mails",
        r.indexed, r.listed
    );
    println!(
        "batch: {} identifiers, {} listed ones matched; {} runs of {:?} s thread CPU",
        r.identifiers,
        r.identifiers_matched,
        r.runs_cpu_s.len(),
        r.runs_cpu_s
            .iter()
            .map(|s| (s * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    println!(
        "throughput: {:.0} identifiers per CPU-second (median), {:.0} (best), one core",
        r.per_cpu_s_median, r.per_cpu_s_best
    );
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    let lists = load_lists(&args.lists)?;
    let readings = load_unihan(&args.lists.unihan);
    let (screener, r) = trilat_bench::sanctions::run(lists, readings, args.queries, args.oracle)?;
    let mut versions: Vec<String> = screener
        .versions()
        .iter()
        .map(|(s, v)| format!("{} {v}", s.slug()))
        .collect();
    versions.sort();
    println!(
        "lists: {} ({} entities, {} names)",
        versions.join(", "),
        r.entities,
        r.names
    );
    println!(
        "index build: {:.3} s wall, {:.3} s CPU; RSS +{} MiB",
        r.build_wall_s,
        r.build_cpu_s,
        r.build_rss_kib / 1024
    );
    let mix: Vec<String> = r
        .queries_by_script
        .iter()
        .map(|(script, n)| format!("{script} {n}"))
        .collect();
    println!(
        "queries: {} on one thread (evaluation-set names: {}), {} with hits, {} hits",
        r.queries,
        mix.join(", "),
        r.queries_with_hits,
        r.hits
    );
    println!(
        "latency CPU (thread clock): p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        r.cpu_p50_us, r.cpu_p99_us, r.cpu_max_us
    );
    println!("latency wall: p50 {:.0} µs, p99 {:.0} µs (includes waiting for a core on a shared machine)", r.wall_p50_us, r.wall_p99_us);
    if r.oracle_queries > 0 {
        println!(
            "retrieval vs exhaustive scan: {} queries, {} hits, {} missed (0 expected: the bound never drops a name that can reach the threshold)",
            r.oracle_queries, r.oracle_hits, r.oracle_missed
        );
    }
    println!(
        "retrieval: {:.1} names scored per query on average (most {}), {} queries by exhaustive scan, {} posting entries",
        r.names_scored_mean, r.names_scored_max, r.queries_exhaustive, r.postings
    );
    println!(
        "throughput: {:.0} queries per CPU-second (one core), {:.0} queries/s wall",
        r.queries_per_cpu_s, r.queries_per_wall_s
    );
    Ok(())
}
