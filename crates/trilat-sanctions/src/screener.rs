//! Screening: an in-memory index over loaded lists, built once, queried many times.
//!
//! Candidate retrieval never scans every entity: a query's keys (token keys, Korean phonetic
//! keys, Korean given-name keys, token trigrams, identifiers) select at most
//! [`CANDIDATES_MAX`] names from posting lists; only those are scored in full.

use crate::analysis::{analyze, NameForms};
use crate::matcher::{compare, Contribution, How, NameScore, Rarity, THRESHOLD_DEFAULT};
use crate::model::{
    Entity, IdScheme, Identifier, ListSource, ListVersion, NameQuality, PartialDate, Schema,
};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Names scored in full per query.
pub const CANDIDATES_MAX: usize = 48;
/// Posting lists longer than this are too common to select candidates (trigrams like `ion`).
pub const POSTINGS_USEFUL_MAX: usize = 1_500;
/// Entries read from one exact-key posting list (common tokens like `kim`, `al`).
pub const POSTINGS_READ_MAX: usize = 600;
/// Bound on entities in one screener.
pub const ENTITIES_MAX: usize = 2_000_000;
/// Bound on hits returned by one query.
pub const HITS_MAX: usize = 1_000;

/// A screening query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// The name to screen.
    pub name: String,
    /// What it is, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    /// Date of birth (persons) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<PartialDate>,
    /// Nationality / flag as ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Identifiers (IMO, passport …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// Minimum score of a hit.
    pub threshold: f64,
    /// Maximum number of hits.
    pub limit: usize,
}

impl Query {
    /// A name-only query with the default threshold and a limit of 10.
    pub fn name(name: &str) -> Query {
        Query {
            name: name.to_string(),
            schema: None,
            birth_date: None,
            country: None,
            identifiers: Vec::new(),
            threshold: THRESHOLD_DEFAULT,
            limit: 10,
        }
    }
}

/// A vessel to screen (what the maritime engine knows from AIS and port data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VesselQuery {
    /// IMO ship number.
    pub imo: Option<String>,
    /// Vessel name.
    pub name: Option<String>,
    /// Radio call sign.
    pub call_sign: Option<String>,
    /// MMSI.
    pub mmsi: Option<String>,
    /// Flag state, ISO alpha-2.
    pub flag: Option<String>,
}

/// One screening hit: the entity, the score and the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// 0..=1 after attribute adjustments.
    pub score: f64,
    /// Score of the names alone.
    pub name_score: f64,
    /// Entity id (`un:KPi.001`).
    pub entity_id: String,
    /// List the entity came from.
    pub source: ListSource,
    /// Version of that list.
    pub list_version: String,
    /// Record id in the source.
    pub record_id: String,
    /// Where the record is in the source file.
    pub position: String,
    /// What it designates.
    pub schema: Schema,
    /// Primary name of the entity.
    pub caption: String,
    /// The entity's name that matched best.
    pub matched_name: String,
    /// `korean` or `generic`.
    pub method: String,
    /// Parts, how they matched, and their contributions; then attribute adjustments.
    pub explanation: Vec<Contribution>,
}

#[derive(Debug)]
struct IndexedName {
    entity_idx: u32,
    name_idx: u16,
    forms: NameForms,
}

/// The screening engine: lists, analysed names and the candidate index. `Send + Sync`;
/// build once, share behind an `Arc`.
#[derive(Debug)]
pub struct Screener {
    entities: Vec<Entity>,
    versions: HashMap<ListSource, String>,
    names: Vec<IndexedName>,
    postings: HashMap<String, Vec<u32>>,
    rarity: Rarity,
    readings: Option<Arc<HanReadings>>,
}

fn index_keys(forms: &NameForms, mut push: impl FnMut(String, f32)) {
    for form in &forms.forms {
        for token in &form.tokens {
            if token.legal_form {
                continue;
            }
            push(format!("k:{}", token.key), 3.0);
            push(format!("r:{}", token.korean), 2.0);
            let padded: Vec<char> = format!(" {} ", token.key).chars().collect();
            if padded.len() >= 5 {
                for window in padded.windows(3) {
                    push(format!("t:{}", window.iter().collect::<String>()), 0.5);
                }
            }
        }
        let joined: String = form
            .tokens
            .iter()
            .filter(|t| !t.legal_form)
            .map(|t| t.korean.as_str())
            .collect();
        push(format!("j:{joined}"), 4.0);
        for korean in &form.korean {
            push(format!("g:{}", korean.given_classes.concat()), 4.0);
        }
    }
}

