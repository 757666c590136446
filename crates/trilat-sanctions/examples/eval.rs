//! `cargo run --release -p trilat-sanctions --example eval -- [OPTIONS] FILE…`
//! — the evaluation of `trilat sanctions eval` (labelled pairs, precision / recall / F1 at the
//! default threshold, overall and per family), without building the whole CLI. `FILE…` are
//! the list files, as for the `bench` example; their names give the rarity weights.
//!
//! Which pairs (any together, in one run; without any, the list pairs):
//! - `--set FILE.csv` the families set (`data/eval_set.csv`: `name1,name2,schema,label,family,
//!   provenance`), each pair under its family;
//! - `--hand FILE.csv` the hand-written families (`data/eval_families.csv`), each family
//!   prefixed `hand_`;
//! - `--list-pairs` the pairs built from the lists (`eval::build_pairs`), each category
//!   prefixed `list_`; their false negatives are classed as *no word in common* (no token of
//!   one name meets any token of the other in any way the matcher knows) or *fixable*, and
//!   recall is also given without the first kind.
//!
//! `--write-set FILE.csv` rebuilds the families set from the lists (seed 1718) and writes it;
//! `--pairs-out FILE.csv` writes each evaluated pair with its family and score, the input of
//! `scripts/bench/sanctions_logic_v2.py` (logic-v2 on the same pairs, per family);
//! `--fn-sample FILE.txt` writes 100 false negatives of the list pairs (seeded) with their class;
//! `--misses FAMILY` (repeatable) prints every wrong answer in that family (a family name as
//! the report prints it, e.g. `list_un_alias_person`, `script_cyrillic`): the false negatives
//! and false matches, each with its score and how each word matched.
//!
//! Example: the misses of the Cyrillic family, beside the whole report:
//! `eval --set crates/trilat-sanctions/data/eval_set.csv --misses script_cyrillic FILE…`

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::{compare, How, NameScore};
use trilat_sanctions::unihan::HanReadings;
use trilat_sanctions::{eval, Screener, THRESHOLD_DEFAULT};

/// The seed of the families set (`data/eval_set.csv`) and of the list pairs' synthetic names.
const SEED: u64 = 1718;

/// What `--help` prints.
const USAGE: &str = "\
eval [OPTIONS] LIST_FILE...   precision / recall / F1 of name pairs at the default threshold

Pairs (any together; without any, the list pairs):
  --set FILE.csv      the families set (crates/trilat-sanctions/data/eval_set.csv)
  --hand FILE.csv     hand-written families (data/eval_families.csv, data/eval_scripts.csv)
  --list-pairs        pairs built from the lists (aliases across UN, OFAC, MOF; negatives)
Output:
  --pairs-out FILE    each pair with its family and score: the input of
                      scripts/bench/sanctions_logic_v2.py (logic-v2 on the same pairs)
  --misses FAMILY     every wrong answer of a family, with how each word matched (repeatable)
  --fn-sample FILE    100 false negatives of the list pairs with their class
  --write-set FILE    rebuild the families set from the lists (seed 1718)
  --unihan FILE       another Unihan readings file than the shipped table

