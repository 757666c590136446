//! Screening: an in-memory index over loaded lists, built once, queried many times.
//!
//! Candidate retrieval never scans every entity: [`crate::retrieval`] reads the posting lists
//! of the query's keys and keeps the names whose score bound reaches the threshold; only
//! those are scored in full. The bound never drops a name that could reach the threshold, so
//! [`Screener::screen`] returns what [`Screener::screen_exhaustive`] returns.

use crate::analysis::{analyze, NameForms};
use crate::ident::index::{IdIndex, IdScreening};
use crate::matcher::{compare, Contribution, How, Rarity, THRESHOLD_DEFAULT};
use crate::model::{
    Entity, IdScheme, Identifier, ListSource, ListVersion, NameQuality, PartialDate, Schema,
};
use crate::retrieval::{self, Index};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

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
    index: Index,
    rarity: Rarity,
    readings: Option<Arc<HanReadings>>,
    /// Identifier lookup forms → listed identifiers ([`Screener::screen_id`], AIS vessels).
    ids: IdIndex,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<retrieval::Scratch> =
        std::cell::RefCell::new(retrieval::Scratch::default());
}

/// Most a date of birth in the query adds to a score ([`adjust`]).
const BIRTH_DATE_BONUS: f64 = 0.05;
/// Most a nationality / flag in the query adds to a score ([`adjust`]).
const COUNTRY_BONUS: f64 = 0.03;

/// The name score a hit needs: the threshold less what the query's attributes can add
/// (identifier matches are handled by retrieval, which scores those entities' names).
fn name_threshold(query: &Query) -> f64 {
    let mut threshold = query.threshold;
    if query.birth_date.is_some() {
        threshold -= BIRTH_DATE_BONUS;
    }
    if query.country.is_some() {
        threshold -= COUNTRY_BONUS;
    }
    threshold
}

