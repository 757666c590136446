//! Pairwise name scoring with explanations.
//!
//! Two strategies, chosen per pair of forms:
//! - **Korean**: when both sides read as Korean names, the surname is compared through the
//!   curated surname classes and the given name *as a unit* (all syllables, through the
//!   syllable classes). A different given name is a different person, whatever the surname.
//!   A frequent surname (Kim, Lee …) contributes less than a rare one.
//! - **Generic**: tokens are aligned (adjacent tokens merge when their concatenation is a token
//!   of the other side: `Jong Un` = `Jongun`), each pair scored exact / romanisation variant /
//!   equivalence class / edit distance, weighted by rarity (inverse document frequency from
//!   the loaded lists) so that `Kim`, `Trading` or `Co.` count little.

use crate::analysis::{Form, KoreanName, NameForms, Token, Via};
use crate::normalize::{edit_distance, tables};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Default alert threshold: a pair scoring at least this is a match.
pub const THRESHOLD_DEFAULT: f64 = 0.80;
/// Factor applied to scores obtained through a Han reading table (weaker evidence).
pub const HAN_READING_FACTOR: f64 = 0.95;

/// How two name parts matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Identical after folding case and diacritics.
    Exact,
    /// Same after the romanisation / phonetic key (Chŏng = Jeong, Ōno = Ohno).
    Romanisation,
    /// Same curated equivalence class (Ri = Lee, Chol = Chul).
    EquivalenceClass,
    /// Within a small edit distance.
    EditDistance,
    /// Read through the Unihan table from Han characters.
    HanReading,
    /// Did not match.
    Mismatch,
    /// An identifier (IMO, passport) matched.
    Identifier,
    /// Date of birth, nationality / flag or schema adjustment.
    Attribute,
}

/// One line of an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The query's part.
    pub query: String,
    /// The candidate's part.
    pub candidate: String,
    /// How they matched.
    pub how: How,
    /// Similarity of the two parts, 0..=1.
    pub similarity: f64,
    /// Share of the final score this part carries (can be negative for penalties).
    pub contribution: f64,
}

/// The score of one pair of names and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameScore {
    /// 0..=1.
    pub score: f64,
    /// `korean` or `generic`.
    pub method: String,
    /// Which form of each side was used.
    pub via: (Via, Via),
    /// Parts and their contributions.
    pub explanation: Vec<Contribution>,
}

/// Token rarity weights. Built from the loaded lists; without lists every token weighs 1
/// except legal forms and frequent Korean surnames.
#[derive(Debug, Clone, Default)]
pub struct Rarity {
    document_frequency: HashMap<String, u32>,
    documents: u32,
}

impl Rarity {
    /// Counts, for each token key, the number of names containing it.
    pub fn from_names<'a>(names: impl Iterator<Item = &'a NameForms>) -> Rarity {
        let mut rarity = Rarity::default();
        for forms in names {
            rarity.documents += 1;
            let Some(form) = forms.forms.first() else {
                continue;
            };
            let mut seen: Vec<&str> = Vec::new();
            for token in &form.tokens {
                if !seen.contains(&token.key.as_str()) {
                    seen.push(&token.key);
                    *rarity
                        .document_frequency
                        .entry(token.key.clone())
                        .or_default() += 1;
                }
            }
        }
        rarity
    }

    /// Weight of a token: log inverse document frequency, clamped to 0.2..=3.
    pub fn weight(&self, token: &Token) -> f64 {
        if token.legal_form {
            return 0.1;
        }
        if self.documents == 0 {
            let common_surname = token
                .surname_class
                .is_some_and(|c| tables().surname_common.contains(&c));
            return if common_surname { 0.4 } else { 1.0 };
        }
        let df = self
            .document_frequency
            .get(&token.key)
            .copied()
            .unwrap_or(0) as f64;
        let idf = ((self.documents as f64 + 1.0) / (df + 1.0)).ln() / 5.0;
        idf.clamp(0.2, 3.0)
    }
}

/// Scores two analysed names: the best over their forms.
pub fn compare(query: &NameForms, candidate: &NameForms, rarity: &Rarity) -> NameScore {
    let mut best: Option<NameScore> = None;
    for qf in &query.forms {
        for cf in &candidate.forms {
            let factor = if qf.via == Via::HanReading || cf.via == Via::HanReading {
                HAN_READING_FACTOR
            } else {
                1.0
            };
            let mut score = compare_forms(qf, cf, rarity);
            score.score *= factor;
            if factor < 1.0 {
                for c in &mut score.explanation {
                    c.contribution *= factor;
                }
            }
            if best.as_ref().is_none_or(|b| score.score > b.score) {
                best = Some(score);
            }
        }
    }
    let best = best.unwrap_or(NameScore {
        score: 0.0,
        method: "generic".into(),
        via: (Via::Written, Via::Written),
        explanation: Vec::new(),
    });
    debug_assert!((0.0..=1.0 + 1e-9).contains(&best.score));
    best
}

