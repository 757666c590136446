//! Screening: an in-memory index over loaded lists, built once, queried many times.
//!
//! Candidate retrieval never scans every entity: a query's keys (token keys, Korean phonetic
//! keys, Korean given-name keys, token trigrams, identifiers) select at most
//! [`CANDIDATES_MAX`] names from posting lists; only those are scored in full.

use crate::analysis::{analyze, NameForms};
use crate::matcher::{compare, Contribution, How, Rarity, THRESHOLD_DEFAULT};
use crate::model::{
    Entity, IdScheme, Identifier, ListSource, ListVersion, NameQuality, PartialDate, Schema,
};
use crate::unihan::HanReadings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Names scored per batch: a query scores the best-ranked batch, and the next one only while
/// the second half of the last still produced a name scoring at or above the threshold.
pub const CANDIDATES_MAX: usize = 48;
/// Names scored per query at most (whole batches of [`CANDIDATES_MAX`]).
pub const CANDIDATES_EXTENDED_MAX: usize = 8 * CANDIDATES_MAX;
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
    postings: HashMap<String, Vec<u32>, foldhash::fast::RandomState>,
    rarity: Rarity,
    readings: Option<Arc<HanReadings>>,
}

/// Per-thread candidate accumulator, reused across queries: a dense weight per indexed name
/// plus the list of names touched, so a query costs what it touches, not the index size.
#[derive(Debug, Default)]
struct Scratch {
    weights: Vec<f32>,
    touched: Vec<u32>,
    /// Ranking keys of the touched names ([`rank_key`]), reused across queries.
    ranking: Vec<u64>,
}

/// Moves the `batch` smallest keys of `keys` (heaviest names) to its front, in ascending order,
/// and returns them: repeated on the rest, it yields the same sequence as a full sort, but
/// sorts only the batches that are scored (most queries stop after the first).
fn next_batch(keys: &mut [u64], batch: usize) -> &[u64] {
    assert!(batch > 0);
    let batch = batch.min(keys.len());
    if keys.len() > batch {
        keys.select_nth_unstable(batch);
    }
    let front = &mut keys[..batch];
    front.sort_unstable();
    front
}

/// A name's ranking key: ascending keys are heavier weights first, ties to the lower name
/// index. Positive finite `f32`s order like their bit patterns, so the key is the inverted
/// weight bits above the name index.
fn rank_key(weight: f32, name_pos: u32) -> u64 {
    assert!(weight > 0.0, "only touched names are ranked");
    debug_assert!(weight.is_finite());
    (u64::from(!weight.to_bits()) << 32) | u64::from(name_pos)
}

impl Scratch {
    fn prepare(&mut self, names_n: usize) {
        // Normally already clean; a query that panicked half-way would have left weights set.
        self.reset();
        if self.weights.len() < names_n {
            self.weights.resize(names_n, 0.0);
        }
    }