impl Screener {
    /// Builds the index over `lists`. `readings` replaces the shipped Han reading table.
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
        let rarity = Rarity::from_names(names.iter().map(|n| &n.forms));
        for indexed in &mut names {
            rarity.annotate(&mut indexed.forms);
        }
        // Every name of an entity carries its identifiers: an identifier match lifts the
        // entity's best name, so all of them are scored.
        let identifiers = names.iter().enumerate().flat_map(|(name_pos, indexed)| {
            entities[indexed.entity_idx as usize]
                .identifiers
                .iter()
                .map(move |id| (id.value.as_str(), name_pos as u32))
        });
        let forms: Vec<&NameForms> = names.iter().map(|n| &n.forms).collect();
        let index = Index::new(&forms, identifiers, &rarity)?;
        drop(forms);
        let ids = IdIndex::new(&entities);
        Ok(Screener {
            entities,
            versions,
            names,
            index,
            rarity,
            readings,
            ids,
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

    /// The identifier index (wallets, e-mail, IMO, MMSI, BIC …) over the loaded entities.
    pub fn identifiers(&self) -> &IdIndex {
        &self.ids
    }

    /// Screens one identifier: exact match of its lookup form ([`crate::ident::normalise`]) as
    /// `scheme`, or as every scheme the value may be when `scheme` is `None`.
    pub fn screen_id(&self, text: &str, scheme: Option<IdScheme>) -> IdScreening {
        crate::ident::index::screen(
            &self.ids,
            &self.entities,
            |source| self.versions.get(&source).cloned().unwrap_or_default(),
            text,
            scheme,
        )
    }

    /// The token rarity table built from the lists.
    pub fn rarity(&self) -> &Rarity {
        &self.rarity
    }

    /// The Han reading table given in place of the shipped one, if any.
    pub fn readings(&self) -> Option<&HanReadings> {
        self.readings.as_deref()
    }

    /// Screens one query: ranked hits at or above `query.threshold`, at most `query.limit`.
    ///
    /// Retrieval ([`crate::retrieval`]) keeps the names whose score bound reaches the
    /// threshold (all names when the query is outside what the bound covers); those are
    /// scored without explanations ([`crate::matcher::score`]); only the hits that are returned
    /// are compared again with explanations, and the explained score is asserted equal to the
    /// fast one.
    pub fn screen(&self, query: &Query) -> Vec<Hit> {
        let forms = self.analyzed(query);
        let positions = self.retrieved(query, &forms).unwrap_or_else(|| {
            // Every name, each may merge tokens with the query.
            (0..self.names.len() as u32)
                .map(|p| p | retrieval::MERGE_BIT)
                .collect()
        });
        self.screen_positions(query, &forms, &positions)
    }

    /// Screens one query against *every* indexed name, without candidate retrieval: the
    /// oracle that tests and the benchmark hold [`Screener::screen`]'s retrieval against.
    /// Linear in the index size (tens of milliseconds on the full lists).
    pub fn screen_exhaustive(&self, query: &Query) -> Vec<Hit> {
        let forms = self.analyzed(query);
        let all: Vec<u32> = (0..self.names.len() as u32)
            .map(|name_pos| name_pos | retrieval::MERGE_BIT)
            .collect();
        self.screen_positions(query, &forms, &all)
    }

    /// Number of names retrieval keeps for `query` (scored in full by [`Screener::screen`]);
    /// `None` when the query falls back to the exhaustive scan.
    pub fn candidates_len(&self, query: &Query) -> Option<usize> {
        self.retrieved(query, &self.analyzed(query))
            .map(|positions| positions.len())
    }

    /// The query's name analysed, its tokens' rarity weights cached.
    fn analyzed(&self, query: &Query) -> NameForms {
        let mut forms = analyze(&query.name, query.schema, self.readings.as_deref());
        self.rarity.annotate(&mut forms);
        forms
    }

    /// The positions (with [`retrieval::MERGE_BIT`]) of the names whose bound reaches the
    /// query's name threshold; `None` when the query is outside what the bound covers.
    fn retrieved(&self, query: &Query, forms: &NameForms) -> Option<Vec<u32>> {
        let identifiers: Vec<&str> = query.identifiers.iter().map(|i| i.value.as_str()).collect();
        // Names scored per query: ~16 on average, so one allocation (no regrowing).
        let mut positions = Vec::with_capacity(64);
        SCRATCH
            .with(|scratch| {
                self.index.candidates(
                    (forms, &identifiers),
                    &self.rarity,
                    name_threshold(query),
                    &mut scratch.borrow_mut(),
                    &mut positions,
                )
            })
            .then_some(positions)
    }

    /// Posting entries in the retrieval index.
    pub fn postings_len(&self) -> usize {
        self.index.postings_len()
    }

    /// Scores the names at `positions` (any order), keeps each entity's best name, applies
    /// the attribute adjustments and returns the hits at or above the threshold, best first.
    fn screen_positions(&self, query: &Query, forms: &NameForms, positions: &[u32]) -> Vec<Hit> {
        let mut scored: Vec<(u32, u16, f64)> = Vec::with_capacity(positions.len());
        for &position in positions {
            let indexed = &self.names[(position & !retrieval::MERGE_BIT) as usize];
            let merges = position & retrieval::MERGE_BIT != 0;
            let score = self.name_score(forms, indexed, merges);
            scored.push((indexed.entity_idx, indexed.name_idx, score));
        }
        // Best name per entity; ties keep the lower name index.
        scored.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.2.total_cmp(&a.2)).then(a.1.cmp(&b.1)));
        scored.dedup_by_key(|(entity_idx, _, _)| *entity_idx);
        let best = scored;
        let mut passing: Vec<(u32, u16, f64, f64)> = best
            .into_iter()
            .filter_map(|(entity_idx, name_idx, name_score)| {
                let entity = &self.entities[entity_idx as usize];
                let score = adjust(query, entity, name_score, None);
                (score >= query.threshold).then_some((entity_idx, name_idx, name_score, score))
            })
            .collect();
        passing.sort_by(|a, b| {
            b.3.total_cmp(&a.3).then_with(|| {
                let (ea, eb) = (&self.entities[a.0 as usize], &self.entities[b.0 as usize]);
                ea.id.cmp(&eb.id)
            })
        });
        passing.truncate(query.limit.min(HITS_MAX));
        let hits: Vec<Hit> = passing
            .into_iter()
            .map(|(entity_idx, name_idx, name_score, score)| {
                let hit = self.hit(query, forms, entity_idx, name_idx);
                // Pair assertion: the explained path agrees with the fast path.
                assert_eq!(hit.name_score.to_bits(), name_score.to_bits());
                assert_eq!(hit.score.to_bits(), score.to_bits());
                hit
            })
            .collect();
        debug_assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        hits
    }

