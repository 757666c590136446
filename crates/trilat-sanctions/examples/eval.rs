//! `cargo run --release -p trilat-sanctions --example eval -- [--unihan Unihan_Readings.txt.bz2] FILE…`
//! — the evaluation of `trilat sanctions eval` (labelled pairs built from the lists, precision /
//! recall / F1 at the default threshold), without building the whole CLI. Files as for the
//! `bench` example.

mod common;

use std::io::Read;
use std::sync::Arc;
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
    let lists = common::load_lists(args)?;
    let pairs = eval::build_pairs(&lists, 500, 1718);
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
    Ok(())
}
