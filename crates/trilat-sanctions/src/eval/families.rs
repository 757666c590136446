//! The families set of issue 14: labelled pairs built from the lists, each tagged with the
//! *family* of variation it tests (a script, a legal form, a typo, initials …) and with where
//! it came from, so that precision and recall can be read per family.
//!
//! Every name comes from a list; nothing is invented but the rule applied to it:
//! - **positives across scripts** pair a name in Arabic, Cyrillic, kana or Han script with a
//!   Latin name of the same entry (UN original-script names, MOF Japanese names), and with the
//!   Latin names of the same entity on *another* list, linked by an identical folded English
//!   name of at least three words (birth years agreeing when both give one); an alias that
//!   shares no word with the linking name (a cover name, a translation) is its own family,
//!   `alias_other_wording`;
//! - **derived positives** apply one documented rule to a listed Latin name: a legal form
//!   written another way or moved, one typo, one transposition, two words run together,
//!   given names as initials, a title added, middle names dropped, a number written in words;
//!   a name so derived designates the same entity by construction;
//! - **hard negatives** pair two *different* entries of one list whose names differ in one
//!   word only (the first, a middle or the last; for organisations a number, a country or
//!   another qualifier), a name in another script with the Latin name of the entry whose name
//!   shares most words with its own, and derived ones: a number or a country changed, the last
//!   word of a long name replaced by another entry's last word.
//!
//! Sampling is seeded ([`Lcg`]): the same lists and seed give the same set, byte for byte
//! (the committed `data/eval_set.csv` is checked against a rebuild by the tests).

use super::{LabelledPair, Lcg};
use crate::model::{Entity, ListSource, ListVersion, NameQuality, Schema, Script};
use crate::normalize::{
    fold_latin, is_country, is_legal_form, is_number, number_word, tables, COUNTRY_WORDS,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Bound on pairs of one family (sampled, seeded, when more are possible).
pub const FAMILY_PAIRS_MAX: usize = 300;

/// One pair of the families set and how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPair {
    /// The pair; its `category` is the family.
    pub pair: LabelledPair,
    /// Where the names come from and the rule applied (`un:QDi.001 | typo: deletion`).
    pub provenance: String,
}

/// Candidate pairs per family before sampling.
#[derive(Default)]
struct Families(BTreeMap<&'static str, Vec<SetPair>>);

impl Families {
    fn add(
        &mut self,
        family: &'static str,
        name1: &str,
        name2: &str,
        entity: &Entity,
        label: bool,
        provenance: String,
    ) {
        if name1.trim().is_empty() || name2.trim().is_empty() || name1 == name2 {
            return;
        }
        let list = self.0.entry(family).or_default();
        // A bound far above the sample: the lists give at most a few thousand per family.
        if list.len() < 50 * FAMILY_PAIRS_MAX {
            list.push(SetPair {
                pair: LabelledPair {
                    name1: name1.to_string(),
                    name2: name2.to_string(),
                    schema: entity.schema,
                    label,
                    category: family.to_string(),
                },
                provenance,
            });
        }
    }
}

/// Builds the families set from `lists` (UN, OFAC, MOF, METI; other sources are ignored).
pub fn build_family_set(lists: &[ListVersion], seed: u64) -> Vec<SetPair> {
    let mut families = Families::default();
    let entities: Vec<&Entity> = lists
        .iter()
        .filter(|l| l.source != ListSource::National)
        .flat_map(|l| l.entities.iter())
        .collect();
    script_positives(&entities, &mut families);
    cross_list_positives(&entities, &mut families);
    script_negatives(&entities, &mut families);
    for entity in &entities {
        derived_positives(entity, &mut families);
    }
    for list in lists {
        one_word_apart_negatives(&list.entities, &mut families);
    }
    derived_negatives(&entities, &mut families);
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for (_, mut pairs) in families.0 {
        // Seeded Fisher–Yates, then the first FAMILY_PAIRS_MAX.
        for i in (1..pairs.len()).rev() {
            pairs.swap(i, rng.next(i + 1));
        }
        pairs.truncate(FAMILY_PAIRS_MAX);
        out.extend(pairs);
    }
    out
}

/// The family of a name in another script.
fn script_family(text: &str, script: Script) -> Option<&'static str> {
    Some(match script {
        Script::Arabic => "script_arabic",
        Script::Cyrillic => "script_cyrillic",
        Script::Kana => "script_kana",
        Script::Han => "script_han",
        Script::Hangul => "script_hangul",
        Script::Other if text.chars().any(|c| ('\u{370}'..='\u{3FF}').contains(&c)) => {
            "script_greek"
        }
        Script::Other if text.chars().any(|c| ('\u{FF01}'..='\u{FF5E}').contains(&c)) => {
            "script_fullwidth"
        }
        Script::Other => "script_other",
        Script::Latin => return None,
    })
}

