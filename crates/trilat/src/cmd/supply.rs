//! `trilat supply …`: critical-mineral supply risk from the USGS Mineral
//! Commodity Summaries 2024 data release and the World Bank WGI. Glue
//! only: the engine is `trilat_supply`; files are read as the node reads
//! them (`trilat_node::engines::supply::load_dataset`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use trilat_node::engines::supply::{commodity_codes, country_codes, load_dataset};
use trilat_supply::figures::{parse_figures, FigureSet};
use trilat_supply::indicators::{ranking, Concentration, SeriesIndicators};
use trilat_supply::scenario::{pool, stop, PoolScenario, StopScenario};
use trilat_supply::{Dataset, Groups};

/// The `trilat supply` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Indicators per commodity and series: HHI, top shares, concern/partner/ally shares, HHI_WGI, US import reliance.
    #[command(after_help = INDICATORS_HELP)]
    Indicators(IndicatorsArgs),
    /// Rank the series by governance-weighted concentration (HHI_WGI), with provenance.
    #[command(after_help = RANK_HELP)]
    Rank(CommonArgs),
    /// "Countries X stop exporting M": share lost, coalition production and reserves, gap, partner exposure.
    #[command(after_help = SCENARIO_HELP)]
    Scenario(ScenarioArgs),
    /// "The partners pool": the coalition's share of world production and reserves per series.
    #[command(after_help = POOL_HELP)]
    Pool(PoolArgs),
}

const DATA_NOTE: &str = "--data takes the folders (or files) of the USGS MCS 2024 data release (mcs2024-<code>_world.csv,
MCS2024_Fig2_Net_Import_Reliance.csv) and the World Bank WGI CSV; they are walked a few levels deep.
--groups FILE is a TOML file with partners = [...], allies = [...], concern = [...] (ISO alpha-3),
the same table as a node's [engines.supply.groups]; docs/economic.md has an example. Without it the
partners are USA, JPN, KOR and there are no allies and no countries of concern.
Method, formulas and sources: docs/economic.md. Exit status: 0 on success, 1 on a file that cannot be
read (the message names the file and line).";

const INDICATORS_HELP: &str = "Examples:
  trilat supply indicators --data ../shared/data/supply --groups groups.toml
  trilat supply indicators --data ../shared/data/supply --commodity gallium,graphite
  trilat supply indicators --data ../shared/data/supply --commodity rare --json > re.json

With --commodity, each series also lists every producer's share and its line in the USGS file.";

const RANK_HELP: &str = "Examples:
  trilat supply rank --data ../shared/data/supply --groups groups.toml
  trilat supply rank --data ../shared/data/supply --json";

const SCENARIO_HELP: &str = "Examples:
  trilat supply scenario --data ../shared/data/supply --stop CHN --commodity gallium,germanium
  trilat supply scenario --data ../shared/data/supply --stop CHN,RUS --commodity antimony,graphite \\
      --groups groups.toml --figures jpn_imports.csv --json

--figures takes a partner's own figures CSV (party,commodity,figure,country,value,unit,year,source;
docs/economic.md); its reliance and import shares decide each partner's exposure. It may be given
several times; a partner's figures are taken from the first file that has them, never added up.
Without them only the United States has an exposure, from USGS (net import reliance and major
import sources).";

const POOL_HELP: &str = "Examples:
  trilat supply pool --data ../shared/data/supply --groups groups.toml
  trilat supply pool --data ../shared/data/supply --commodity cobalt,lithium,nickel --json";

/// Where the data is and who is who.
#[derive(Debug, clap::Args)]
#[command(after_help = DATA_NOTE)]
pub struct CommonArgs {
    /// USGS MCS 2024 and WGI files or folders.
    #[arg(long, required = true, num_args = 1.., env = "TRILAT_SUPPLY_DATA", value_delimiter = ',')]
    pub data: Vec<PathBuf>,
    /// Partners, allies and countries of concern (TOML).
    #[arg(long)]
    pub groups: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `trilat supply indicators`.
#[derive(Debug, clap::Args)]
pub struct IndicatorsArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Commodities (names or USGS file codes, comma-separated); all when absent.
    #[arg(long)]
    pub commodity: Vec<String>,
}