impl Screener {
    /// Builds the index over `lists`. `readings` enables Han-character names.
    pub fn new(
        lists: Vec<ListVersion>,
        readings: Option<Arc<HanReadings>>,
    ) -> crate::error::Result<Screener> {
        let mut entities = Vec::new();
        let mut versions = HashMap::new();
        for list in lists {
            versions.insert(list.source, list.version.clone());
            entities.extend(list.entities);
        }
        if entities.len() > ENTITIES_MAX {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::LimitExceeded,
                "lists",
                format!("more than {ENTITIES_MAX} entities"),
            ));
        }
        let mut names = Vec::new();
        for (entity_idx, entity) in entities.iter().enumerate() {
            for (name_idx, name) in entity.names.iter().enumerate().take(u16::MAX as usize) {
                let forms = analyze(&name.text, Some(entity.schema), readings.as_deref());
                names.push(IndexedName {
                    entity_idx: entity_idx as u32,
                    name_idx: name_idx as u16,
                    forms,
                });
            }
        }
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        for (name_pos, indexed) in names.iter().enumerate() {
            index_keys(&indexed.forms, |key, _| {
                let list = postings.entry(key).or_default();
                if list.last() != Some(&(name_pos as u32)) {
                    list.push(name_pos as u32);
                }
            });
        }
        for (entity_idx, entity) in entities.iter().enumerate() {
            let first_name = names.partition_point(|n| (n.entity_idx as usize) < entity_idx) as u32;
            for id in &entity.identifiers {
                postings
                    .entry(format!("i:{}", id.value))
                    .or_default()
                    .push(first_name);
            }
        }
        let rarity = Rarity::from_names(names.iter().map(|n| &n.forms));
        Ok(Screener {
            entities,
            versions,
            names,
            postings,
            rarity,
            readings,
        })
    }

    /// Entities loaded.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Number of analysed names indexed.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    /// List versions loaded, by source.
    pub fn versions(&self) -> &HashMap<ListSource, String> {
        &self.versions
    }

    /// The token rarity table built from the lists.
    pub fn rarity(&self) -> &Rarity {
        &self.rarity
    }

    /// The Han reading table, if loaded.
    pub fn readings(&self) -> Option<&HanReadings> {
        self.readings.as_deref()
    }

    fn candidates(&self, forms: &NameForms, identifiers: &[Identifier]) -> Vec<u32> {
        let mut weights: HashMap<u32, f32> = HashMap::with_capacity(1024);
        let mut trigram_keys: Vec<(String, f32)> = Vec::new();
        let mut exact: Vec<(&Vec<u32>, f32)> = Vec::new();
        // Exact keys first, rarest first; trigrams only when they found too few candidates.
        index_keys(forms, |key, weight| {
            if key.starts_with("t:") {
                trigram_keys.push((key, weight));
            } else if let Some(list) = self.postings.get(&key) {
                exact.push((list, weight));
            }
        });
        exact.sort_by_key(|(list, _)| list.len());
        for (list, weight) in exact {
            if list.len() > CANDIDATES_MAX * 4 && weights.len() >= CANDIDATES_MAX {
                break; // common tokens (`kim`, `al`) add nothing once rarer keys have filled the pool
            }
            // Rare keys select more strongly than common ones.
            let w = weight / (1.0 + (list.len() as f32).ln());
            for &name_pos in list.iter().take(POSTINGS_READ_MAX) {
                *weights.entry(name_pos).or_default() += w;
            }
        }
        if weights.len() < CANDIDATES_MAX {
            for (key, weight) in trigram_keys {
                if let Some(list) = self
                    .postings
                    .get(&key)
                    .filter(|l| l.len() <= POSTINGS_USEFUL_MAX)
                {
                    let w = weight / (1.0 + (list.len() as f32).ln());
                    for &name_pos in list {
                        *weights.entry(name_pos).or_default() += w;
                    }
                }
            }
        }
        for id in identifiers {
            if let Some(list) = self.postings.get(&format!("i:{}", id.value)) {
                for &name_pos in list.iter().take(POSTINGS_READ_MAX) {
                    *weights.entry(name_pos).or_default() += 100.0;
                }
            }
        }
        let mut ranked: Vec<(u32, f32)> = weights.into_iter().collect();
        if ranked.len() > CANDIDATES_MAX {
            ranked.select_nth_unstable_by(CANDIDATES_MAX, |a, b| b.1.total_cmp(&a.1));
            ranked.truncate(CANDIDATES_MAX);
        }
        debug_assert!(ranked.len() <= CANDIDATES_MAX);
        ranked.into_iter().map(|(name_pos, _)| name_pos).collect()
    }

    /// Screens one query: ranked hits at or above `query.threshold`, at most `query.limit`.
    pub fn screen(&self, query: &Query) -> Vec<Hit> {
        let forms = analyze(&query.name, query.schema, self.readings.as_deref());
        let candidates = self.candidates(&forms, &query.identifiers);
        let mut best: HashMap<u32, (NameScore, u16)> = HashMap::new();
        for name_pos in candidates {
            let indexed = &self.names[name_pos as usize];
            let mut score = compare(&forms, &indexed.forms, &self.rarity);
            let entity = &self.entities[indexed.entity_idx as usize];
            if entity.names[indexed.name_idx as usize].quality == NameQuality::Weak {
                // Low-quality aliases (nicknames, partial names) are weaker evidence.
                score.score *= 0.9;
            }
            match best.get(&indexed.entity_idx) {
                Some((b, _)) if b.score >= score.score => {}
                _ => {
                    best.insert(indexed.entity_idx, (score, indexed.name_idx));
                }
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .map(|(entity_idx, (name_score, name_idx))| {
                self.hit(
                    query,
                    &self.entities[entity_idx as usize],
                    name_score,
                    name_idx,
                )
            })
            .filter(|hit| hit.score >= query.threshold)
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entity_id.cmp(&b.entity_id))
        });
        hits.truncate(query.limit.min(HITS_MAX));
        debug_assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        hits
    }

    /// Screens a vessel by IMO, name, call sign, MMSI and flag.
    pub fn screen_vessel(&self, vessel: &VesselQuery, threshold: f64) -> Vec<Hit> {
        let mut identifiers = Vec::new();
        if let Some(imo) = vessel
            .imo
            .as_deref()
            .map(crate::ident::imo_digits)
            .filter(|i| !i.is_empty())
        {
            identifiers.push(Identifier::new(IdScheme::ImoShip, &imo, None));
        }
        if let Some(call_sign) = vessel.call_sign.as_deref().filter(|c| !c.trim().is_empty()) {
            identifiers.push(Identifier::new(IdScheme::CallSign, call_sign, None));
        }
        if let Some(mmsi) = vessel
            .mmsi
            .as_deref()
            .filter(|m| crate::ident::mmsi_valid(m))
        {
            identifiers.push(Identifier::new(IdScheme::Mmsi, mmsi, None));
        }
        let query = Query {
            name: vessel.name.clone().unwrap_or_default(),
            schema: Some(Schema::Vessel),
            birth_date: None,
            country: vessel.flag.clone(),
            identifiers,
            threshold,
            limit: 10,
        };
        self.screen(&query)
    }

    fn hit(&self, query: &Query, entity: &Entity, name_score: NameScore, name_idx: u16) -> Hit {
        let mut explanation = name_score.explanation;
        let mut score = name_score.score;
        let adjustments = adjust(query, entity, score);
        for (contribution, new_score) in adjustments {
            score = new_score;
            explanation.push(contribution);
        }
        Hit {
            score: score.clamp(0.0, 1.0),
            name_score: name_score.score,
            entity_id: entity.id.clone(),
            source: entity.source,
            list_version: self
                .versions
                .get(&entity.source)
                .cloned()
                .unwrap_or_default(),
            record_id: entity.record_id.clone(),
            position: entity.position.clone(),
            schema: entity.schema,
            caption: entity.caption().to_string(),
            matched_name: entity
                .names
                .get(name_idx as usize)
                .map(|n| n.text.clone())
                .unwrap_or_default(),
            method: name_score.method,
            explanation,
        }
    }
}