fn first_latin(entity: &Entity) -> Option<&str> {
    entity
        .names
        .iter()
        .find(|n| n.script == Script::Latin)
        .map(|n| n.text.as_str())
}

/// Latin names of an entity that the list does not call weak.
fn strong_latin(entity: &Entity) -> impl Iterator<Item = &str> {
    entity
        .names
        .iter()
        .filter(|n| n.script == Script::Latin && n.quality != NameQuality::Weak)
        .map(|n| n.text.as_str())
}

/// A listed name in another script without the wrapping the MOF workbook puts around some
/// (`（original script: …）`, a bracket left over from an alias cell); `None` for a fragment
/// (an alias label, two characters or fewer).
fn cleaned(text: &str) -> Option<&str> {
    let brackets: &[char] = &['(', ')', '（', '）', ' ', '　'];
    let text = text.trim_matches(brackets);
    let text = match text.find("original script") {
        Some(at) => text[at + "original script".len()..].trim_start_matches([':', '：', ' ']),
        None => text,
    };
    let text = text.trim_matches(brackets);
    let fragment = text.contains("別称") || text.chars().count() <= 2;
    let unbalanced = text.contains(['(', ')', '（', '）']);
    (!fragment && !unbalanced).then_some(text)
}

/// The names of an entity in another script than Latin, cleaned, with their family.
fn other_script_names(entity: &Entity) -> impl Iterator<Item = (&str, &'static str)> {
    entity.names.iter().filter_map(|name| {
        let family = script_family(&name.text, name.script)?;
        Some((cleaned(&name.text)?, family))
    })
}

fn script_positives(entities: &[&Entity], families: &mut Families) {
    for entity in entities {
        let Some(latin) = first_latin(entity) else {
            continue;
        };
        for (name, family) in other_script_names(entity) {
            let provenance = format!("{}: {} name and Latin name of one entry", entity.id, family);
            families.add(family, name, latin, entity, true, provenance);
        }
    }
}

/// Folded words of a name.
fn words(text: &str) -> Vec<String> {
    fold_latin(text)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn birth_years_agree(a: &Entity, b: &Entity) -> bool {
    let years =
        |e: &Entity| -> HashSet<u16> { e.birth_dates.iter().map(|d| d.date.year).collect() };
    let (ya, yb) = (years(a), years(b));
    ya.is_empty() || yb.is_empty() || !ya.is_disjoint(&yb)
}

/// Entities of different lists linked by one identical folded Latin name of three words or
/// more: each name in another script of one paired with the *other* Latin names of the other.
fn cross_list_positives(entities: &[&Entity], families: &mut Families) {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, entity) in entities.iter().enumerate() {
        for latin in strong_latin(entity) {
            let folded = fold_latin(latin);
            if folded.split_whitespace().count() >= 3 {
                by_name.entry(folded).or_default().push(i);
            }
        }
    }
    let mut keys: Vec<&String> = by_name.keys().collect();
    keys.sort();
    let mut linked: HashSet<(usize, usize)> = HashSet::new();
    for key in keys {
        let ids = &by_name[key];
        for &a in ids {
            for &b in ids {
                let (ea, eb) = (entities[a], entities[b]);
                if ea.source == eb.source || ea.schema != eb.schema || !birth_years_agree(ea, eb) {
                    continue;
                }
                if !linked.insert((a, b)) {
                    continue;
                }
                let key_words = word_set(key);
                for (name, script) in other_script_names(ea) {
                    for latin in strong_latin(eb).filter(|l| fold_latin(l) != *key) {
                        // An alias with no word of the linking name (a cover name, a
                        // translation) is a family of its own: nothing in it to compare.
                        let family = if word_set(latin).is_disjoint(&key_words) {
                            "alias_other_wording"
                        } else {
                            script
                        };
                        let provenance = format!(
                            "{} {script} name, {} Latin alias; linked by the name {key:?}",
                            ea.id, eb.id
                        );
                        families.add(family, name, latin, ea, true, provenance);
                    }
                }
            }
        }
    }
}