/// Arguments of `trilat supply scenario`.
#[derive(Debug, clap::Args)]
pub struct ScenarioArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Countries that stop exporting (ISO alpha-3 or names, comma-separated).
    #[arg(long, required = true)]
    pub stop: Vec<String>,
    /// Commodities (names or USGS file codes, comma-separated); all when absent.
    #[arg(long)]
    pub commodity: Vec<String>,
    /// Partners' own figures (CSV, docs/economic.md).
    #[arg(long)]
    pub figures: Vec<PathBuf>,
}

/// Arguments of `trilat supply pool`.
#[derive(Debug, clap::Args)]
pub struct PoolArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Commodities (names or USGS file codes, comma-separated); all when absent.
    #[arg(long)]
    pub commodity: Vec<String>,
}

/// Runs a `trilat supply` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Indicators(args) => indicators(args),
        Command::Rank(args) => rank(args),
        Command::Scenario(args) => scenario(args),
        Command::Pool(args) => pool_cmd(args),
    }
}

fn load(common: &CommonArgs) -> anyhow::Result<(Dataset, Groups)> {
    let groups = match &common.groups {
        Some(path) => read_groups(path)?,
        None => Groups::default(),
    };
    let data = load_dataset(&common.data).map_err(anyhow::Error::msg)?;
    if !common.json {
        for d in data.diagnostics.iter().take(20) {
            eprintln!("note: {}:{}: {}", d.file, d.line, d.what);
        }
        if data.wgi.is_none() {
            eprintln!("note: no WGI file among --data: HHI_WGI is not computed");
        }
    }
    Ok((data, groups))
}

fn read_groups(path: &Path) -> anyhow::Result<Groups> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let groups: Groups = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    groups
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(groups)
}

fn codes(names: &[String]) -> anyhow::Result<Vec<String>> {
    commodity_codes(names).map_err(anyhow::Error::msg)
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x + 0.0)
}

fn opt_pct(x: Option<f64>) -> String {
    x.map_or("-".into(), pct)
}

/// A share in running text, where no column header says it is a percentage.
fn opt_percent(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{} %", pct(x)))
}

fn indicators(args: IndicatorsArgs) -> anyhow::Result<()> {
    let (data, groups) = load(&args.common)?;
    let codes = codes(&args.commodity)?;
    let found = data.indicators(&groups, &codes);
    if args.common.json {
        return print_json(&serde_json::json!({
            "groups": groups, "indicators": found, "diagnostics": data.diagnostics,
        }));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<24} {:<32} {:<8} {:>6} {:>7} {:>11} {:>6} {:>8} {:>8} {:>7} {:>7} {:>6}",
        "commodity",
        "series",
        "stage",
        "year",
        "HHI",
        "top-1",
        "top-3%",
        "concern%",
        "partner%",
        "ally%",
        "HHI_WGI",
        "US NIR"
    )?;
    for s in &found {
        table_row(&mut out, s)?;
        if !codes.is_empty() {
            detail(&mut out, s)?;
        }
    }
    Ok(())
}

fn table_row(out: &mut impl Write, s: &SeriesIndicators) -> std::io::Result<()> {
    let series = clip(&s.series_type, 32);
    let nir = s
        .us_reliance
        .as_ref()
        .map_or("-".into(), |r| r.net_import_reliance_pct.to_string());
    match &s.production {
        Some(p) => writeln!(
            out,
            "{:<24} {:<32} {:<8} {:>6} {:>7.0} {:>11} {:>6} {:>8} {:>8} {:>7} {:>7} {:>6}",
            clip(&s.name, 24),
            series,
            format!("{:?}", s.stage).to_lowercase(),
            p.year.map_or("-".into(), |y| y.to_string()),
            p.hhi,
            p.top1
                .as_ref()
                .map_or("-".into(), |(c, x)| format!("{c} {}", pct(*x))),
            pct(p.top3_share),
            pct(p.concern_share),
            pct(p.partners_share),
            pct(p.allies_share),
            p.hhi_wgi.map_or("-".into(), |h| format!("{h:.2}")),
            nir,
        ),
        None => writeln!(
            out,
            "{:<24} {:<32} (no production figures in the file)",
            s.name, series
        ),
    }
}

