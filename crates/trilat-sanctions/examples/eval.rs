//! `cargo run --release -p trilat-sanctions --example eval -- [--unihan Unihan_Readings.txt.bz2] FILE…`
//! — the evaluation of `trilat sanctions eval` (labelled pairs built from the lists, precision /
//! recall / F1 at the default threshold), without building the whole CLI. Files as for the
//! `bench` example.

use std::io::Read;
use std::sync::Arc;
use trilat_sanctions::format::{detect, Format};
use trilat_sanctions::unihan::HanReadings;
use trilat_sanctions::{eval, japan, ofac, un, Screener, THRESHOLD_DEFAULT};

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
    let mut lists = Vec::new();
    let mut alt = Vec::new();
    for path in &args {
        let bytes = std::fs::read(path)?;
        match detect(path, &bytes[..bytes.len().min(4096)]) {
            Some(Format::UnXml) => lists.push(un::parse(&bytes)?.list),
            Some(Format::OfacSdn) => lists.push(ofac::parse_sdn(&bytes, "file")?.list),
            Some(Format::OfacAlt) => alt.push(bytes),
            Some(Format::JapanMof) => lists.push(japan::parse_mof(&bytes, "file")?.list),
            Some(Format::JapanMeti) => lists.push(japan::parse_meti(&bytes, "file")?.list),
            other => eprintln!("skipping {path}: {other:?}"),
        }
    }
    let mut problems = Vec::new();
    if let Some(sdn) = lists
        .iter_mut()
        .find(|l| l.source == trilat_sanctions::model::ListSource::OfacSdn)
    {
        for bytes in &alt {
            ofac::apply_alt(sdn, bytes, &mut problems);
        }
    }
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