/// Folded words without legal forms, for the overlap of two names.
fn word_set(text: &str) -> HashSet<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_legal_form(w))
        .collect()
}

/// A name in another script against the Latin name of the other entry of its list whose Latin
/// name shares the most words with its own (Jaccard; at least one shared word).
fn script_negatives(entities: &[&Entity], families: &mut Families) {
    let latin: Vec<Option<HashSet<String>>> = entities
        .iter()
        .map(|e| first_latin(e).map(word_set))
        .collect();
    let mut by_word: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, set) in latin.iter().enumerate() {
        for word in set.iter().flatten() {
            by_word.entry(word.as_str()).or_default().push(i);
        }
    }
    for (i, entity) in entities.iter().enumerate() {
        let Some(own) = &latin[i] else { continue };
        let others: Vec<(&str, &'static str)> = other_script_names(entity).collect();
        if others.is_empty() {
            continue;
        }
        let mut best: Option<(f64, usize)> = None;
        for word in own {
            for &j in by_word[word.as_str()].iter().take(2_000) {
                let other = entities[j];
                if j == i || other.source != entity.source || other.schema != entity.schema {
                    continue;
                }
                let Some(set) = &latin[j] else { continue };
                if set == own {
                    continue;
                }
                let inter = own.intersection(set).count() as f64;
                let jaccard = inter / own.union(set).count().max(1) as f64;
                if best.is_none_or(|(b, bj)| jaccard > b || (jaccard == b && j < bj)) {
                    best = Some((jaccard, j));
                }
            }
        }
        let Some((_, j)) = best else { continue };
        let Some(other_latin) = first_latin(entities[j]) else {
            continue;
        };
        for (name, family) in others {
            let provenance = format!(
                "{} {family} name against {}, the entry whose Latin name shares most words",
                entity.id, entities[j].id
            );
            families.add(family, name, other_latin, entity, false, provenance);
        }
    }
}

/// True for a Latin name a rule can be applied to: 2..=8 words, ASCII, no brackets or other
/// marks that hold a second spelling (`Prokopjev (Prokopyev)`).
fn usable(text: &str) -> bool {
    let n = text.split_whitespace().count();
    (2..=8).contains(&n) && text.is_ascii() && !text.contains(['(', ')', ':', '/', ';', '"'])
}

fn derived_positives(entity: &Entity, families: &mut Families) {
    let Some(primary) = entity.names.first().filter(|n| n.script == Script::Latin) else {
        return;
    };
    let text = primary.text.as_str();
    if !usable(text) {
        return;
    }
    let id = &entity.id;
    let person = entity.schema == Schema::Person;
    let seed = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Lcg(seed);
    if let Some((variant, rule)) = typo(text, &mut rng, false) {
        families.add(
            "typo",
            text,
            &variant,
            entity,
            true,
            format!("{id}: {rule}"),
        );
    }
    if let Some((variant, rule)) = typo(text, &mut rng, true) {
        families.add(
            "transposition",
            text,
            &variant,
            entity,
            true,
            format!("{id}: {rule}"),
        );
    }
    if let Some(variant) = run_together(text, &mut rng) {
        families.add(
            "split_merge",
            text,
            &variant,
            entity,
            true,
            format!("{id}: two adjacent words run together"),
        );
    }
    if let Some(variant) = numeral_in_words(text) {
        families.add(
            "numeral",
            text,
            &variant,
            entity,
            true,
            format!("{id}: number written in words"),
        );
    }
    if person {
        person_variants(entity, text, &mut rng, families);
    } else if let Some((variant, rule)) = legal_form_variant(text) {
        families.add(
            "legal_form",
            text,
            &variant,
            entity,
            true,
            format!("{id}: {rule}"),
        );
    }
}