fn detail(out: &mut impl Write, s: &SeriesIndicators) -> std::io::Result<()> {
    let show = |out: &mut dyn Write, what: &str, c: &Concentration| -> std::io::Result<()> {
        writeln!(
            out,
            "  {what} {} ({}), world {} {} [{}]",
            c.column,
            s.file,
            c.world,
            c.unit,
            match &c.world_from {
                trilat_supply::indicators::WorldFrom::TotalRow { line } =>
                    format!("world total, line {line}"),
                trilat_supply::indicators::WorldFrom::SumOfRows => "sum of rows".into(),
            }
        )?;
        for share in &c.shares {
            let bar = "#".repeat((share.share * 40.0).round() as usize);
            writeln!(
                out,
                "    {:<4} {:>6}% {:<40} line {}{}",
                share.country,
                pct(share.share),
                bar,
                share
                    .lines
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join("+"),
                share
                    .wgi
                    .map_or(String::new(), |(w, y)| format!("  WGI {w:.2} ({y})")),
            )?;
        }
        if c.unattributed_share > 0.0005 {
            writeln!(
                out,
                "    others/unattributed {}%",
                pct(c.unattributed_share)
            )?;
        }
        if !c.not_given.is_empty() {
            writeln!(out, "    not given (W/NA): {}", c.not_given.join(", "))?;
        }
        Ok(())
    };
    if let Some(p) = &s.production {
        show(out, "production", p)?;
    }
    if let Some(r) = &s.reserves {
        show(out, "reserves", r)?;
    }
    if let Some(r) = &s.us_reliance {
        writeln!(
            out,
            "  US net import reliance {}% ({} line {}); major import sources {}",
            r.net_import_reliance_pct,
            r.file,
            r.line,
            r.import_sources.join(", ")
        )?;
    }
    for n in &s.notes {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

fn rank(args: CommonArgs) -> anyhow::Result<()> {
    let (data, groups) = load(&args)?;
    let ranked = ranking(&data.indicators(&groups, &[]));
    if args.json {
        return print_json(&ranked);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:>4} {:<24} {:<30} {:>7} {:>6} {:>11} {:>8} {:>10} {:>6}  provenance",
        "rank",
        "commodity",
        "series",
        "HHI_WGI",
        "HHI",
        "top-1",
        "concern%",
        "coalition%",
        "US NIR"
    )?;
    for e in &ranked {
        writeln!(
            out,
            "{:>4} {:<24} {:<30} {:>7} {:>6.0} {:>11} {:>8} {:>10} {:>6}  {}",
            e.rank,
            clip(&e.name, 24),
            clip(&e.series_type, 30),
            e.hhi_wgi.map_or("-".into(), |h| format!("{h:.2}")),
            e.hhi,
            e.top1
                .as_ref()
                .map_or("-".into(), |(c, x)| format!("{c} {}", pct(*x))),
            pct(e.concern_share),
            pct(e.coalition_share),
            e.us_reliance_pct.map_or("-".into(), |v| format!("{v:.0}")),
            e.provenance.join("; "),
        )?;
    }
    Ok(())
}

/// One set per file, in the order given (for a partner named in several,
/// the first file that has its figures is used).
fn read_figures(paths: &[PathBuf]) -> anyhow::Result<Vec<FigureSet>> {
    let mut sets = Vec::new();
    for path in paths {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let figures = parse_figures(&name, &text)?;
        sets.push(FigureSet {
            origin: name,
            publisher: None,
            figures,
        });
    }
    Ok(sets)
}

fn scenario(args: ScenarioArgs) -> anyhow::Result<()> {
    let (data, groups) = load(&args.common)?;
    let codes = codes(&args.commodity)?;
    let stopped: BTreeSet<String> = country_codes(&args.stop).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(!stopped.is_empty(), "--stop needs at least one country");
    let figures = read_figures(&args.figures)?;
    let result = stop(
        &data.indicators(&groups, &codes),
        &stopped,
        &codes,
        &groups,
        &figures,
    );
    if args.common.json {
        return print_json(&result);
    }
    print_stop(&mut std::io::stdout().lock(), &result)?;
    Ok(())
}

/// `text` in at most `width` characters, ending in `…` when cut.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn print_stop(out: &mut impl Write, r: &StopScenario) -> std::io::Result<()> {
    let stopped: Vec<&str> = r.stopped.iter().map(String::as_str).collect();
    writeln!(out, "Scenario: {} stop(s) exporting", stopped.join(", "))?;
    writeln!(
        out,
        "{:<24} {:<30} {:>6} {:>16} {:>9} {:>7} {:>6}  {:>12} {:>9} {:>14}  most exposed",
        "commodity",
        "series",
        "lost%",
        "lost",
        "partner%",
        "ally%",
        "gap%",
        "partner res%",
        "ally res%",
        "coalition res%"
    )?;
    for o in &r.outcomes {
        writeln!(
            out,
            "{:<24} {:<30} {:>6} {:>16} {:>9} {:>7} {:>6}  {:>12} {:>9} {:>14}  {}",
            clip(&o.name, 24),
            clip(&o.series_type, 30),
            pct(o.lost_share),
            format!("{:.0} {}", o.lost, o.unit),
            pct(o.partners_share),
            pct(o.allies_share),
            pct(o.gap_share),
            opt_pct(o.partners_reserves_share),
            opt_pct(o.allies_reserves_share),
            opt_pct(o.coalition_reserves_share),
            o.most_exposed.as_deref().unwrap_or("-"),
        )?;
        for e in &o.exposures {
            writeln!(
                out,
                "    {}: exposure {}{} (reliance {}, imports from stopped {}) — {}",
                e.party,
                if e.upper_bound { "≤ " } else { "" },
                opt_percent(e.exposure),
                opt_percent(e.net_import_reliance),
                opt_percent(e.import_share_stopped),
                e.basis
            )?;
        }
    }
    for w in &r.without_figures {
        writeln!(out, "no production figures: {w}")?;
    }
    Ok(())
}