Example (D=../shared/data/sanctions):
  eval --set crates/trilat-sanctions/data/eval_set.csv --list-pairs \\
    --misses script_cyrillic --pairs-out /tmp/p.csv \\
    $D/un/UN_consolidated_2026-02-27.xml $D/ofac/ofac_sdn_2024-05-03.csv \\
    $D/ofac/ofac_2025-02-27_alt.csv $D/japan/mof_shisantouketsu20260305.xlsx \\
    $D/japan/meti_foreign_user_list_20250929.xlsx
  .venv/bin/python scripts/bench/sanctions_logic_v2.py /tmp/p.csv   # logic-v2 side by side
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if take_flag(&mut args, "--help") || take_flag(&mut args, "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let readings = match take_path(&mut args, "--unihan")? {
        Some(path) => Some(Arc::new(read_unihan(&path)?)),
        None => None,
    };
    let mut pairs: Vec<eval::SetPair> = Vec::new();
    while let Some(path) = take_path(&mut args, "--set")? {
        pairs.extend(eval::read_set(std::fs::File::open(&path)?, &path)?);
    }
    while let Some(path) = take_path(&mut args, "--hand")? {
        let mut hand = eval::read_set(std::fs::File::open(&path)?, &path)?;
        hand.iter_mut()
            .for_each(|p| p.pair.category = format!("hand_{}", p.pair.category));
        pairs.extend(hand);
    }
    let list_pairs = take_flag(&mut args, "--list-pairs");
    let write_set = take_path(&mut args, "--write-set")?;
    let pairs_out = take_path(&mut args, "--pairs-out")?;
    let fn_sample = take_path(&mut args, "--fn-sample")?;
    let mut misses_of: Vec<String> = Vec::new();
    while let Some(family) = take_path(&mut args, "--misses")? {
        misses_of.push(family);
    }
    let lists = common::load_lists(args)?;
    if let Some(path) = &write_set {
        let set = eval::build_family_set(&lists, SEED);
        eval::write_set(std::fs::File::create(path)?, &set)?;
        println!("{} pairs written to {path}", set.len());
    }
    if list_pairs || (pairs.is_empty() && write_set.is_none()) {
        pairs.extend(
            eval::build_pairs(&lists, 500, SEED)
                .into_iter()
                .map(|mut p| {
                    p.category = format!("list_{}", p.category);
                    eval::SetPair {
                        pair: p,
                        provenance: String::new(),
                    }
                }),
        );
    }
    if pairs.is_empty() {
        return Ok(());
    }
    let screener = Screener::new(lists, readings)?;
    let scored: Vec<(eval::SetPair, NameScore)> = pairs
        .into_iter()
        .map(|p| {
            let score = compare(
                &analyze(&p.pair.name1, Some(p.pair.schema), screener.readings()),
                &analyze(&p.pair.name2, Some(p.pair.schema), screener.readings()),
                screener.rarity(),
            );
            (p, score)
        })
        .collect();
    report(&scored);
    if let Some(path) = pairs_out {
        write_scored(&path, &scored)?;
    }
    if let Some(path) = fn_sample {
        write_fn_sample(&path, &scored)?;
    }
    for family in &misses_of {
        print_misses(family, &scored);
    }
    Ok(())
}

/// Prints the wrong answers of one family: label, score, the names, and each word's match.
fn print_misses(family: &str, scored: &[(eval::SetPair, NameScore)]) {
    let in_family: Vec<&(eval::SetPair, NameScore)> = scored
        .iter()
        .filter(|(p, _)| p.pair.category == family)
        .collect();
    if in_family.is_empty() {
        println!("misses of {family}: no pair in this family (names as the report prints them)");
        return;
    }
    let wrong: Vec<&&(eval::SetPair, NameScore)> = in_family
        .iter()
        .filter(|(p, s)| p.pair.label != (s.score >= THRESHOLD_DEFAULT))
        .collect();
    println!(
        "misses of {family}: {} of {} pairs",
        wrong.len(),
        in_family.len()
    );
    for (p, s) in wrong {
        let kind = if p.pair.label {
            "missed"
        } else {
            "false match"
        };
        println!(
            "  {kind} {:.3}  {}  |  {}",
            s.score, p.pair.name1, p.pair.name2
        );
        let words: Vec<String> = s
            .explanation
            .iter()
            .map(|c| {
                format!(
                    "{}~{} {:?} {:+.2}",
                    c.query, c.candidate, c.how, c.contribution
                )
            })
            .collect();
        println!("      {}", words.join("; "));
    }
}

/// Tp, fp, fn, tn.
type Counts = [usize; 4];

fn count(counts: &mut Counts, label: bool, predicted: bool) {
    counts[match (label, predicted) {
        (true, true) => 0,
        (false, true) => 1,
        (true, false) => 2,
        (false, false) => 3,
    }] += 1;
}

fn line(name: &str, c: &Counts) -> String {
    let [tp, fp, fn_, tn] = *c;
    let p = tp as f64 / ((tp + fp) as f64).max(1.0);
    let r = tp as f64 / ((tp + fn_) as f64).max(1.0);
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    format!("{name:<32} P {p:.3} R {r:.3} F1 {f1:.3} (tp {tp} fp {fp} fn {fn_} tn {tn})")
}

/// No token of one name met any token of the other: nothing in the strings to build on.
fn no_word_in_common(score: &NameScore) -> bool {
    score
        .explanation
        .iter()
        .all(|c| c.how == How::Mismatch || c.similarity == 0.0)
}

