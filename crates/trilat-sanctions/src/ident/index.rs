//! The identifier index: lookup form → the listed identifiers that have it. Built once with
//! the screener; `screen-id`, the API route and the maritime engine's AIS checks all read it.

use super::{family, guess, normalise};
use crate::model::{Entity, IdScheme, ListSource, Schema};
use serde::{Deserialize, Serialize};

type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// Bound on identifiers indexed per entity (the real lists carry at most a few hundred).
pub const IDS_PER_ENTITY_MAX: usize = u16::MAX as usize;

/// One listed identifier: the entity and the identifier's position in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRef {
    /// Index of the entity in the screener.
    pub entity_idx: u32,
    /// Index of the identifier in the entity's list.
    pub id_idx: u16,
}

/// Lookup form → listed identifiers.
#[derive(Debug, Default)]
pub struct IdIndex {
    map: Map<Box<str>, Vec<IdRef>>,
    identifiers: usize,
}

/// Writes the key of `text` as `scheme` into `buf`: the family byte, then the lookup form.
fn key(scheme: IdScheme, text: &str, buf: &mut String) {
    buf.clear();
    buf.push(family(scheme) as char);
    normalise(scheme, text, buf);
}

impl IdIndex {
    /// Indexes every identifier of `entities`, valid or not (a listed value is screened as the
    /// list wrote it).
    pub fn new(entities: &[Entity]) -> IdIndex {
        let mut index = IdIndex::default();
        let mut buf = String::new();
        for (entity_idx, entity) in entities.iter().enumerate() {
            let entity_idx = u32::try_from(entity_idx).expect("entities bounded by ENTITIES_MAX");
            for (id_idx, id) in entity
                .identifiers
                .iter()
                .enumerate()
                .take(IDS_PER_ENTITY_MAX)
            {
                // The stored value is already in lookup form; normalising again is idempotent.
                key(id.scheme, &id.value, &mut buf);
                if buf.len() <= 1 {
                    continue;
                }
                let refs = index.map.entry(buf.as_str().into()).or_default();
                let id_ref = IdRef {
                    entity_idx,
                    id_idx: id_idx as u16,
                };
                if !refs.contains(&id_ref) {
                    refs.push(id_ref);
                    index.identifiers += 1;
                }
            }
        }
        index
    }

    /// Identifiers indexed.
    pub fn len(&self) -> usize {
        self.identifiers
    }

    /// True when no identifier is indexed.
    pub fn is_empty(&self) -> bool {
        self.identifiers == 0
    }