    /// Fast score of the query against one indexed name (weak aliases discounted).
    fn name_score(&self, forms: &NameForms, indexed: &IndexedName, merges: bool) -> f64 {
        let score = if merges {
            crate::matcher::score(forms, &indexed.forms, &self.rarity)
        } else {
            crate::matcher::score_unmerged(forms, &indexed.forms, &self.rarity)
        };
        let entity = &self.entities[indexed.entity_idx as usize];
        if entity.names[indexed.name_idx as usize].quality == NameQuality::Weak {
            // Low-quality aliases (nicknames, partial names) are weaker evidence.
            score * 0.9
        } else {
            score
        }
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

    /// A hit with its explanation: the name compared again with [`compare`], then the
    /// attribute adjustments.
    fn hit(&self, query: &Query, forms: &NameForms, entity_idx: u32, name_idx: u16) -> Hit {
        let entity = &self.entities[entity_idx as usize];
        let name_pos = self
            .names
            .partition_point(|n| (n.entity_idx, n.name_idx) < (entity_idx, name_idx));
        let indexed = &self.names[name_pos];
        assert!(indexed.entity_idx == entity_idx && indexed.name_idx == name_idx);
        let name_score = compare(forms, &indexed.forms, &self.rarity);
        let mut score = name_score.score;
        if entity.names[name_idx as usize].quality == NameQuality::Weak {
            score *= 0.9; // as in `name_score`
        }
        let mut explanation = name_score.explanation;
        let adjusted = adjust(query, entity, score, Some(&mut explanation));
        Hit {
            score: adjusted,
            name_score: score,
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

/// Pushes a contribution when an explanation is being built (the text is built only then).
fn explain(explanation: &mut Option<&mut Vec<Contribution>>, make: impl FnOnce() -> Contribution) {
    if let Some(explanation) = explanation.as_deref_mut() {
        explanation.push(make());
    }
}

/// Identifier, date-of-birth, country/flag and schema adjustments of `name_score`, in order:
/// the final score (clamped to 0..=1), and each adjustment appended to `explanation` when one
/// is asked for. The arithmetic does not depend on whether it is.
fn adjust(
    query: &Query,
    entity: &Entity,
    name_score: f64,
    mut explanation: Option<&mut Vec<Contribution>>,
) -> f64 {
    let mut score = name_score;
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
            explain(&mut explanation, || {
                attribute(&id.value, &candidate.value, How::Identifier, new - score)
            });
            score = new;
        } else if let Some(candidate) = conflict {
            if matches!(
                id.scheme,
                IdScheme::ImoShip | IdScheme::ImoCompany | IdScheme::Mmsi
            ) {
                explain(&mut explanation, || {
                    attribute(&id.value, &candidate.value, How::Identifier, -0.2)
                });
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
        let delta = match distance {
            0 => BIRTH_DATE_BONUS,
            1 => 0.0,
            _ => -0.15,
        };
        if delta != 0.0 {
            explain(&mut explanation, || {
                let listed: Vec<String> =
                    entity.birth_dates.iter().map(|b| b.date.to_iso()).collect();
                attribute(&dob.to_iso(), &listed.join(" / "), How::Attribute, delta)
            });
            score += delta;
        }
    }
    if let Some(country) = &query.country {
        let country = crate::country::iso2(country).unwrap_or(country);
        let mut candidate_countries = entity
            .countries
            .iter()
            .map(String::as_str)
            .chain(entity.flag.as_deref());
        if !entity.countries.is_empty() || entity.flag.is_some() {
            let delta = if candidate_countries.any(|c| c == country) {
                COUNTRY_BONUS
            } else {
                -0.05
            };
            explain(&mut explanation, || {
                let listed: Vec<&str> = entity
                    .countries
                    .iter()
                    .map(String::as_str)
                    .chain(entity.flag.as_deref())
                    .collect();
                attribute(country, &listed.join(" / "), How::Attribute, delta)
            });
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
            explain(&mut explanation, || {
                attribute(
                    &format!("{schema:?}"),
                    &format!("{:?}", entity.schema),
                    How::Attribute,
                    delta,
                )
            });
            score += delta;
        }
    }
    score.clamp(0.0, 1.0)
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
