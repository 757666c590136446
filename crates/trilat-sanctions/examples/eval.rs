//! `cargo run --release -p trilat-sanctions --example eval -- [--unihan Unihan_Readings.txt.bz2] FILE…`
//! — the evaluation of `trilat sanctions eval` (labelled pairs built from the lists, precision /
//! recall / F1 at the default threshold), without building the whole CLI. Files as for the
//! `bench` example.
//!
//! `--pairs FILE.csv` evaluates those labelled pairs (`name1,name2,schema,label,category`, e.g.
//! `data/eval_families.csv`) instead of the pairs built from the lists, with the lists'
//! rarity; `--pairs-out FILE.csv` writes each pair with its score (the input of
//! `scripts/bench/sanctions_logic_v2.py`, which scores the same pairs with logic-v2).

mod common;

use std::io::Read;
use std::sync::Arc;
use trilat_sanctions::analysis::analyze;
use trilat_sanctions::matcher::compare;
use trilat_sanctions::model::Schema;
use trilat_sanctions::unihan::HanReadings;
use trilat_sanctions::{eval, Screener, THRESHOLD_DEFAULT};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut readings = None;
    if let Some(at) = args.iter().position(|a| a == "--unihan") {
        let path = args.get(at + 1).ok_or("--unihan needs a path")?.clone();
        args.drain(at..at + 2);
        let bytes = std::fs::read(&path)?;
        let mut text = String::new();
        if path.ends_with(".bz2") {
            bzip2::read::BzDecoder::new(&bytes[..]).read_to_string(&mut text)?;
        } else {
            text = String::from_utf8(bytes)?;
        }
        readings = Some(Arc::new(HanReadings::parse(&text)?));
    }
    let pairs_in = take_path(&mut args, "--pairs")?;
    let pairs_out = take_path(&mut args, "--pairs-out")?;
    let lists = common::load_lists(args)?;
    let pairs = match &pairs_in {
        Some(path) => read_pairs(path)?,
        None => eval::build_pairs(&lists, 500, 1718),
    };
    let screener = Screener::new(lists, readings)?;
    let evaluation = eval::evaluate(
        &pairs,
        screener.rarity(),
        screener.readings(),
        THRESHOLD_DEFAULT,
    );
    let m = &evaluation.overall;
    println!(
        "{} pairs at threshold {:.2}: precision {:.3} recall {:.3} F1 {:.3} (tp {} fp {} fn {} tn {})",
        evaluation.pairs, evaluation.threshold, m.precision, m.recall, m.f1, m.tp, m.fp, m.fn_, m.tn
    );
    if pairs_in.is_some() {
        for (category, m) in &evaluation.by_category {
            println!(
                "{category:<20} P {:.3} R {:.3} F1 {:.3} (tp {} fp {} fn {} tn {})",
                m.precision, m.recall, m.f1, m.tp, m.fp, m.fn_, m.tn
            );
        }
    }
    if let Some(path) = pairs_out {
        write_pairs(&path, &pairs, &screener)?;
    }
    Ok(())
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

fn read_pairs(path: &str) -> Result<Vec<eval::LabelledPair>, Box<dyn std::error::Error>> {
    let mut pairs = Vec::new();
    for (line, record) in csv::Reader::from_path(path)?.records().enumerate() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let schema = Schema::parse(field(2))
            .ok_or_else(|| format!("{path} line {}: unknown schema {:?}", line + 2, field(2)))?;
        let label = match field(3) {
            "true" => true,
            "false" => false,
            other => return Err(format!("{path} line {}: label {other:?}", line + 2).into()),
        };
        pairs.push(eval::LabelledPair {
            name1: field(0).into(),
            name2: field(1).into(),
            schema,
            label,
            category: field(4).into(),
        });
    }
    Ok(pairs)
}

fn write_pairs(
    path: &str,
    pairs: &[eval::LabelledPair],
    screener: &Screener,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["name1", "name2", "schema", "label", "category", "score"])?;
    for p in pairs {
        let score = compare(
            &analyze(&p.name1, Some(p.schema), screener.readings()),
            &analyze(&p.name2, Some(p.schema), screener.readings()),
            screener.rarity(),
        )
        .score;
        let schema = format!("{:?}", p.schema).to_lowercase();
        let label = p.label.to_string();
        w.write_record([
            &p.name1,
            &p.name2,
            &schema,
            &label,
            &p.category,
            &score.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
