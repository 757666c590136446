//! Collection pages read straight from the store's change feed.
//!
//! TAXII's "date added" is when this node stored a version: the store's
//! arrival time ([`Change::stored_at`]), never the report's `modified`, so a
//! client polling with `added_after` also gets a version that arrived late
//! with an old `modified`. The feed is in arrival order, which is TAXII's
//! order, so a page is read in order and stops once full: its cost grows with
//! the page, not with the collection.
//!
//! Which versions a page shows (`match[version]`) and whether an object was
//! deleted depend on the other versions of its report; [`KindIndex`] keeps,
//! per report, its first and current version counters and whether it is
//! deleted, caught up from the feed before each read. The index also keeps a
//! mark (arrival time, cursor) every [`MARK_EVERY`] changes, so `added_after`
//! and `next` start near their position instead of at the feed's start.
//!
//! Reads of named objects (`objects/{id}`, `versions`, `match[id]`) do not
//! scan the feed: the index also maps each STIX id to the reports holding
//! it and each report version to its place in the feed (sequence, arrival
//! time), so such a read fetches those reports' histories and pages over
//! them exactly as a scan would (a test compares the two).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use trilat_core::{Kind, Party, Policy, Report, ReportId, ReportKey};
use trilat_cyber::taxii::{self as tx, CollectionConfig, ObjectQuery};
use trilat_cyber::Entry;
use trilat_store::{Change, Cursor, ReportStore, StoreError, QUERY_LIMIT_MAX};

use crate::AppError;

/// Changes between two marks of [`KindIndex::marks`] (and the page size of
/// the catch-up reads).
const MARK_EVERY: usize = 100;
/// Most reports one index holds; past it, reads fail with a 500 naming it.
const INDEXED_REPORTS_MAX: usize = 2_000_000;
/// Most versions one index places in the feed (beside
/// [`INDEXED_REPORTS_MAX`]); past it, reads fail with a 500 naming it.
const INDEXED_VERSIONS_MAX: usize = 8_000_000;
/// Most `match[id]` values a read answers from the index; a query naming
/// more scans the feed.
const DIRECT_IDS_MAX: usize = 64;
/// Most changes one request reads from the feed (a page that has not filled
/// by then ends early with `more` and a `next` cursor).
const SCAN_CHANGES_MAX: usize = 200_000;

/// What the index knows of one report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReportState {
    /// Lowest version counter stored.
    first: u64,
    /// Highest version counter stored (the current version).
    current: u64,
    /// Deleted through TAXII: the current version is a Trilat revocation of
    /// an object that STIX itself does not say is revoked.
    deleted: bool,
}

/// One kind's reports in one store, as the feed has shown them so far.
#[derive(Default)]
pub(super) struct KindIndex {
    /// Where the next catch-up starts.
    after: Option<Cursor>,
    /// Shared with the reads in flight (copied on write only then).
    reports: Arc<HashMap<ReportKey, ReportState>>,
    /// (arrival time of the last change before `cursor`, ms; `cursor`),
    /// non-decreasing in time.
    marks: Vec<(i64, Cursor)>,
    /// STIX id → the reports holding that object (one per owner).
    reports_of_object: HashMap<String, Vec<ReportKey>>,
    /// Each report's versions, where they sit in the feed.
    places: HashMap<ReportKey, Vec<FeedPlace>>,
    /// Entries in all of `places`.
    n_places: usize,
}

/// Where one stored version sits in the feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FeedPlace {
    /// The report's version counter.
    counter: u64,
    /// Store sequence.
    seq: u64,
    /// Arrival time, ms.
    stored_at_ms: i64,
}