fn person_variants(entity: &Entity, text: &str, rng: &mut Lcg, families: &mut Families) {
    let id = &entity.id;
    let (surname, given) = surname_and_given(text);
    if given.is_empty() {
        return;
    }
    let full = format!("{} {}", given.join(" "), surname);
    if given.len() >= 2 && given.iter().all(|g| g.len() >= 3) {
        let initials: Vec<String> = given
            .iter()
            .map(|g| format!("{}.", g.chars().next().unwrap_or('x')))
            .collect();
        let variant = format!("{} {}", initials.join(" "), surname);
        families.add(
            "initials",
            &full,
            &variant,
            entity,
            true,
            format!("{id}: given names as initials"),
        );
    }
    let title = TITLES[rng.next(TITLES.len())];
    families.add(
        "title",
        text,
        &format!("{title} {full}"),
        entity,
        true,
        format!("{id}: title {title:?} added"),
    );
    if given.len() >= 2 {
        let variant = format!("{} {}", given[0], surname);
        families.add(
            "middle_name",
            &full,
            &variant,
            entity,
            true,
            format!("{id}: middle names dropped"),
        );
    }
}

/// Titles added to a person's name (military, religious, academic, courtesy).
const TITLES: &[&str] = &[
    "General",
    "Colonel",
    "Major General",
    "Admiral",
    "Sheikh",
    "Mullah",
    "Haji",
    "Dr.",
    "Mr.",
    "Ms.",
    "Prof.",
    "Brigadier",
];

/// A person's name as surname and given names: `SURNAME, Given Names` (OFAC) or, without a
/// comma, the last word as surname.
fn surname_and_given(text: &str) -> (String, Vec<String>) {
    if let Some((surname, given)) = text.split_once(',') {
        let given: Vec<String> = given.split_whitespace().map(str::to_string).collect();
        return (surname.trim().to_string(), given);
    }
    let mut words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    let surname = words.pop().unwrap_or_default();
    (surname, words)
}

/// One typo in the longest word of at least five letters: a letter dropped, doubled or
/// replaced by its keyboard neighbour, or (`transposition`) two adjacent inner letters swapped.
fn typo(text: &str, rng: &mut Lcg, transposition: bool) -> Option<(String, &'static str)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (at, word) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.len() >= 5 && w.bytes().all(|b| b.is_ascii_alphabetic()))
        .filter(|(_, w)| !is_legal_form(&w.to_ascii_lowercase()))
        .max_by_key(|(i, w)| (w.len(), usize::MAX - i))?;
    let mut bytes = word.as_bytes().to_vec();
    // An inner position: first and last letters kept.
    let i = 1 + rng.next(bytes.len() - 2);
    let rule = if transposition {
        if bytes[i] == bytes[i + 1] {
            return None;
        }
        bytes.swap(i, i + 1);
        "two adjacent letters swapped"
    } else {
        match rng.next(3) {
            0 => {
                bytes.remove(i);
                "a letter dropped"
            }
            1 => {
                bytes.insert(i, bytes[i]);
                "a letter doubled"
            }
            _ => {
                let c = bytes[i];
                bytes[i] = keyboard_neighbour(c);
                "a letter replaced by its keyboard neighbour"
            }
        }
    };
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    out[at] = String::from_utf8(bytes).ok()?;
    Some((out.join(" "), rule))
}

fn keyboard_neighbour(c: u8) -> u8 {
    const ROWS: [&[u8]; 3] = [b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];
    let lower = c.to_ascii_lowercase();
    for row in ROWS {
        if let Some(p) = row.iter().position(|&r| r == lower) {
            let n = if p + 1 < row.len() {
                row[p + 1]
            } else {
                row[p - 1]
            };
            return if c.is_ascii_uppercase() {
                n.to_ascii_uppercase()
            } else {
                n
            };
        }
    }
    c
}