fn compare_forms(query: &Form, candidate: &Form, rarity: &Rarity) -> NameScore {
    // Korean names are compared structurally whenever both sides read as Korean.
    if !query.korean.is_empty() && !candidate.korean.is_empty() {
        let mut best: Option<NameScore> = None;
        for qk in &query.korean {
            for ck in &candidate.korean {
                let s = compare_korean(qk, ck);
                if best.as_ref().is_none_or(|b| s.score > b.score) {
                    best = Some(s);
                }
            }
        }
        if let Some(mut best) = best {
            best.via = (query.via, candidate.via);
            return best;
        }
    }
    let mut s = compare_generic(&query.tokens, &candidate.tokens, rarity);
    s.via = (query.via, candidate.via);
    s
}

fn part_how(a: &str, b: &str, same_key: bool, same_class: bool) -> (How, f64) {
    if a == b {
        (How::Exact, 1.0)
    } else if same_key {
        (How::Romanisation, 1.0)
    } else if same_class {
        (How::EquivalenceClass, 0.97)
    } else {
        (How::Mismatch, 0.0)
    }
}

/// Korean structural comparison: surname through classes, given name as a unit.
pub fn compare_korean(q: &KoreanName, c: &KoreanName) -> NameScore {
    let surname_key_equal =
        crate::normalize::korean_key(&q.surname) == crate::normalize::korean_key(&c.surname);
    let surname_class_equal = q.surname_class.is_some() && q.surname_class == c.surname_class;
    let (mut surname_how, mut surname_sim) = part_how(
        &q.surname,
        &c.surname,
        surname_key_equal,
        surname_class_equal,
    );
    if surname_how == How::Mismatch
        && q.surname.len() >= 3
        && edit_distance(&q.surname, &c.surname, 1) <= 1
    {
        (surname_how, surname_sim) = (How::EditDistance, 0.6);
    }
    let given_q = q.given.concat();
    let given_c = c.given.concat();
    let (mut given_how, mut given_sim) = part_how(
        &given_q,
        &given_c,
        q.given_key == c.given_key,
        q.given_classes == c.given_classes,
    );
    if given_how == How::Mismatch
        && q.given_key.len() >= 5
        && edit_distance(&q.given_key, &c.given_key, 1) <= 1
        && q.given.len() == c.given.len()
    {
        // One letter apart on the phonetic key, same number of syllables: a likely typo.
        (given_how, given_sim) = (How::EditDistance, 0.7);
    }
    let common = q.surname_common || c.surname_common;
    let surname_weight = if common { 0.25 } else { 0.4 };
    let given_weight = 1.0 - surname_weight;
    let mut score = surname_weight * surname_sim + given_weight * given_sim;
    if surname_sim == 0.0 {
        // A matching given name under another surname is another person far more often than not.
        score = score.min(0.6);
    }
    let explanation = vec![
        Contribution {
            query: q.surname.clone(),
            candidate: c.surname.clone(),
            how: surname_how,
            similarity: surname_sim,
            contribution: surname_weight * surname_sim,
        },
        Contribution {
            query: q.given.join("-"),
            candidate: c.given.join("-"),
            how: given_how,
            similarity: given_sim,
            contribution: given_weight * given_sim,
        },
    ];
    NameScore {
        score: score.clamp(0.0, 1.0),
        method: "korean".into(),
        via: (Via::Written, Via::Written),
        explanation,
    }
}

fn token_similarity(a: &Token, b: &Token) -> (How, f64) {
    if a.text == b.text {
        return (How::Exact, 1.0);
    }
    if a.key == b.key || a.korean == b.korean {
        return (How::Romanisation, 0.95);
    }
    if a.surname_class.is_some() && a.surname_class == b.surname_class {
        return (How::EquivalenceClass, 0.9);
    }
    let len = a.key.len().max(b.key.len());
    if len >= 4 {
        let bound = if len >= 8 { 2 } else { 1 };
        let d = edit_distance(&a.key, &b.key, bound);
        if d <= bound {
            return (
                How::EditDistance,
                1.0 - 0.12 * d as f64 - if d == 2 { 0.05 } else { 0.0 },
            );
        }
    }
    (How::Mismatch, 0.0)
}