fn attribute(query: &str, candidate: &str, how: How, delta: f64) -> Contribution {
    Contribution {
        query: query.to_string(),
        candidate: candidate.to_string(),
        how,
        similarity: if delta > 0.0 { 1.0 } else { 0.0 },
        contribution: delta,
    }
}

/// Identifier, date-of-birth, country/flag and schema adjustments, in order, each with the
/// score after it.
fn adjust(query: &Query, entity: &Entity, name_score: f64) -> Vec<(Contribution, f64)> {
    let mut out = Vec::new();
    let mut score = name_score;
    let push = |c: Contribution, s: f64, out: &mut Vec<(Contribution, f64)>| {
        out.push((c, s.clamp(0.0, 1.0)))
    };
    for id in &query.identifiers {
        let same_scheme = entity.identifiers.iter().filter(|e| {
            e.scheme == id.scheme
                || matches!(
                    (e.scheme, id.scheme),
                    (IdScheme::ImoShip, IdScheme::ImoCompany)
                        | (IdScheme::ImoCompany, IdScheme::ImoShip)
                )
        });
        let mut conflict = None;
        let mut matched = None;
        for candidate in same_scheme {
            let countries_agree = match (&id.country, &candidate.country) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if candidate.value == id.value && countries_agree {
                matched = Some(candidate);
            } else {
                conflict = Some(candidate);
            }
        }
        if let Some(candidate) = matched {
            // Strong, never a blind 1.0: names still move the score within 0.85..0.99.
            let new = 0.85 + 0.14 * name_score;
            push(
                attribute(&id.value, &candidate.value, How::Identifier, new - score),
                new,
                &mut out,
            );
            score = new;
        } else if let Some(candidate) = conflict {
            if matches!(
                id.scheme,
                IdScheme::ImoShip | IdScheme::ImoCompany | IdScheme::Mmsi
            ) {
                push(
                    attribute(&id.value, &candidate.value, How::Identifier, -0.2),
                    score - 0.2,
                    &mut out,
                );
                score -= 0.2;
            }
        }
    }
    if let (Some(dob), false) = (query.birth_date, entity.birth_dates.is_empty()) {
        let distance = entity
            .birth_dates
            .iter()
            .map(|b| {
                let (from, to) = b.year_range();
                if dob.year < from {
                    from - dob.year
                } else {
                    dob.year.saturating_sub(to)
                }
            })
            .min()
            .unwrap_or(0);
        let listed: Vec<String> = entity.birth_dates.iter().map(|b| b.date.to_iso()).collect();
        let delta = match distance {
            0 => 0.05,
            1 => 0.0,
            _ => -0.15,
        };
        if delta != 0.0 {
            push(
                attribute(&dob.to_iso(), &listed.join(" / "), How::Attribute, delta),
                score + delta,
                &mut out,
            );
            score += delta;
        }
    }
    if let Some(country) = &query.country {
        let country = crate::country::iso2(country).unwrap_or(country).to_string();
        let candidate_countries: Vec<&str> = entity
            .countries
            .iter()
            .map(String::as_str)
            .chain(entity.flag.as_deref())
            .collect();
        if !candidate_countries.is_empty() {
            let delta = if candidate_countries.contains(&country.as_str()) {
                0.03
            } else {
                -0.05
            };
            push(
                attribute(
                    &country,
                    &candidate_countries.join(" / "),
                    How::Attribute,
                    delta,
                ),
                score + delta,
                &mut out,
            );
            score += delta;
        }
    }
    if let Some(schema) = query.schema {
        if schema != entity.schema {
            let delta = if schema == Schema::Person || entity.schema == Schema::Person {
                -0.3
            } else {
                -0.1
            };
            push(
                attribute(
                    &format!("{schema:?}"),
                    &format!("{:?}", entity.schema),
                    How::Attribute,
                    delta,
                ),
                score + delta,
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BirthDate, Name};

    fn list() -> ListVersion {
        let mut kim = Entity::new(
            ListSource::UnConsolidated,
            "KPi.900",
            "byte 0".into(),
            Schema::Person,
        );
        kim.names
            .push(Name::new("KIM JONG UN", NameQuality::Primary));
        kim.birth_dates.push(BirthDate {
            date: PartialDate {
                year: 1984,
                month: Some(1),
                day: Some(8),
            },
            year_to: None,
            circa: false,
        });
        kim.countries.push("KP".into());
        let mut man = Entity::new(
            ListSource::UnConsolidated,
            "KPi.901",
            "byte 1".into(),
            Schema::Person,
        );
        man.names
            .push(Name::new("KIM JONG MAN", NameQuality::Primary));
        let mut ship = Entity::new(
            ListSource::UnConsolidated,
            "KPv.900",
            "byte 2".into(),
            Schema::Vessel,
        );
        ship.names
            .push(Name::new("CHON MA SAN", NameQuality::Primary));
        ship.identifiers
            .push(Identifier::new(IdScheme::ImoShip, "8660313", None));
        ListVersion {
            source: ListSource::UnConsolidated,
            version: "test".into(),
            entities: vec![kim, man, ship],
        }
    }

    #[test]
    fn ranks_and_explains() {
        let screener = Screener::new(vec![list()], None).unwrap();
        let hits = screener.screen(&Query::name("김정은"));
        assert_eq!(hits.len(), 1, "{hits:#?}");
        assert_eq!(hits[0].entity_id, "un:KPi.900");
        assert_eq!(hits[0].method, "korean");
        let mut query = Query::name("Kim Jong-un");
        query.birth_date = PartialDate::parse_iso("1984");
        query.country = Some("KP".into());
        let hits = screener.screen(&query);
        assert!(hits[0].score > hits[0].name_score - 1e-9);
        assert!(hits[0].explanation.iter().any(|c| c.how == How::Attribute));
    }

    #[test]
    fn vessel_by_imo_is_strong_but_not_certain() {
        let screener = Screener::new(vec![list()], None).unwrap();
        let hits = screener.screen_vessel(
            &VesselQuery {
                imo: Some("IMO 8660313".into()),
                name: Some("RENAMED ONE".into()),
                ..VesselQuery::default()
            },
            0.5,
        );
        assert_eq!(hits[0].entity_id, "un:KPv.900");
        assert!(
            hits[0].score >= 0.85 && hits[0].score < 1.0,
            "{}",
            hits[0].score
        );
    }

    #[test]
    fn screener_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Screener>();
    }
}