    fn add<'a>(&mut self, name_positions: impl Iterator<Item = &'a u32>, w: f32) {
        assert!(
            w > 0.0,
            "a key adds a positive weight (zero marks an untouched name)"
        );
        for &name_pos in name_positions {
            let slot = &mut self.weights[name_pos as usize];
            if *slot == 0.0 {
                self.touched.push(name_pos);
            }
            *slot += w;
        }
    }

    /// The ranking keys ([`rank_key`]) of the `n` heaviest names, in no particular order:
    /// [`next_batch`] orders them a batch at a time, as far as scoring goes.
    ///
    /// Selects among packed integer keys in a buffer reused across queries: the selection
    /// over every touched name (thousands for common tokens) compares plain `u64`s.
    fn ranked(&mut self, n: usize) -> Vec<u64> {
        let Scratch {
            weights,
            touched,
            ranking,
        } = self;
        ranking.clear();
        ranking.extend(
            touched
                .iter()
                .map(|&name_pos| rank_key(weights[name_pos as usize], name_pos)),
        );
        if ranking.len() > n {
            ranking.select_nth_unstable(n);
            ranking.truncate(n);
        }
        debug_assert!(ranking.len() <= n);
        ranking.clone()
    }

    fn reset(&mut self) {
        for &name_pos in &self.touched {
            self.weights[name_pos as usize] = 0.0;
        }
        self.touched.clear();
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Calls `push(key, weight)` for every retrieval key of a name: token keys (`k:`), Korean
/// keys (`r:`), token trigrams (`t:`), joined Korean keys (`j:`) and given-name class keys
/// (`g:`). Keys are built in one reused buffer (no allocation per key).
fn index_keys(forms: &NameForms, mut push: impl FnMut(&str, f32)) {
    let mut key = String::with_capacity(64);
    let mut with_tag = |tag: &str, parts: &mut dyn Iterator<Item = &str>, weight: f32| {
        key.clear();
        key.push_str(tag);
        parts.for_each(|p| key.push_str(p));
        push(&key, weight);
    };
    for form in &forms.forms {
        for token in form.tokens.iter().filter(|t| !t.legal_form) {
            with_tag("k:", &mut std::iter::once(token.key.as_str()), 3.0);
            with_tag("r:", &mut std::iter::once(token.korean.as_str()), 2.0);
            // Trigrams of ` key ` (padded), only for keys of 3 characters or more.
            let padded_len = token.key.chars().count() + 2;
            if padded_len >= 5 {
                // Byte offsets of the padded characters, then the end.
                let bounds: Vec<usize> = std::iter::once(0)
                    .chain(token.key.char_indices().map(|(i, _)| i + 1))
                    .chain([token.key.len() + 1, token.key.len() + 2])
                    .collect();
                let padded = format!(" {} ", token.key);
                for window in bounds.windows(4) {
                    with_tag(
                        "t:",
                        &mut std::iter::once(&padded[window[0]..window[3]]),
                        0.5,
                    );
                }
            }
        }
        let mut joined = form
            .tokens
            .iter()
            .filter(|t| !t.legal_form)
            .map(|t| t.korean.as_str());
        with_tag("j:", &mut joined, 4.0);
        for korean in &form.korean {
            with_tag(
                "g:",
                &mut korean.given_classes.iter().map(String::as_str),
                4.0,
            );
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
        let mut postings: HashMap<String, Vec<u32>, foldhash::fast::RandomState> =
            HashMap::default();
        for (name_pos, indexed) in names.iter().enumerate() {
            index_keys(&indexed.forms, |key, _| match postings.get_mut(key) {
                Some(list) => {
                    if list.last() != Some(&(name_pos as u32)) {
                        list.push(name_pos as u32);
                    }
                }
                None => {
                    postings.insert(key.to_string(), vec![name_pos as u32]);
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
        for indexed in &mut names {
            rarity.annotate(&mut indexed.forms);
        }
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

    /// Ranks at most [`CANDIDATES_EXTENDED_MAX`] names for `forms`, best first: exact keys
    /// rarest first; token trigrams when those found too few, and always for a token with no
    /// or a short exact-key list (a variant spelling: `Rashedi` for `Rashidi`); identifiers
    /// always. Ranked by accumulated key weight, ties to the lower name index.
    fn candidates(&self, forms: &NameForms, identifiers: &[Identifier]) -> Vec<u64> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.prepare(self.names.len());
            self.collect_candidates(forms, identifiers, &mut scratch);
            let ranked = scratch.ranked(CANDIDATES_EXTENDED_MAX);
            scratch.reset();
            ranked
        })
    }

    fn collect_candidates(
        &self,
        forms: &NameForms,
        identifiers: &[Identifier],
        scratch: &mut Scratch,
    ) {
        // (list, weight, the token's exact key is rare or absent)
        // Sized for a usual query (a few tokens, a few forms) so they do not regrow per key.
        let mut trigram: Vec<(&Vec<u32>, f32, bool)> = Vec::with_capacity(64);
        let mut exact: Vec<(&Vec<u32>, f32)> = Vec::with_capacity(32);
        // `index_keys` emits a token's `k:` key before its trigrams.
        let mut token_rare = true;
        index_keys(forms, |key, weight| {
            let list = self.postings.get(key);
            if key.starts_with("k:") {
                token_rare = list.is_none_or(|l| l.len() < CANDIDATES_MAX);
            }
            let Some(list) = list else { return };
            if key.starts_with("t:") {
                trigram.push((list, weight, token_rare));
            } else {
                exact.push((list, weight));
            }
        });
        // Stable: equal lengths keep key order, so the accumulated weights are reproducible.
        exact.sort_by_key(|(list, _)| list.len());
        for (list, weight) in exact {
            if list.len() > CANDIDATES_MAX * 4 && scratch.touched.len() >= CANDIDATES_MAX {
                break; // common tokens (`kim`, `al`) add nothing once rarer keys have filled the pool
            }
            // Rare keys select more strongly than common ones.
            let w = weight / (1.0 + (list.len() as f32).ln());
            scratch.add(list.iter().take(POSTINGS_READ_MAX), w);
        }
        let all_trigrams = scratch.touched.len() < CANDIDATES_MAX;
        for (list, weight, token_rare) in trigram {
            if (all_trigrams || token_rare) && list.len() <= POSTINGS_USEFUL_MAX {
                let w = weight / (1.0 + (list.len() as f32).ln());
                scratch.add(list.iter(), w);
            }
        }
        let mut id_key = String::with_capacity(32);
        for id in identifiers {
            id_key.clear();
            id_key.push_str("i:");
            id_key.push_str(&id.value);
            if let Some(list) = self.postings.get(id_key.as_str()) {
                scratch.add(list.iter().take(POSTINGS_READ_MAX), 100.0);
            }
        }
    }

    /// Screens one query: ranked hits at or above `query.threshold`, at most `query.limit`.
    ///
    /// Candidates are scored without explanations ([`crate::matcher::score`]); only the hits that
    /// are returned are compared again with explanations, and the explained score is asserted
    /// equal to the fast one.
    pub fn screen(&self, query: &Query) -> Vec<Hit> {
        let mut forms = analyze(&query.name, query.schema, self.readings.as_deref());
        self.rarity.annotate(&mut forms);
        let mut candidates = self.candidates(&forms, &query.identifiers);
        self.screen_candidates(query, &forms, &mut candidates, CANDIDATES_MAX)
    }

    /// Screens one query against *every* indexed name, without candidate retrieval: the
    /// oracle that tests and the benchmark hold [`Screener::screen`]'s bounded retrieval
    /// against. Linear in the index size (tens of milliseconds on the full lists).
    pub fn screen_exhaustive(&self, query: &Query) -> Vec<Hit> {
        let mut forms = analyze(&query.name, query.schema, self.readings.as_deref());
        self.rarity.annotate(&mut forms);
        // Equal weights: ranked by name index alone.
        let mut all: Vec<u64> = (0..self.names.len() as u32)
            .map(|name_pos| rank_key(1.0, name_pos))
            .collect();
        let batch = all.len().max(1);
        self.screen_candidates(query, &forms, &mut all, batch)
    }

    /// Scores `candidates` (ranking keys, [`rank_key`], in any order) best-ranked first in
    /// batches of `batch` (each ordered only when it is reached), going on to the next
    /// batch only while the second half of the last one still produced a name at or above the
    /// threshold: a cluster of similar listed names (one family's members) is followed to its
    /// end; a query whose hits rank first, or that has none, stops after one batch.
    fn screen_candidates(
        &self,
        query: &Query,
        forms: &NameForms,
        candidates: &mut [u64],
        batch: usize,
    ) -> Vec<Hit> {
        assert!(batch > 0);
        let mut scored: Vec<(u32, u16, f64)> = Vec::with_capacity(batch);
        let mut rest = candidates;
        while !rest.is_empty() {
            let chunk_len = next_batch(rest, batch).len();
            let (chunk, after) = rest.split_at_mut(chunk_len);
            rest = after;
            let mut tail_hit = false;
            for (rank, &key) in chunk.iter().enumerate() {
                let name_pos = key as u32; // the low half of a ranking key
                let indexed = &self.names[name_pos as usize];
                let score = self.name_score(forms, indexed);
                tail_hit |= score >= query.threshold && rank >= batch / 2;
                scored.push((indexed.entity_idx, indexed.name_idx, score));
            }
            if !tail_hit {
                break;
            }
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
    fn name_score(&self, forms: &NameForms, indexed: &IndexedName) -> f64 {
        let score = crate::matcher::score(forms, &indexed.forms, &self.rarity);
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
            0 => 0.05,
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
                0.03
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
    fn rank_keys_order_heavier_first_then_lower_index() {
        let mut keys = [
            rank_key(1.0, 7),
            rank_key(2.5, 9),
            rank_key(1.0, 3),
            rank_key(0.01, 0),
            rank_key(f32::MIN_POSITIVE, 1),
            rank_key(1.0e30, u32::MAX),
        ];
        keys.sort_unstable();
        let order: Vec<u32> = keys.iter().map(|&key| key as u32).collect();
        assert_eq!(order, [u32::MAX, 9, 3, 7, 0, 1]);
    }

    #[test]
    fn batches_follow_the_full_ranking() {
        for (n, batch) in [(0, 3), (1, 3), (7, 3), (48, 48), (100, 7), (384, 48)] {
            // A deterministic scramble of distinct keys.
            let keys: Vec<u64> = (0..n as u64).map(|i| (i * 7919 + 13) % 100_003).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            let mut rest = keys;
            let mut batched = Vec::new();
            let mut slice = rest.as_mut_slice();
            while !slice.is_empty() {
                let len = next_batch(slice, batch).len();
                assert!(len == batch.min(slice.len()));
                batched.extend_from_slice(&slice[..len]);
                slice = &mut slice[len..];
            }
            assert_eq!(batched, sorted, "n {n}, batch {batch}");
        }
    }

    #[test]
    fn screener_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Screener>();
    }
}