fn report(scored: &[(eval::SetPair, NameScore)]) {
    let mut overall = Counts::default();
    let mut by_group: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut by_family: BTreeMap<&str, Counts> = BTreeMap::new();
    let (mut list_fn_unrelated, mut list_tp) = (0, 0);
    let mut list_fn = 0;
    for (p, score) in scored {
        let predicted = score.score >= THRESHOLD_DEFAULT;
        let family = p.pair.category.as_str();
        count(&mut overall, p.pair.label, predicted);
        count(
            by_group.entry(group(family)).or_default(),
            p.pair.label,
            predicted,
        );
        count(
            by_family.entry(family).or_default(),
            p.pair.label,
            predicted,
        );
        if family.starts_with("list_") && p.pair.label {
            match (predicted, no_word_in_common(score)) {
                (true, _) => list_tp += 1,
                (false, true) => list_fn_unrelated += 1,
                (false, false) => list_fn += 1,
            }
        }
    }
    println!("{} pairs at threshold {THRESHOLD_DEFAULT:.2}", scored.len());
    println!("{}", line("overall", &overall));
    for (name, c) in &by_group {
        println!("{}", line(&format!("group {name}"), c));
    }
    for (name, c) in &by_family {
        println!("{}", line(name, c));
    }
    if list_tp + list_fn + list_fn_unrelated > 0 {
        println!(
            "list pairs: {list_fn_unrelated} false negatives with no word in common, {list_fn} fixable; recall without the first {:.3}",
            list_tp as f64 / ((list_tp + list_fn) as f64).max(1.0)
        );
    }
}

/// The group of a family: `hand`, `list` or `set`.
fn group(family: &str) -> &'static str {
    if family.starts_with("hand_") {
        "hand"
    } else if family.starts_with("list_") {
        "list"
    } else {
        "set"
    }
}

fn write_scored(
    path: &str,
    scored: &[(eval::SetPair, NameScore)],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["name1", "name2", "schema", "label", "family", "score"])?;
    for (p, score) in scored {
        w.write_record([
            p.pair.name1.as_str(),
            &p.pair.name2,
            eval::schema_word(p.pair.schema),
            if p.pair.label { "true" } else { "false" },
            &p.pair.category,
            &score.score.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// 100 false negatives of the list pairs, every k-th in order, with their class and score.
fn write_fn_sample(
    path: &str,
    scored: &[(eval::SetPair, NameScore)],
) -> Result<(), Box<dyn std::error::Error>> {
    let misses: Vec<&(eval::SetPair, NameScore)> = scored
        .iter()
        .filter(|(p, s)| {
            p.pair.category.starts_with("list_") && p.pair.label && s.score < THRESHOLD_DEFAULT
        })
        .collect();
    let step = (misses.len() / 100).max(1);
    let mut out = String::new();
    for (p, s) in misses.iter().step_by(step).take(100) {
        let class = if no_word_in_common(s) {
            "no word in common"
        } else {
            "fixable"
        };
        out.push_str(&format!(
            "{:.3}\t{class}\t{}\t{}\t{}\n",
            s.score, p.pair.category, p.pair.name1, p.pair.name2
        ));
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn read_unihan(path: &str) -> Result<HanReadings, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let mut text = String::new();
    if path.ends_with(".bz2") {
        bzip2::read::BzDecoder::new(&bytes[..]).read_to_string(&mut text)?;
    } else {
        text = String::from_utf8(bytes)?;
    }
    Ok(HanReadings::parse(&text)?)
}

/// Removes `flag PATH` from `args`, returning the path.
fn take_path(args: &mut Vec<String>, flag: &str) -> Result<Option<String>, String> {
    let Some(at) = args.iter().position(|a| a == flag) else {
        return Ok(None);
    };
    let path = args
        .get(at + 1)
        .ok_or(format!("{flag} needs a path"))?
        .clone();
    args.drain(at..at + 2);
    Ok(Some(path))
}

/// Removes `flag` from `args`, saying whether it was there.
fn take_flag(args: &mut Vec<String>, flag: &str) -> bool {
    let at = args.iter().position(|a| a == flag);
    if let Some(at) = at {
        args.remove(at);
    }
    at.is_some()
}
