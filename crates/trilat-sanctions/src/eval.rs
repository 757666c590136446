//! The evaluation harness: a labelled set of name pairs built by code from the lists
//! themselves and from the romanisation tables, and precision / recall / F1 at a threshold.
//!
//! Positives: the primary name and each strong alias of the same entity (UN, OFAC DPRK-related
//! programmes); the English and katakana forms of the same row of the MOF DPRK sheets;
//! synthetic Korean names written in Hangul and romanised by the published systems (RR,
//! McCune–Reischauer with apostrophes, DPRK official), compared across systems.
//! Negatives: for each entity, the *other* entity of the same list whose name shares the most
//! tokens with it (Jaccard on folded tokens, independent of the matcher), excluding identical
//! names; and synthetic Korean names that differ in one given-name syllable.

use crate::analysis::analyze;
use crate::hangul::{self, System};
use crate::matcher::{compare, Rarity};
use crate::model::{Entity, ListSource, ListVersion, NameQuality, Schema, Script};
use crate::normalize::{fold_latin, is_legal_form};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

mod families;
pub use families::{build_family_set, SetPair, FAMILY_PAIRS_MAX};

/// Header of the families set file (`data/eval_set.csv`) and of the hand-written families
/// file (`data/eval_families.csv`, whose fifth column is its family and which has no sixth).
pub const SET_HEADER: [&str; 6] = ["name1", "name2", "schema", "label", "family", "provenance"];