impl KindIndex {
    fn note(&mut self, change: &Change) -> Result<(), AppError> {
        let report = &change.report;
        let key = report.key();
        if !self.reports.contains_key(&key) && self.reports.len() >= INDEXED_REPORTS_MAX {
            return Err(AppError::internal(format!(
                "TAXII index: more than {INDEXED_REPORTS_MAX} reports of kind {}",
                report.kind
            )));
        }
        if self.n_places >= INDEXED_VERSIONS_MAX {
            return Err(AppError::internal(format!(
                "TAXII index: more than {INDEXED_VERSIONS_MAX} versions of kind {}",
                report.kind
            )));
        }
        let deleted = report.revoked && !stix_revoked(report);
        let state = Arc::make_mut(&mut self.reports)
            .entry(key.clone())
            .or_insert(ReportState {
                first: report.version,
                current: report.version,
                deleted,
            });
        state.first = state.first.min(report.version);
        if report.version >= state.current {
            state.current = report.version;
            state.deleted = deleted;
        }
        debug_assert!(state.first <= state.current);
        let places = self.places.entry(key.clone()).or_default();
        if places.is_empty() {
            if let Some(stix_id) = report.payload.get("stix_id").and_then(|v| v.as_str()) {
                let holders = self
                    .reports_of_object
                    .entry(stix_id.to_string())
                    .or_default();
                if !holders.contains(&key) {
                    holders.push(key.clone());
                }
            }
        }
        places.push(FeedPlace {
            counter: report.version,
            seq: change.seq,
            stored_at_ms: change.stored_at.unix_ms(),
        });
        self.n_places += 1;
        Ok(())
    }