/// Merges adjacent tokens of `tokens` whose concatenation equals a token of `other`.
fn merge_against(tokens: &[Token], other: &[Token]) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let mut merged = false;
        for width in [3usize, 2] {
            if i + width > tokens.len() {
                continue;
            }
            let joined: String = tokens[i..i + width]
                .iter()
                .map(|t| t.text.as_str())
                .collect();
            let joined_korean = crate::normalize::korean_key(&joined);
            if other
                .iter()
                .any(|o| o.text == joined || o.korean == joined_korean)
            {
                out.push(Token::new(&joined));
                i += width;
                merged = true;
                break;
            }
        }
        if !merged {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// Generic token alignment, symmetric, rarity-weighted.
pub fn compare_generic(query: &[Token], candidate: &[Token], rarity: &Rarity) -> NameScore {
    // Merging only helps when the token counts differ (`Jong Un` vs `Jongun`).
    let merged: (Vec<Token>, Vec<Token>);
    let (q, c): (&[Token], &[Token]) = if query.len() == candidate.len() {
        (query, candidate)
    } else {
        let q = merge_against(query, candidate);
        let c = merge_against(candidate, &q);
        merged = (q, c);
        (&merged.0, &merged.1)
    };
    let q_weights: Vec<f64> = q.iter().map(|t| rarity.weight(t)).collect();
    let c_weights: Vec<f64> = c.iter().map(|t| rarity.weight(t)).collect();
    let total: f64 = q_weights.iter().sum::<f64>() + c_weights.iter().sum::<f64>();
    let mut pairs: Vec<(f64, usize, usize, How)> = Vec::new();
    for (i, qt) in q.iter().enumerate() {
        for (j, ct) in c.iter().enumerate() {
            let (how, sim) = token_similarity(qt, ct);
            if sim > 0.0 {
                pairs.push((sim, i, j, how));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut q_used = vec![false; q.len()];
    let mut c_used = vec![false; c.len()];
    let mut explanation = Vec::new();
    let mut matched = 0.0;
    for (sim, i, j, how) in pairs {
        if q_used[i] || c_used[j] {
            continue;
        }
        q_used[i] = true;
        c_used[j] = true;
        let share = if total > 0.0 {
            sim * (q_weights[i] + c_weights[j]) / total
        } else {
            0.0
        };
        matched += share;
        explanation.push(Contribution {
            query: q[i].text.clone(),
            candidate: c[j].text.clone(),
            how,
            similarity: sim,
            contribution: share,
        });
    }
    for (i, used) in q_used.iter().enumerate() {
        if !used {
            explanation.push(Contribution {
                query: q[i].text.clone(),
                candidate: String::new(),
                how: How::Mismatch,
                similarity: 0.0,
                contribution: 0.0,
            });
        }
    }
    for (j, used) in c_used.iter().enumerate() {
        if !used {
            explanation.push(Contribution {
                query: String::new(),
                candidate: c[j].text.clone(),
                how: How::Mismatch,
                similarity: 0.0,
                contribution: 0.0,
            });
        }
    }
    NameScore {
        score: matched.clamp(0.0, 1.0),
        method: "generic".into(),
        via: (Via::Written, Via::Written),
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::model::Schema;

    #[track_caller]
    fn check(a: &str, b: &str, schema: Option<Schema>, expect_match: bool) {
        let s = compare(
            &analyze(a, schema, None),
            &analyze(b, schema, None),
            &Rarity::default(),
        );
        assert_eq!(
            s.score >= THRESHOLD_DEFAULT,
            expect_match,
            "{a} ↔ {b}: {s:#?}"
        );
    }

    #[test]
    fn named_examples() {
        let person = Some(Schema::Person);
        check("김정은", "Kim Jong Un", person, true);
        check("Ri Chol Ho", "Lee Cheol-ho", person, true);
        check("Kim Jong Un", "Kim Jong Man", person, false);
        check("Ryu Jin", "Yu Jin", person, true);
        check("KIM CHO'NG-UN", "Kim Jong Un", person, true);
        check("Kim Jongun", "Kim Jong-un", person, true);
        check("Jong Un Kim", "Kim Jong Un", person, true);
        check("Pak Jong Un", "Kim Jong Un", person, false);
        check("Choe Ryong Hae", "Choi Ryong-hae", person, true);
        check("Ono Taro", "Ohno Taro", person, true);
        check("ユン・ホジン", "Yun Ho-jin", person, true);
        check("ファン・ソクハ", "Hwang Sok-hwa", person, true);
        check("ファン・ソクハ", "Hwang Sok Ha", person, true);
        check("リ・ホンソプ", "Ri Hong-sop", person, true);
        check("チャン・ミョンジン", "JANG MYONG-JIN", person, true);
        check(
            "Korea Ryonbong General Corporation",
            "KOREA RYONBONG GENERAL CORP",
            Some(Schema::Organization),
            true,
        );
        check(
            "Korea Ryonbong General Corporation",
            "Korea Mining Development Trading Corporation",
            Some(Schema::Organization),
            false,
        );
        check("Osama bin Laden", "Usama bin Laden", person, true);
    }
}