/// Writes labelled pairs as CSV ([`SET_HEADER`]).
pub fn write_set<W: std::io::Write>(out: W, pairs: &[SetPair]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(SET_HEADER)?;
    for p in pairs {
        let schema = schema_word(p.pair.schema);
        let label = if p.pair.label { "true" } else { "false" };
        w.write_record([
            p.pair.name1.as_str(),
            &p.pair.name2,
            schema,
            label,
            &p.pair.category,
            &p.provenance,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The CSV spelling of a schema.
pub fn schema_word(schema: Schema) -> &'static str {
    match schema {
        Schema::Person => "person",
        Schema::Organization => "organization",
        Schema::Vessel => "vessel",
        Schema::Aircraft => "aircraft",
    }
}

/// Reads labelled pairs written as [`SET_HEADER`] (the sixth column optional); `origin`
/// names the file in errors, which say the line.
pub fn read_set<R: std::io::Read>(input: R, origin: &str) -> Result<Vec<SetPair>, String> {
    let mut pairs = Vec::new();
    for (at, record) in csv::Reader::from_reader(input).records().enumerate() {
        let line = at + 2;
        let record = record.map_err(|e| format!("{origin} line {line}: {e}"))?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let schema = Schema::parse(field(2))
            .ok_or_else(|| format!("{origin} line {line}: unknown schema {:?}", field(2)))?;
        let label = match field(3) {
            "true" => true,
            "false" => false,
            other => {
                return Err(format!(
                    "{origin} line {line}: label {other:?}, not true/false"
                ))
            }
        };
        if field(0).is_empty() || field(1).is_empty() || field(4).is_empty() {
            return Err(format!(
                "{origin} line {line}: a name or the family is empty"
            ));
        }
        pairs.push(SetPair {
            pair: LabelledPair {
                name1: field(0).into(),
                name2: field(1).into(),
                schema,
                label,
                category: field(4).into(),
            },
            provenance: field(5).into(),
        });
    }
    Ok(pairs)
}

/// Bound on pairs per category.
pub const PAIRS_PER_CATEGORY_MAX: usize = 5_000;

/// One labelled pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledPair {
    /// First name.
    pub name1: String,
    /// Second name.
    pub name2: String,
    /// Schema of both.
    pub schema: Schema,
    /// True when both names designate the same entity.
    pub label: bool,
    /// How the pair was built.
    pub category: String,
}

fn is_dprk_related(entity: &Entity) -> bool {
    entity
        .programmes
        .iter()
        .any(|p| p.contains("DPRK") || p.contains("NPWMD"))
        || entity.countries.iter().any(|c| c == "KP")
}

fn push(out: &mut Vec<LabelledPair>, counts: &mut HashMap<String, usize>, pair: LabelledPair) {
    let count = counts.entry(pair.category.clone()).or_default();
    if *count < PAIRS_PER_CATEGORY_MAX {
        *count += 1;
        out.push(pair);
    }
}

/// Builds the labelled set. `synthetic_n` Korean names are generated with `seed`.
pub fn build_pairs(lists: &[ListVersion], synthetic_n: usize, seed: u64) -> Vec<LabelledPair> {
    let mut out = Vec::new();
    let mut counts = HashMap::new();
    for list in lists {
        let selected: Vec<&Entity> = match list.source {
            ListSource::UnConsolidated => list.entities.iter().collect(),
            ListSource::OfacSdn => list
                .entities
                .iter()
                .filter(|e| is_dprk_related(e))
                .collect(),
            ListSource::JapanMof => list
                .entities
                .iter()
                .filter(|e| e.programmes.iter().any(|p| p == "DPRK"))
                .collect(),
            _ => Vec::new(),
        };
        for entity in &selected {
            alias_positives(list.source, entity, &mut out, &mut counts);
        }
        similar_negatives(list.source, &selected, &mut out, &mut counts);
    }
    synthetic_korean(synthetic_n, seed, &mut out, &mut counts);
    out
}

fn alias_positives(
    source: ListSource,
    entity: &Entity,
    out: &mut Vec<LabelledPair>,
    counts: &mut HashMap<String, usize>,
) {
    let Some(primary) = entity.names.first() else {
        return;
    };
    let kind = if entity.schema == Schema::Person {
        "person"
    } else {
        "org"
    };
    for alias in entity
        .names
        .iter()
        .skip(1)
        .filter(|n| n.quality != NameQuality::Weak)
    {
        if fold_latin(&alias.text) == fold_latin(&primary.text) {
            continue;
        }
        let category = match (source, alias.script) {
            (ListSource::JapanMof, Script::Kana) => format!("mof_katakana_{kind}"),
            (_, Script::Latin) => format!("{}_alias_{kind}", source.slug()),
            _ => format!("{}_original_script_{kind}", source.slug()),
        };
        push(
            out,
            counts,
            LabelledPair {
                name1: primary.text.clone(),
                name2: alias.text.clone(),
                schema: entity.schema,
                label: true,
                category,
            },
        );
    }
}

fn tokens(text: &str) -> HashSet<String> {
    fold_latin(text)
        .split_whitespace()
        .filter(|t| !is_legal_form(t))
        .map(str::to_string)
        .collect()
}

fn similar_negatives(
    source: ListSource,
    entities: &[&Entity],
    out: &mut Vec<LabelledPair>,
    counts: &mut HashMap<String, usize>,
) {
    let token_sets: Vec<HashSet<String>> = entities.iter().map(|e| tokens(e.caption())).collect();
    let mut by_token: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, set) in token_sets.iter().enumerate() {
        for token in set {
            by_token.entry(token.as_str()).or_default().push(i);
        }
    }
    for (i, entity) in entities.iter().enumerate() {
        let mut best: Option<(f64, usize)> = None;
        let mut seen = HashSet::new();
        for token in &token_sets[i] {
            for &j in by_token
                .get(token.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .take(2_000)
            {
                if j == i || !seen.insert(j) || entities[j].schema != entity.schema {
                    continue;
                }
                if fold_latin(entities[j].caption()) == fold_latin(entity.caption()) {
                    continue;
                }
                let inter = token_sets[i].intersection(&token_sets[j]).count() as f64;
                let union = token_sets[i].union(&token_sets[j]).count() as f64;
                let jaccard = inter / union.max(1.0);
                if best.is_none_or(|(b, bj)| jaccard > b || (jaccard == b && j < bj)) {
                    best = Some((jaccard, j));
                }
            }
        }
        if let Some((_, j)) = best {
            let kind = if entity.schema == Schema::Person {
                "person"
            } else {
                "org"
            };
            push(
                out,
                counts,
                LabelledPair {
                    name1: entity.caption().to_string(),
                    name2: entities[j].caption().to_string(),
                    schema: entity.schema,
                    label: false,
                    category: format!("{}_similar_other_{kind}", source.slug()),
                },
            );
        }
    }
}

/// Common given-name syllables (Hangul) for synthetic names.
const GIVEN_SYLLABLES: &str =
    "정은철호영수민준현진성혁광일남순희숙용국명석동원훈길혜경미선옥춘학기상재태우빈지";
/// Surnames for synthetic names.
const SURNAMES: &str = "김이박최정강조윤장임한오서신권황안송전홍류고문양손배백허남심노";

/// The seeded generator of the synthetic names and of the families set's sampling.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn title(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Writes a Hangul name in a system: `Kim Jong-un` style (surname, hyphenated given name).
fn romanised(surname: &str, given: &str, system: System, upper: bool) -> String {
    let s = hangul::romanize_word(surname, system);
    let g: Vec<String> = given
        .chars()
        .map(|c| hangul::romanize_word(&c.to_string(), system))
        .collect();
    let text = format!("{} {}", title(&s), title(&g.join("-")));
    if upper {
        text.to_uppercase()
    } else {
        text
    }
}

fn synthetic_korean(
    n: usize,
    seed: u64,
    out: &mut Vec<LabelledPair>,
    counts: &mut HashMap<String, usize>,
) {
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let syllables: Vec<char> = GIVEN_SYLLABLES.chars().collect();
    let mut rng = Lcg(seed);
    for _ in 0..n {
        let surname = surnames[rng.next(surnames.len())].to_string();
        let a = syllables[rng.next(syllables.len())];
        let b = syllables[rng.next(syllables.len())];
        let given: String = [a, b].iter().collect();
        let mut other_b = syllables[rng.next(syllables.len())];
        if other_b == b {
            other_b = syllables
                [(syllables.iter().position(|c| *c == b).unwrap_or(0) + 1) % syllables.len()];
        }
        let other_given: String = [a, other_b].iter().collect();
        let hangul_name = format!("{surname}{given}");
        let rr = romanised(&surname, &given, System::Revised, false);
        let mr = romanised(&surname, &given, System::McCuneApostrophe, true);
        let dprk = romanised(&surname, &given, System::Dprk, false);
        let other_mr = romanised(&surname, &other_given, System::McCuneApostrophe, true);
        let other_rr = romanised(&surname, &other_given, System::Revised, false);
        let pair = |name1: &str, name2: &str, label: bool, category: &str| LabelledPair {
            name1: name1.into(),
            name2: name2.into(),
            schema: Schema::Person,
            label,
            category: category.into(),
        };
        push(out, counts, pair(&rr, &mr, true, "synthetic_rr_vs_mr"));
        push(out, counts, pair(&dprk, &rr, true, "synthetic_dprk_vs_rr"));
        push(
            out,
            counts,
            pair(&hangul_name, &mr, true, "synthetic_hangul_vs_mr"),
        );
        push(
            out,
            counts,
            pair(&rr, &other_mr, false, "synthetic_other_given_name"),
        );
        push(
            out,
            counts,
            pair(&hangul_name, &other_rr, false, "synthetic_other_given_name"),
        );
    }
}

/// Confusion counts and derived metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
    /// True negatives.
    pub tn: usize,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Metrics {
    fn add(&mut self, label: bool, predicted: bool) {
        match (label, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    fn finish(&mut self) {
        self.precision = self.tp as f64 / ((self.tp + self.fp) as f64).max(1.0);
        self.recall = self.tp as f64 / ((self.tp + self.fn_) as f64).max(1.0);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
    }
}

/// The evaluation result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Threshold used.
    pub threshold: f64,
    /// Pairs evaluated.
    pub pairs: usize,
    /// Over all pairs.
    pub overall: Metrics,
    /// Per category.
    pub by_category: BTreeMap<String, Metrics>,
}

/// Scores every pair with [`compare`] and counts against `threshold`.
pub fn evaluate(
    pairs: &[LabelledPair],
    rarity: &Rarity,
    readings: Option<&HanReadings>,
    threshold: f64,
) -> Evaluation {
    let mut evaluation = Evaluation {
        threshold,
        pairs: pairs.len(),
        ..Evaluation::default()
    };
    for pair in pairs {
        let score = compare(
            &analyze(&pair.name1, Some(pair.schema), readings),
            &analyze(&pair.name2, Some(pair.schema), readings),
            rarity,
        )
        .score;
        let predicted = score >= threshold;
        evaluation.overall.add(pair.label, predicted);
        evaluation
            .by_category
            .entry(pair.category.clone())
            .or_default()
            .add(pair.label, predicted);
    }
    evaluation.overall.finish();
    for metrics in evaluation.by_category.values_mut() {
        metrics.finish();
    }
    evaluation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_pairs_are_deterministic_and_balanced() {
        let a = build_pairs(&[], 20, 7);
        let b = build_pairs(&[], 20, 7);
        assert_eq!(a, b);
        assert_eq!(a.iter().filter(|p| p.label).count(), 60);
        assert_eq!(a.iter().filter(|p| !p.label).count(), 40);
        let evaluation = evaluate(&a, &Rarity::default(), None, 0.8);
        assert_eq!(evaluation.pairs, 100);
        assert!(evaluation.overall.f1 > 0.9, "{evaluation:#?}");
    }
}