    /// Reads the feed from `after` to its end.
    fn catch_up(&mut self, store: &dyn ReportStore, kind: &Kind) -> Result<(), AppError> {
        loop {
            let page = match store.changes_of_kind(kind, self.after.as_ref(), MARK_EVERY) {
                Ok(page) => page,
                // The cursor names another store (the node's store was
                // replaced under it): index that one from the start.
                Err(StoreError::BadCursor(_)) if self.after.is_some() => {
                    *self = KindIndex::default();
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for change in &page.changes {
                self.note(change)?;
            }
            if let Some(last) = page.changes.last() {
                self.marks.push((last.stored_at.unix_ms(), page.next));
            }
            self.after = Some(page.next);
            if !page.more {
                return Ok(());
            }
        }
    }

    /// A cursor after which every change arrived at or after `at_ms`.
    fn start_for(&self, at_ms: i64) -> Option<Cursor> {
        let idx = self.marks.partition_point(|(ms, _)| *ms < at_ms);
        idx.checked_sub(1).map(|idx| self.marks[idx].1)
    }
}

/// Whether a revoked report's STIX object says `revoked` itself (a STIX
/// revocation, still served) rather than being deleted through TAXII.
fn stix_revoked(report: &Report) -> bool {
    let Some(text) = report.payload.get("object").and_then(|o| o.as_str()) else {
        return false;
    };
    Entry::parse(text).is_ok_and(|entry| entry.object.common().revoked)
}

/// One node's indexes by kind (in its [`super::TaxiiState`]).
pub(super) type Indexes = Mutex<HashMap<String, KindIndex>>;

/// Runs `f` on the caught-up indexes of `kinds`.
fn with_indexes<T>(
    store: &dyn ReportStore,
    indexes: &Indexes,
    kinds: &[Kind],
    f: impl FnOnce(&HashMap<String, KindIndex>) -> T,
) -> Result<T, AppError> {
    let mut guard = indexes.lock().unwrap_or_else(|p| p.into_inner());
    for kind in kinds {
        let index = guard.entry(kind.as_str().to_string()).or_default();
        index.catch_up(store, kind)?;
    }
    Ok(f(&guard))
}

/// One object version on a page.
pub(super) struct Held {
    pub id: String,
    pub type_name: String,
    pub version: String,
    pub date_added_ms: i64,
    pub object: String,
    /// Its place in the feed.
    pub seq: u64,
    /// The report holding it.
    pub report_id: ReportId,
    /// The report version holding it (its counter).
    pub report_version: u64,
    /// The report's owner.
    pub owner: Party,
}

impl Held {
    /// The report holding it: owner and id.
    pub fn report(&self) -> ReportKey {
        ReportKey::new(self.owner.clone(), self.report_id)
    }

    fn cursor(&self) -> String {
        tx::Cursor {
            date_added_ms: self.date_added_ms,
            id: self.id.clone(),
            version: self.version.clone(),
            seq: self.seq,
        }
        .encode()
    }
}

/// One page: versions in arrival order, and the `next` cursor when more
/// may follow.
pub(super) struct FeedPage {
    pub held: Vec<Held>,
    pub more: bool,
    pub next: Option<String>,
}

impl FeedPage {
    pub fn date_added_first(&self) -> Option<String> {
        self.held
            .first()
            .map(|h| tx::taxii_timestamp(h.date_added_ms))
    }

    pub fn date_added_last(&self) -> Option<String> {
        self.held
            .last()
            .map(|h| tx::taxii_timestamp(h.date_added_ms))
    }

    pub fn envelope(&self) -> String {
        tx::write_envelope(
            self.more,
            self.next.as_deref(),
            self.held.iter().map(|h| h.object.as_str()),
        )
    }

    pub fn manifest(&self) -> tx::Manifest {
        tx::Manifest {
            more: self.more,
            next: self.next.clone(),
            objects: self
                .held
                .iter()
                .map(|h| tx::ManifestRecord {
                    id: h.id.clone(),
                    date_added: tx::taxii_timestamp(h.date_added_ms),
                    version: h.version.clone(),
                    media_type: tx::MEDIA_TYPE_STIX.to_string(),
                })
                .collect(),
        }
    }
}

/// Who reads which collection.
pub(super) struct Reader<'a> {
    pub policy: &'a Policy,
    pub party: &'a Party,
    pub collection: &'a CollectionConfig,
}

/// Reads one page of `collection` for `reader`: the versions `query`
/// selects, that the collection admits and the release rule lets the reader
/// have, oldest arrival first. Blocking (call it off the async runtime).
pub(super) fn read_page(
    store: &dyn ReportStore,
    indexes: &Indexes,
    reader: &Reader<'_>,
    query: &ObjectQuery,
) -> Result<FeedPage, AppError> {
    let kinds: Vec<Kind> = reader
        .collection
        .kinds
        .iter()
        .filter_map(|k| Kind::new(k).ok())
        .collect();
    if !query.ids.is_empty() && query.ids.len() <= DIRECT_IDS_MAX {
        if let Some(page) = read_named(store, indexes, &kinds, reader, query)? {
            return Ok(page);
        }
    }
    read_scanning(store, indexes, &kinds, reader, query)
}

/// [`read_page`] by reading the feed from the query's start.
fn read_scanning(
    store: &dyn ReportStore,
    indexes: &Indexes,
    kinds: &[Kind],
    reader: &Reader<'_>,
    query: &ObjectQuery,
) -> Result<FeedPage, AppError> {
    let (states, start) = with_indexes(store, indexes, kinds, |indexes| {
        // The start position comes from the marks of a single-kind
        // collection (marks of one kind do not bound the others' times).
        let start_ms = match (&query.next, query.added_after_ms) {
            (Some(next), _) => Some(next.date_added_ms),
            (None, Some(after)) => Some(after.saturating_add(1)),
            (None, None) => None,
        };
        let start = match (kinds, start_ms) {
            ([kind], Some(ms)) => indexes
                .get(kind.as_str())
                .and_then(|index| index.start_for(ms)),
            _ => None,
        };
        let states: Vec<Arc<HashMap<ReportKey, ReportState>>> = kinds
            .iter()
            .filter_map(|kind| indexes.get(kind.as_str()))
            .map(|index| Arc::clone(&index.reports))
            .collect();
        (states, start)
    })?;
    scan(store, kinds, reader, query, &states, start)
}

/// [`read_page`] for a query naming its objects: the named objects' reports
/// and their versions' places from the index, the versions from the
/// reports' histories, then the same selection and paging as [`scan`].
/// `None` when a report's history is too long to read at once (the caller
/// scans instead).
fn read_named(
    store: &dyn ReportStore,
    indexes: &Indexes,
    kinds: &[Kind],
    reader: &Reader<'_>,
    query: &ObjectQuery,
) -> Result<Option<FeedPage>, AppError> {
    let (states, named) = with_indexes(store, indexes, kinds, |indexes| {
        let mut states = Vec::new();
        let mut named: Vec<(ReportKey, Vec<FeedPlace>)> = Vec::new();
        for kind in kinds {
            let Some(index) = indexes.get(kind.as_str()) else {
                continue;
            };
            states.push(Arc::clone(&index.reports));
            for stix_id in &query.ids {
                for report in index.reports_of_object.get(stix_id).into_iter().flatten() {
                    let places = index.places.get(report).cloned().unwrap_or_default();
                    named.push((report.clone(), places));
                }
            }
        }
        (states, named)
    })?;
    let mut changes = Vec::new();
    let mut withdrawals = HashMap::new();
    for (report_key, places) in named {
        let history = match store.history(&report_key) {
            Ok(history) => history,
            Err(StoreError::LimitExceeded { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        for report in history {
            // A version stored since the catch-up has no place yet: it
            // shows on the next read, as with a scan.
            if let Some(place) = places.iter().find(|p| p.counter == report.version) {
                changes.push(Change {
                    seq: place.seq,
                    stored_at: trilat_core::Timestamp::from_unix_ms(place.stored_at_ms),
                    report,
                });
            }
        }
    }
    changes.sort_by_key(|change| change.seq);
    let skip_through = query.next.as_ref().map_or(0, |c| c.seq);
    let mut held: Vec<Held> = Vec::new();
    for change in changes {
        if change.seq <= skip_through || withdrawn(store, &mut withdrawals, &change.report)? {
            continue;
        }
        if let Some(h) = admit(change, reader, query, &states) {
            held.push(h);
            if held.len() > query.limit {
                held.pop();
                return Ok(Some(finish(held, true)));
            }
        }
    }
    Ok(Some(finish(held, false)))
}

fn scan(
    store: &dyn ReportStore,
    kinds: &[Kind],
    reader: &Reader<'_>,
    query: &ObjectQuery,
    states: &[Arc<HashMap<ReportKey, ReportState>>],
    start: Option<Cursor>,
) -> Result<FeedPage, AppError> {
    let mut after = start;
    let mut held: Vec<Held> = Vec::with_capacity(query.limit.min(QUERY_LIMIT_MAX) + 1);
    let mut n_scanned = 0usize;
    let skip_through = query.next.as_ref().map_or(0, |c| c.seq);
    let mut scanned_to = (0i64, 0u64);
    let mut withdrawals = HashMap::new();
    loop {
        let page = match kinds {
            [kind] => store.changes_of_kind(kind, after.as_ref(), QUERY_LIMIT_MAX)?,
            _ => store.changes(after.as_ref(), QUERY_LIMIT_MAX)?,
        };
        n_scanned += page.changes.len();
        for change in page.changes {
            scanned_to = (change.stored_at.unix_ms(), change.seq);
            if change.seq <= skip_through
                || !kinds.contains(&change.report.kind)
                || withdrawn(store, &mut withdrawals, &change.report)?
            {
                continue;
            }
            if let Some(h) = admit(change, reader, query, states) {
                held.push(h);
                if held.len() > query.limit {
                    // One past the page says that more follow.
                    held.pop();
                    return Ok(finish(held, true));
                }
            }
        }
        after = Some(page.next);
        if !page.more {
            return Ok(finish(held, false));
        }
        if n_scanned >= SCAN_CHANGES_MAX {
            // Give the client what we have; `next` resumes after the scan.
            return Ok(finish_early(held, scanned_to));
        }
    }
}

/// Whether the owner withdrew `report` from this node (a later version
/// narrowed its marking away from it): withdrawn versions leave TAXII as
/// they leave every default view. `seen` keeps each report's answer for
/// the rest of the read (one store lookup per report, not per version).
fn withdrawn(
    store: &dyn ReportStore,
    seen: &mut HashMap<ReportKey, Option<u64>>,
    report: &Report,
) -> Result<bool, AppError> {
    let version = match seen.get(&report.key()) {
        Some(version) => *version,
        None => {
            let version = store.withdrawal(&report.key())?.map(|w| w.version);
            seen.insert(report.key(), version);
            version
        }
    };
    Ok(version.is_some_and(|version| version > report.version))
}

fn finish(held: Vec<Held>, more: bool) -> FeedPage {
    let next = if more {
        held.last().map(Held::cursor)
    } else {
        None
    };
    debug_assert!(!more || next.is_some());
    FeedPage { held, more, next }
}

/// A page cut short by [`SCAN_CHANGES_MAX`]: `next` resumes after the last
/// change read, returned or not (TAXII allows short pages).
fn finish_early(held: Vec<Held>, (stored_at_ms, seq): (i64, u64)) -> FeedPage {
    debug_assert!(seq > 0);
    let next = tx::Cursor {
        date_added_ms: stored_at_ms,
        id: String::new(),
        version: String::new(),
        seq,
    }
    .encode();
    FeedPage {
        held,
        more: true,
        next: Some(next),
    }
}

/// The version a change holds, when `query` selects it for this reader.
fn admit(
    change: Change,
    reader: &Reader<'_>,
    query: &ObjectQuery,
    states: &[Arc<HashMap<ReportKey, ReportState>>],
) -> Option<Held> {
    let report = &change.report;
    let date_added_ms = change.stored_at.unix_ms();
    if query
        .added_after_ms
        .is_some_and(|after| date_added_ms <= after)
    {
        return None;
    }
    // A change newer than the index (stored since the catch-up) counts as
    // current; it shows on the next read at the latest.
    let known = states.iter().find_map(|s| s.get(&report.key())).copied();
    let state = known.unwrap_or(ReportState {
        first: report.version,
        current: report.version,
        deleted: report.revoked && !stix_revoked(report),
    });
    if state.deleted {
        return None;
    }
    let versions = &query.versions;
    let by_counter = versions.all
        || (versions.first && report.version == state.first)
        || (versions.last && report.version >= state.current);
    if !by_counter && versions.exact.is_empty() {
        return None;
    }
    let visible = reader.collection.visible_to(
        reader.policy,
        reader.party,
        &report.owner,
        &report.kind,
        &report.marking,
    ) && reader.policy.release(report, reader.party).is_ok();
    if !visible {
        return None;
    }
    let held = held(change.seq, date_added_ms, change.report)?;
    let wanted = (query.ids.is_empty() || query.ids.contains(&held.id))
        && (query.types.is_empty() || query.types.contains(&held.type_name))
        && (query.spec_versions.is_empty() || query.spec_versions.iter().any(|v| v == "2.1"))
        && (by_counter || versions.exact.contains(&held.version));
    wanted.then_some(held)
}

/// The STIX object of a `cyber.stix` report version, taking its payload
/// apart without copying the object's text.
fn held(seq: u64, date_added_ms: i64, report: Report) -> Option<Held> {
    let serde_json::Value::Object(mut payload) = report.payload else {
        return None;
    };
    let mut take = |name: &str| match payload.remove(name) {
        Some(serde_json::Value::String(text)) => Some(text),
        _ => None,
    };
    let id = take("stix_id")?;
    let type_name = take("stix_type")?;
    let object = take("object")?;
    let version =
        take("stix_modified").unwrap_or_else(|| tx::taxii_timestamp(report.created_at.unix_ms()));
    Some(Held {
        id,
        type_name,
        version,
        date_added_ms,
        object,
        seq,
        report_id: report.id,
        report_version: report.version,
        owner: report.owner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilat_core::{Marking, NodeKey, Timestamp, Tlp};
    use trilat_store::{AuditAction, AuditEvent, MemoryStore};

    fn tool(idx: usize, version: usize) -> String {
        format!(
            r#"{{"type":"tool","spec_version":"2.1","id":"tool--11111111-1111-4111-8111-{idx:012x}","created":"2024-01-01T00:00:00.000Z","modified":"2024-0{}-01T00:00:00.000Z","name":"tool {idx}"}}"#,
            version + 1
        )
    }

    /// Drafts of 12 objects with 1 to 3 versions, as `owner` imports them.
    fn drafts(owner: &str, marking: &Marking) -> Vec<trilat_core::ReportDraft> {
        let objects: Vec<String> = (0..12)
            .flat_map(|idx| (0..=idx % 3).map(move |version| tool(idx, version)))
            .collect();
        let bundle = trilat_cyber::write_bundle(
            "bundle--5e2a3f1c-8a0d-4f5a-9c1e-2b7d8e9f0a1b",
            objects.iter().map(String::as_str),
        );
        let parsed = trilat_cyber::parse_bundle(&bundle, |_, _| {}).unwrap();
        let outcome = trilat_cyber::import_bundle(
            &parsed,
            &Party::new(owner).unwrap(),
            marking,
            Timestamp::from_unix_ms(0),
        );
        assert!(outcome.rejected.is_empty());
        outcome.drafts
    }

    #[test]
    fn reads_by_id_equal_a_scan_of_the_feed() {
        let store: Arc<dyn ReportStore> = Arc::new(MemoryStore::new());
        let trilat = Marking::new("UNCLASSIFIED", Tlp::Green, ["TRILAT"]);
        let usa_jpn = Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN"]);
        // USA's and JPN's copies of the same objects (JPN's for USA and JPN
        // only), stored in an interleaved order, a few at a time.
        let (usa_key, jpn_key) = (NodeKey::generate(), NodeKey::generate());
        let mut reports: Vec<Report> = Vec::new();
        for (usa, jpn) in drafts("USA", &trilat)
            .into_iter()
            .zip(drafts("JPN", &usa_jpn))
        {
            reports.push(usa.sign(&usa_key).unwrap());
            reports.push(jpn.sign(&jpn_key).unwrap());
        }
        reports.sort_by_key(|r| (r.version, r.id));
        for report in &reports {
            let event = AuditEvent::new(Timestamp::from_unix_ms(0), "test", AuditAction::Receive)
                .report(report.key());
            store.put(report, event).unwrap();
        }
        let policy = Policy::trilateral_default();
        let indexes = Indexes::default();
        let collection: CollectionConfig = serde_json::from_value(serde_json::json!({
            "id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "api_root": "trilat", "title": "t"
        }))
        .unwrap();
        let id = |idx: usize| format!("tool--11111111-1111-4111-8111-{idx:012x}");
        let mut n_compared = 0;
        for party in ["KOR", "JPN"] {
            let party = Party::new(party).unwrap();
            let reader = Reader {
                policy: &policy,
                party: &party,
                collection: &collection,
            };
            let kinds = vec![Kind::new("cyber.stix").unwrap()];
            for ids in [vec![id(2)], vec![id(4), id(5)], vec![id(99)], vec![id(0)]] {
                for (versions, limit) in [("all", 1), ("all", 100), ("first", 100), ("last", 2)] {
                    let mut query = ObjectQuery::parse([
                        ("match[version]", versions),
                        ("limit", &limit.to_string()),
                    ])
                    .unwrap();
                    query.ids = ids.clone();
                    // Follow `next` to the end on both paths.
                    loop {
                        let named = read_named(store.as_ref(), &indexes, &kinds, &reader, &query)
                            .unwrap()
                            .unwrap();
                        let scanned =
                            read_scanning(store.as_ref(), &indexes, &kinds, &reader, &query)
                                .unwrap();
                        let seen = |page: &FeedPage| {
                            let held: Vec<_> = page
                                .held
                                .iter()
                                .map(|h| (h.id.clone(), h.version.clone(), h.seq, h.date_added_ms))
                                .collect();
                            (held, page.more, page.next.clone())
                        };
                        assert_eq!(seen(&named), seen(&scanned), "{party} {ids:?} {versions}");
                        n_compared += 1;
                        let Some(next) = &named.next else { break };
                        query.next = Some(tx::Cursor::decode(next).unwrap());
                    }
                }
            }
        }
        // Paging really happened, and JPN sees both copies of an object
        // while KOR sees only USA's.
        assert!(n_compared > 40, "{n_compared}");
        let jpn = Party::new("JPN").unwrap();
        let kor = Party::new("KOR").unwrap();
        let count = |party: &Party| {
            let reader = Reader {
                policy: &policy,
                party,
                collection: &collection,
            };
            let mut query = ObjectQuery::parse([("match[version]", "all")]).unwrap();
            query.ids = vec![id(2)];
            read_page(store.as_ref(), &indexes, &reader, &query)
                .unwrap()
                .held
                .len()
        };
        assert_eq!((count(&jpn), count(&kor)), (6, 3));
    }
}