    /// The listed identifiers whose lookup form equals that of `text` as `scheme`; `buf` is
    /// the caller's, reused across calls.
    pub fn lookup(&self, scheme: IdScheme, text: &str, buf: &mut String) -> &[IdRef] {
        key(scheme, text, buf);
        self.map.get(buf.as_str()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Looks `text` up as `scheme`, or as every scheme [`guess`] names when `scheme` is
    /// `None`, calling `sink(scheme, refs)` for each scheme that has listed identifiers.
    /// Returns how many listed identifiers matched.
    pub fn lookup_any(
        &self,
        text: &str,
        scheme: Option<IdScheme>,
        scratch: &mut LookupScratch,
        mut sink: impl FnMut(IdScheme, &[IdRef]),
    ) -> usize {
        scratch.schemes.clear();
        match scheme {
            Some(scheme) => scratch.schemes.push(scheme),
            None => guess(text, &mut scratch.schemes),
        }
        debug_assert!(scratch.schemes.len() <= 4);
        let mut matched = 0;
        for idx in 0..scratch.schemes.len() {
            let scheme = scratch.schemes[idx];
            let refs = self.lookup(scheme, text, &mut scratch.key);
            if !refs.is_empty() {
                matched += refs.len();
                sink(scheme, refs);
            }
        }
        matched
    }
}

impl IdIndex {
    /// Screens a batch: one identifier per line of `text` (blank lines and `#` comments
    /// skipped), each looked up as `scheme` or as what it may be. `sink(line_no, line, scheme,
    /// refs)` is called for each match (1-based line numbers). One pass, no allocation per line
    /// once the scratch buffers have grown.
    pub fn screen_batch(
        &self,
        text: &str,
        scheme: Option<IdScheme>,
        mut sink: impl FnMut(usize, &str, IdScheme, &[IdRef]),
    ) -> BatchCounts {
        let mut scratch = LookupScratch::default();
        let mut counts = BatchCounts::default();
        for (line_idx, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            counts.identifiers += 1;
            let matched = self.lookup_any(line, scheme, &mut scratch, |scheme, refs| {
                sink(line_idx + 1, line, scheme, refs)
            });
            counts.hits += matched;
            counts.identifiers_matched += usize::from(matched > 0);
        }
        debug_assert!(counts.identifiers_matched <= counts.identifiers);
        counts
    }
}

/// What a batch screened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCounts {
    /// Identifiers screened (non-blank, non-comment lines).
    pub identifiers: usize,
    /// Of those, identifiers equal to at least one listed identifier.
    pub identifiers_matched: usize,
    /// Listed identifiers matched in total.
    pub hits: usize,
}

/// Buffers of [`IdIndex::lookup_any`], reused across a batch.
#[derive(Debug, Default)]
pub struct LookupScratch {
    schemes: Vec<IdScheme>,
    key: String,
}

/// An identifier hit: the query, the listed identifier it equals and the listed entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdHit {
    /// The scheme the query was looked up as.
    pub scheme: IdScheme,
    /// The lookup form both share.
    pub value: String,
    /// The ticker of a listed digital currency address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Why the listed identifier fails its validation, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_invalid: Option<String>,
    /// The listed entity's id (`ofac:12345`).
    pub entity_id: String,
    /// The list.
    pub source: ListSource,
    /// The list version loaded.
    pub list_version: String,
    /// Record id in the source.
    pub record_id: String,
    /// Where in the source file.
    pub position: String,
    /// What the entity is.
    pub schema: Schema,
    /// The entity's primary name.
    pub caption: String,
    /// The entity's sanctions programmes.
    #[serde(default)]
    pub programmes: Vec<String>,
}

/// The answer to one identifier query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdScreening {
    /// The query as given.
    pub query: String,
    /// The scheme asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<IdScheme>,
    /// The schemes the query was looked up as.
    pub looked_up_as: Vec<IdScheme>,
    /// Why the query fails validation as each scheme it was looked up as, where it does (an
    /// EIP-55 checksum that fails is still looked up: the address is the same 20 bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_invalid: Vec<(IdScheme, String)>,
    /// Every listed identifier the query equals, with its entity.
    pub hits: Vec<IdHit>,
}

/// Screens one identifier against `index` over `entities`.
pub fn screen(
    index: &IdIndex,
    entities: &[Entity],
    version: impl Fn(ListSource) -> String,
    text: &str,
    scheme: Option<IdScheme>,
) -> IdScreening {
    let mut scratch = LookupScratch::default();
    let mut hits = Vec::new();
    index.lookup_any(text, scheme, &mut scratch, |scheme, refs| {
        for r in refs {
            let entity = &entities[r.entity_idx as usize];
            let id = &entity.identifiers[r.id_idx as usize];
            hits.push(IdHit {
                scheme,
                value: id.value.clone(),
                currency: id.currency.clone(),
                listed_invalid: id.invalid.clone(),
                entity_id: entity.id.clone(),
                source: entity.source,
                list_version: version(entity.source),
                record_id: entity.record_id.clone(),
                position: entity.position.clone(),
                schema: entity.schema,
                caption: entity.caption().to_string(),
                programmes: entity.programmes.clone(),
            });
        }
    });
    let looked_up_as = scratch.schemes.clone();
    let query_invalid = looked_up_as
        .iter()
        .filter_map(|&s| {
            let currency = hits
                .iter()
                .find(|h| h.scheme == s)
                .and_then(|h| h.currency.as_deref());
            let mut value = String::new();
            normalise(s, text, &mut value);
            super::check(s, currency, text.trim(), &value)
                .err()
                .map(|why| (s, why))
        })
        .collect();
    IdScreening {
        query: text.to_string(),
        scheme,
        looked_up_as,
        query_invalid,
        hits,
    }
}