/// Two adjacent words (neither a legal form, together at most 12 letters) written as one:
/// `Abu Bakr` → `Abubakr`.
fn run_together(text: &str, rng: &mut Lcg) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let candidates: Vec<usize> = (0..words.len().saturating_sub(1))
        .filter(|&i| {
            let (a, b) = (words[i], words[i + 1]);
            a.bytes().all(|c| c.is_ascii_alphabetic())
                && b.bytes().all(|c| c.is_ascii_alphabetic())
                && a.len() + b.len() <= 12
                && !is_legal_form(&a.to_ascii_lowercase())
                && !is_legal_form(&b.to_ascii_lowercase())
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let i = candidates[rng.next(candidates.len())];
    let mut out: Vec<String> = words[..i].iter().map(|w| w.to_string()).collect();
    let (first, second) = (words[i], words[i + 1]);
    let upper = |w: &str| w.bytes().all(|b| b.is_ascii_uppercase());
    let second = if upper(first) && upper(second) {
        second.to_string()
    } else {
        second.to_lowercase()
    };
    out.push(format!("{first}{second}"));
    out.extend(words[i + 2..].iter().map(|w| w.to_string()));
    Some(out.join(" "))
}

/// The name with its first number (1..=99, or an ordinal `2nd`) written in words.
fn numeral_in_words(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if let Some(spelled) = number_word(&bare.to_ascii_lowercase()) {
            let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            out[i] = title_case(&spelled);
            return Some(out.join(" "));
        }
    }
    None
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Legal forms written another way: (as listed, in capitals, as written instead), the longer
/// spellings first.
const LEGAL_FORM_REWRITES: &[(&[&str], &str)] = &[
    (
        &["OBSHCHESTVO", "S", "OGRANICHENNOY", "OTVETSTVENNOSTYU"],
        "LLC",
    ),
    (&["PUBLICHNOE", "AKTSIONERNOE", "OBSHCHESTVO"], "PJSC"),
    (&["AKTSIONERNOE", "OBSHCHESTVO"], "JSC"),
    (&["LIMITED", "LIABILITY", "COMPANY"], "OOO"),
    (&["PUBLIC", "JOINT", "STOCK", "COMPANY"], "PAO"),
    (&["OPEN", "JOINT", "STOCK", "COMPANY"], "OAO"),
    (&["CLOSED", "JOINT", "STOCK", "COMPANY"], "ZAO"),
    (&["JOINT", "STOCK", "COMPANY"], "JSC"),
    (&["LIMITED"], "LTD."),
    (&["LTD"], "Limited"),
    (&["LTD."], "Limited"),
    (&["COMPANY"], "Co."),
    (&["CO."], "Company"),
    (&["CO"], "Company"),
    (&["CORPORATION"], "Corp."),
    (&["CORP."], "Corporation"),
    (&["CORP"], "Corporation"),
    (&["LLC"], "Limited Liability Company"),
    (&["JSC"], "Joint Stock Company"),
    (&["OJSC"], "Open Joint Stock Company"),
    (&["CJSC"], "ZAO"),
    (&["PJSC"], "Public Joint Stock Company"),
    (&["INC."], "Incorporated"),
    (&["INC"], "Incorporated"),
    (&["S.A."], "SA"),
    (&["GMBH"], "Gesellschaft mit beschränkter Haftung"),
    (&["PLC"], "Public Limited Company"),
    (&["AG"], "Aktiengesellschaft"),
];

/// The name with its last legal form written another way (`LTD` → `Limited`, `Limited
/// Liability Company` → `OOO`), or, for an abbreviation at the end that Russian writes in
/// front, moved there in its Russian abbreviation (`… LLC` → `OOO …`).
fn legal_form_variant(text: &str) -> Option<(String, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let upper: Vec<String> = words
        .iter()
        .map(|w| w.trim_end_matches(',').to_uppercase())
        .collect();
    // Left to right, the longest spelling at each word; the last one found is rewritten.
    let mut found = None;
    let mut i = 0;
    while i < words.len() {
        let at_i = LEGAL_FORM_REWRITES.iter().find(|(listed, _)| {
            let end = i + listed.len();
            end <= words.len() && upper[i..end].iter().zip(*listed).all(|(u, l)| u == l)
        });
        match at_i {
            Some((listed, instead)) => {
                found = Some((i, *listed, *instead));
                i += listed.len();
            }
            None => i += 1,
        }
    }
    let (at, listed, instead) = found?;
    let russian = match listed {
        ["LLC"] => Some("OOO"),
        ["JSC"] | ["OJSC"] => Some("OAO"),
        ["CJSC"] => Some("ZAO"),
        ["PJSC"] => Some("PAO"),
        _ => None,
    };
    let listed_text = listed.join(" ");
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    if let (Some(abbreviation), true) = (russian, at + 1 == words.len()) {
        out.pop();
        out.insert(0, abbreviation.to_string());
        let rule = format!("legal form {listed_text} at the end written {abbreviation} in front");
        return Some((out.join(" "), rule));
    }
    out.splice(at..at + listed.len(), [instead.to_string()]);
    Some((
        out.join(" "),
        format!("legal form {listed_text} written {instead}"),
    ))
}

/// A name's words with one left out: the schema, the word left out and the others.
type RestKey = (Schema, usize, Vec<String>);

/// Pairs of different entries of one list whose primary Latin names have the same number of
/// words and differ in exactly one (folded), tagged by which word and what kind of word.
fn one_word_apart_negatives(entities: &[Entity], families: &mut Families) {
    let mut by_rest: HashMap<RestKey, Vec<usize>> = HashMap::new();
    let folded: Vec<Option<Vec<String>>> = entities
        .iter()
        .map(|e| {
            let name = e.names.first().filter(|n| n.script == Script::Latin)?;
            let words = words(&name.text);
            (2..=8).contains(&words.len()).then_some(words)
        })
        .collect();
    for (i, words) in folded.iter().enumerate() {
        let Some(words) = words else { continue };
        for gap in 0..words.len() {
            let mut rest = words.clone();
            rest[gap] = String::new();
            by_rest
                .entry((entities[i].schema, gap, rest))
                .or_default()
                .push(i);
        }
    }
    let mut groups: Vec<(&RestKey, &Vec<usize>)> = by_rest.iter().collect();
    groups.sort();
    for ((_, gap, _), ids) in groups {
        for (k, &a) in ids.iter().enumerate() {
            // Each entry against the next few of its group: enough pairs, bounded work.
            for &b in ids.iter().skip(k + 1).take(3) {
                let (wa, wb) = (folded[a].as_ref(), folded[b].as_ref());
                let (Some(wa), Some(wb)) = (wa, wb) else {
                    continue;
                };
                if wa[*gap] == wb[*gap] || shares_a_name(&entities[a], &entities[b]) {
                    continue;
                }
                let family = one_word_family(&entities[a], wa, *gap, &wa[*gap], &wb[*gap]);
                let provenance = format!(
                    "{} and {}: listed apart, names differ in word {} ({:?} / {:?})",
                    entities[a].id,
                    entities[b].id,
                    gap + 1,
                    wa[*gap],
                    wb[*gap]
                );
                let (na, nb) = (&entities[a].names[0].text, &entities[b].names[0].text);
                families.add(family, na, nb, &entities[a], false, provenance);
            }
        }
    }
}

/// True when two entries share a folded name (one entity listed twice): not a negative.
fn shares_a_name(a: &Entity, b: &Entity) -> bool {
    let names: HashSet<String> = a.names.iter().map(|n| fold_latin(&n.text)).collect();
    b.names.iter().any(|n| names.contains(&fold_latin(&n.text)))
}

fn one_word_family(
    entity: &Entity,
    words: &[String],
    gap: usize,
    a: &str,
    b: &str,
) -> &'static str {
    if entity.schema == Schema::Person {
        let family_name = match entity.names[0].text.split_once(',') {
            // `SURNAME, Given` (OFAC).
            Some((surname, _)) => gap < surname.split_whitespace().count(),
            // Korean names are written surname first on the lists (`JO YONG CHOL`).
            None if tables().surname(&words[0]).is_some() && words.len() <= 4 => gap == 0,
            None => gap + 1 == words.len(),
        };
        return match (family_name, words.len() >= 4) {
            (true, true) => "neg_person_family_name_long",
            (true, false) => "neg_person_family_name",
            (false, _) => "neg_person_given_name",
        };
    }
    let numeric = |w: &str| w.bytes().any(|c| c.is_ascii_digit()) || is_number(w);
    if numeric(a) && numeric(b) {
        "neg_org_numeral"
    } else if is_country(a) || is_country(b) {
        "neg_org_country"
    } else {
        "neg_org_qualifier"
    }
}