fn pool_cmd(args: PoolArgs) -> anyhow::Result<()> {
    let (data, groups) = load(&args.common)?;
    let codes = codes(&args.commodity)?;
    let result = pool(&data.indicators(&groups, &codes), &codes, &groups);
    if args.common.json {
        return print_json(&result);
    }
    print_pool(&mut std::io::stdout().lock(), &result)?;
    Ok(())
}

fn print_pool(out: &mut impl Write, r: &PoolScenario) -> std::io::Result<()> {
    let partners: Vec<&str> = r.partners.iter().map(String::as_str).collect();
    let allies: Vec<&str> = r.allies.iter().map(String::as_str).collect();
    writeln!(
        out,
        "Partners {}; allies {}",
        partners.join(", "),
        if allies.is_empty() {
            "(none)".into()
        } else {
            allies.join(", ")
        }
    )?;
    writeln!(
        out,
        "{:<24} {:<30} {:>11} {:>13} {:>11} {:>13}",
        "commodity", "series", "partner prod%", "coalition prod%", "partner res%", "coalition res%"
    )?;
    for o in &r.outcomes {
        writeln!(
            out,
            "{:<24} {:<30} {:>11} {:>13} {:>11} {:>13}",
            clip(&o.name, 24),
            clip(&o.series_type, 30),
            opt_pct(o.partners_production_share),
            opt_pct(o.coalition_production_share),
            opt_pct(o.partners_reserves_share),
            opt_pct(o.coalition_reserves_share),
        )?;
    }
    Ok(())
}