/// Hard negatives derived from listed names where the lists have too few: a number changed
/// (`Ocean Trader 3` / `Ocean Trader 5`), a country word changed, and the last word of a name
/// of four words or more replaced by the last word of another listed person's name.
fn derived_negatives(entities: &[&Entity], families: &mut Families) {
    let last_words: Vec<(&str, &str)> = entities
        .iter()
        .filter(|e| e.schema == Schema::Person)
        .filter_map(|e| {
            let name = e.names.first().filter(|n| n.script == Script::Latin)?;
            let last = name.text.split_whitespace().last()?;
            (name.text.split_whitespace().count() >= 4
                && !name.text.contains(',')
                && usable(&name.text))
            .then_some((e.id.as_str(), last))
        })
        .collect();
    for (k, entity) in entities.iter().enumerate() {
        let Some(name) = entity.names.first().filter(|n| n.script == Script::Latin) else {
            continue;
        };
        let words: Vec<&str> = name.text.split_whitespace().collect();
        if !usable(&name.text) {
            continue;
        }
        let id = &entity.id;
        if entity.schema != Schema::Person {
            if let Some(variant) = replace_word(&words, other_number) {
                families.add(
                    "neg_org_numeral",
                    &name.text,
                    &variant,
                    entity,
                    false,
                    format!("{id}: number changed"),
                );
            }
            if let Some(variant) = replace_word(&words, other_country) {
                families.add(
                    "neg_org_country",
                    &name.text,
                    &variant,
                    entity,
                    false,
                    format!("{id}: country changed"),
                );
            }
        } else if words.len() >= 4 && !name.text.contains(',') && !last_words.is_empty() {
            let (other_id, other_last) = last_words[(k * 7919) % last_words.len()];
            let last = words[words.len() - 1];
            if !other_last.eq_ignore_ascii_case(last) && other_id != id {
                let mut variant: Vec<&str> = words.clone();
                *variant.last_mut().unwrap_or(&mut "") = other_last;
                let provenance = format!("{id}: last name replaced by {other_id}'s {other_last:?}");
                families.add(
                    "neg_person_family_name_long",
                    &name.text,
                    &variant.join(" "),
                    entity,
                    false,
                    provenance,
                );
            }
        }
    }
}

fn replace_word(words: &[&str], other: impl Fn(&str) -> Option<String>) -> Option<String> {
    for (i, word) in words.iter().enumerate() {
        let bare = word
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_ascii_lowercase();
        if let Some(replacement) = other(&bare) {
            let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            out[i] = word.replace(
                word.trim_matches(|c: char| !c.is_ascii_alphanumeric()),
                &replacement,
            );
            return Some(out.join(" "));
        }
    }
    None
}

/// Another number for a word that is a number of 1..=99 (in digits): n + 2 (wrapping).
fn other_number(word: &str) -> Option<String> {
    let n: u32 = word.parse().ok()?;
    (1..=99)
        .contains(&n)
        .then(|| ((n + 1) % 99 + 1).to_string())
}

/// Another country for a country word (the next one in [`COUNTRY_WORDS`]).
fn other_country(word: &str) -> Option<String> {
    let at = COUNTRY_WORDS.iter().position(|c| *c == word)?;
    let other = COUNTRY_WORDS[(at + 1) % COUNTRY_WORDS.len()];
    Some(title_case(other))
}
