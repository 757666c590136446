//! Candidates: query keys, the waves of lookups and the bounded candidate set.

use super::*;

/// The keys through which `token` equals another token up to romanisation: its key (exact
/// level), its Korean key, its surname class and its consonant skeleton (near level). Edit
/// distance goes through the vocabulary ([`deletion_keys`]).
///
/// Skeletons match only when one of the two tokens is written in Arabic script, so they are
/// filed under two tags, by the script of the indexed token: a query token in Arabic script
/// looks both up, any other only the Arabic one (a Latin query never reads the long lists of
/// Latin skeletons).
pub(super) fn token_keys(
    token: &Token,
    side: Side,
    abjad_present: Option<&AbjadKeys>,
    push: &mut dyn FnMut(u64, u8),
) {
    push(key_hash(TAG_KEY, token.key.as_bytes()), LEVEL_EXACT);
    push(key_hash(TAG_KOREAN, token.korean.as_bytes()), LEVEL_NEAR);
    if let Some(class) = token.surname_class {
        push(key_hash(TAG_CLASS, &class.to_le_bytes()), LEVEL_NEAR);
    }
    let tags = (TAG_SKELETON_ABJAD, TAG_SKELETON_OTHER);
    skeleton_keys(token, side, tags, abjad_present, &mut |hash| {
        push(hash, LEVEL_NEAR)
    });
    spelling_keys(token, side, &mut |hash| push(hash, LEVEL_NEAR));
    initial_keys(token, side, &mut |hash| push(hash, LEVEL_FAR));
    // Words with one vowel pattern (`matcher::token_similarity`), legal forms apart.
    if token.vowels != 0 && !token.legal_form {
        push(
            key_hash(TAG_VOWELS, &token.vowels.to_le_bytes()),
            LEVEL_NEAR,
        );
    }
}

/// The keys through which an initial meets a word of a person's name beginning with its letter
/// (`matcher::initial_of`, at a similarity within the far level): an indexed initial is filed
/// under its letter, an indexed word under its first letter (another tag); a query initial
/// looks the words up, a query word the initials.
pub(super) fn initial_keys(token: &Token, side: Side, push: &mut dyn FnMut(u64)) {
    let tag = match (side, token.initial, token.person) {
        (Side::Index, true, _) | (Side::Query, false, true) => TAG_INITIAL,
        (Side::Index, false, true) | (Side::Query, true, _) => TAG_INITIAL_WORD,
        (_, false, false) => return,
    };
    debug_assert!(!token.text.is_empty());
    push(key_hash(tag, &token.text.as_bytes()[..1]));
}

/// The keys of a transcribed word's spellings (`crate::transcription`): filed with the
/// skeletons of words in Arabic script, which every query word's skeleton looks up, and looked
/// up where the other words' skeletons are filed (`matcher::transcribed` compares a transcribed
/// word with those only).
pub(super) fn spelling_keys(token: &Token, side: Side, push: &mut dyn FnMut(u64)) {
    let Some(spellings) = &token.spellings else {
        return;
    };
    let tag = match side {
        Side::Index => TAG_SKELETON_ABJAD,
        Side::Query => TAG_SKELETON_OTHER,
    };
    for skeleton in spellings.hashes() {
        push(key_hash(tag, &skeleton.to_le_bytes()));
    }
}

/// The keys of `token`'s consonant skeleton under `tags` (for a token in Arabic script, for
/// another): on the index side the one its script says, on the query side the Arabic one and,
/// for a query token in Arabic script, the other too (skeletons meet only when one of the two
/// is in Arabic script: `matcher::same_skeleton`). `abjad_present`, when given, holds every
/// Arabic-script key the index has: a query key not in it is not looked up (a Latin query then
/// costs no probe of the key table for skeletons of which the lists have none).
pub(super) fn skeleton_keys(
    token: &Token,
    side: Side,
    tags: (u8, u8),
    abjad_present: Option<&AbjadKeys>,
    push: &mut dyn FnMut(u64),
) {
    if token.skeleton == 0 {
        return;
    }
    let skeleton = token.skeleton.to_le_bytes();
    let (tag_abjad, tag_other) = tags;
    match (side, token.abjad) {
        (Side::Index, true) | (Side::Query, _) => {
            let hash = key_hash(tag_abjad, &skeleton);
            if abjad_present.is_none_or(|present| present.contains(&hash)) {
                push(hash);
            }
        }
        (Side::Index, false) => push(key_hash(tag_other, &skeleton)),
    }
    if side == Side::Query && token.abjad {
        push(key_hash(tag_other, &skeleton));
    }
}

/// True when `join` (adjacent tokens together) merges with a token by consonant skeleton
/// (`matcher::join_matches`): it has a word in Arabic script and a skeleton long enough.
pub(crate) fn merges_by_skeleton(join: &Token) -> bool {
    join.abjad && join.skeleton != 0 && join.skeleton_len >= crate::abjad::JOIN_SKELETON_LEN_MIN
}

/// The key through which a join of a name merges by skeleton with a token (or merged token)
/// of the query: filed for the joins that merge so ([`merges_by_skeleton`]), looked up for
/// every query token and join of that length (when the index has it: `abjad_present`).
pub(super) fn join_skeleton_key(
    token: &Token,
    side: Side,
    abjad_present: Option<&AbjadKeys>,
    push: &mut dyn FnMut(u64),
) {
    let filed = match side {
        Side::Index => merges_by_skeleton(token),
        Side::Query => {
            token.skeleton != 0 && token.skeleton_len >= crate::abjad::JOIN_SKELETON_LEN_MIN
        }
    };
    if filed {
        let hash = key_hash(TAG_JOIN_SKELETON, &token.skeleton.to_le_bytes());
        if abjad_present.is_none_or(|present| present.contains(&hash)) {
            push(hash);
        }
    }
}

/// Every key through which two Korean readings' given names can match (`matcher::korean_parts`:
/// written form, phonetic key, syllable classes, one edit on the phonetic key).
pub(super) fn given_keys(korean: &KoreanName, push: &mut dyn FnMut(u64)) {
    let mut classes = Vec::with_capacity(32);
    for (i, class) in korean.given_classes.iter().enumerate() {
        if i > 0 {
            classes.push(0);
        }
        classes.extend_from_slice(class.as_bytes());
    }
    push(key_hash(TAG_GIVEN_CLASSES, &classes));
    push(key_hash(TAG_GIVEN_JOINED, korean.given_joined.as_bytes()));
    let key = korean.given_key.as_bytes();
    if (4..=DELETION_KEY_LEN_MAX).contains(&key.len()) {
        deletions(key, false, &mut |variant, _| {
            push(key_hash(TAG_GIVEN_KEY, variant))
        });
    } else {
        push(key_hash(TAG_GIVEN_KEY, key));
    }
}

/// Calls `found` for every element of `small` (sorted) that is in `list` (sorted), galloping
/// through `list`: cost grows with `small.len() * log(list.len())`, not with the list.
pub(super) fn intersect(list: &[u32], small: &[u32], mut found: impl FnMut(u32)) {
    debug_assert!(small.windows(2).all(|w| w[0] <= w[1]));
    let mut rest = list;
    for &name_pos in small {
        // Gallop: find a step past `name_pos`, then binary search within it.
        let mut step = 1;
        while step < rest.len() && rest[step - 1] < name_pos {
            step *= 2;
        }
        let window = &rest[..step.min(rest.len())];
        let at = window.partition_point(|&p| p < name_pos);
        rest = &rest[at..];
        match rest.first() {
            Some(&p) if p == name_pos => found(name_pos),
            Some(_) => {}
            None => return,
        }
    }
}

/// Per-thread accumulator, reused across queries: per name the query units and flags its
/// keys matched, and the names touched (so a query costs what it touches).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per name, its entry in `touched` (`SLOT_NONE` when untouched): 4 bytes per name
    /// touched at random, the rest kept together in the order names are touched.
    pub(super) slot_of: Vec<u32>,
    pub(super) touched: Vec<Touched>,
    /// (key hash, units, level, flags) of the query.
    pub(super) keys: Vec<QueryKey>,
    /// Touched names whose bound reaches the threshold if they match the skipped units.
    pub(super) provisional: Vec<u32>,
    /// The query's deletion variants (hash, unit).
    pub(super) variants: Vec<(u64, u8)>,
    /// Their vocabulary id lists (non-empty ones).
    pub(super) variant_ranges: Vec<(KeyRange, u8)>,
    /// The bound's per-query buffers.
    pub(super) units: UnitsBuffers,
    /// Vocabulary ids found for the query's units, `unit << 32 | id`: sorted as one integer,
    /// not as pairs compared field by field (docs/bench/sanctions.md, "Measurements behind
    /// the code").
    pub(super) vocabulary_found: Vec<u64>,
    /// One bit per name, set for the provisional names while the skipped lists are read
    /// (6.5 KB for 52,000 names: a list is scanned against it from L1).
    pub(super) provisional_bits: Vec<u64>,
}

/// A skipped list is scanned (each entry tested against the provisional names' bits) when it
/// has at most this many entries per provisional name, else galloped through: 8 was as fast
/// as 16 with fewer entries scanned (docs/bench/sanctions.md, "Measurements behind the
/// code").
pub(super) const SCAN_PER_PROVISIONAL_MAX: usize = 8;

/// An untouched name's slot.
pub(super) const SLOT_NONE: u32 = u32::MAX;

/// A name touched by the query: the units its keys matched at each level, and flags.
#[derive(Debug, Clone, Copy)]
pub(super) struct Touched {
    pub(super) name_pos: u32,
    pub(super) flags: u8,
    pub(super) units: [u128; 3],
    /// Query units that may merge into a token equal to one of the name's.
    pub(super) merge_units: u128,
    /// Query units that a run of the name's adjacent tokens may spell (merged, the run meets
    /// only such a unit: `matcher::generic`).
    pub(super) run_units: u128,
}

impl Scratch {
    pub(super) fn prepare(&mut self, names_n: usize) {
        self.reset();
        if self.slot_of.len() < names_n {
            self.slot_of.resize(names_n, SLOT_NONE);
        }
        if self.provisional_bits.len() < names_n.div_ceil(64) {
            self.provisional_bits.resize(names_n.div_ceil(64), 0);
        }
        debug_assert!(self.provisional_bits.iter().all(|&word| word == 0));
        self.keys.clear();
    }

    pub(super) fn reset(&mut self) {
        for entry in &self.touched {
            self.slot_of[entry.name_pos as usize] = SLOT_NONE;
        }
        self.touched.clear();
    }
}

impl Index {
    /// Builds the index over analysed names (annotated with `rarity`'s weights, which the
    /// bounds use) and their entities' identifiers (`(value, name position)`).
    pub fn new<'a>(
        names: &[&'a NameForms],
        identifiers: impl Iterator<Item = (&'a str, u32)>,
        rarity: &Rarity,
    ) -> crate::error::Result<Index> {
        // (key, name, weight of the token that has the key; 0 for other keys)
        let mut entries: Vec<(u64, u32, f64)> = Vec::new();
        let mut vocabulary = Vocabulary {
            entries: Vec::new(),
            long_keys: String::new(),
            variants: KeyTable::with_keys(0),
            ids: Vec::new(),
        };
        let mut vocabulary_ids: HashMap<&str, u32, foldhash::fast::RandomState> =
            HashMap::default();
        let mut forms_first = Vec::with_capacity(names.len());
        let mut forms_more = Vec::new();
        let mut abjad_keys = AbjadKeys::default();
        for (name_pos, name) in names.iter().enumerate() {
            let name_pos = name_pos as u32;
            if name_pos >= MERGE_BIT {
                return Err(crate::error::Error::new(
                    crate::error::ErrorKind::LimitExceeded,
                    "lists",
                    format!("more than {MERGE_BIT} names"),
                ));
            }
            let more_start = forms_more.len();
            for (form_idx, form) in name.forms.iter().enumerate() {
                for token in &form.tokens {
                    let weight = rarity.weight(token);
                    token_keys(token, Side::Index, None, &mut |hash, _| {
                        entries.push((hash, name_pos, weight))
                    });
                    if token.abjad {
                        let tags = (TAG_SKELETON_ABJAD, TAG_SKELETON_OTHER);
                        skeleton_keys(token, Side::Index, tags, None, &mut |hash| {
                            abjad_keys.insert(hash);
                        });
                    }
                    spelling_keys(token, Side::Index, &mut |hash| {
                        abjad_keys.insert(hash);
                    });
                    if !vocabulary_ids.contains_key(token.key.as_str()) {
                        vocabulary_ids.insert(&token.key, vocabulary.entries.len() as u32);
                        vocabulary.push(&token.key, token.key_letters);
                    }
                }
                for join in &form.joins {
                    // The join's weight: a merged run's partner in the bound of a name that
                    // may merge (`Units::bound_name_runs`).
                    let weight = rarity.weight(&join.token);
                    entries.push((
                        key_hash(TAG_JOIN, join.token.korean.as_bytes()),
                        name_pos,
                        weight,
                    ));
                    join_skeleton_key(&join.token, Side::Index, None, &mut |hash| {
                        entries.push((hash, name_pos, weight));
                        abjad_keys.insert(hash);
                    });
                }
                for korean in &form.korean {
                    given_keys(korean, &mut |hash| entries.push((hash, name_pos, 0.0)));
                }
                let mut weights: Vec<f64> = form.tokens.iter().map(|t| rarity.weight(t)).collect();
                let weights = FormWeights::of(&mut weights);
                if form_idx == 0 {
                    forms_first.push(weights);
                } else {
                    forms_more.push(weights);
                }
            }
            if name.forms.is_empty() {
                forms_first.push(FormWeights::of(&mut []));
            }
            let first = forms_first.last_mut().expect("pushed above");
            first.more_start = more_start as u32;
            first.more_n = (forms_more.len() - more_start) as u8;
            assert_eq!(forms_first.len(), name_pos as usize + 1);
            if entries.len() > POSTINGS_MAX {
                return Err(crate::error::Error::new(
                    crate::error::ErrorKind::LimitExceeded,
                    "lists",
                    format!("more than {POSTINGS_MAX} retrieval keys"),
                ));
            }
        }
        for (value, name_pos) in identifiers {
            entries.push((key_hash(TAG_IDENTIFIER, value.as_bytes()), name_pos, 0.0));
        }
        entries.sort_unstable_by_key(|&(hash, name_pos, _)| (hash, name_pos));
        let keys_n = entries.chunk_by(|a, b| a.0 == b.0).count();
        if keys_n > KEYS_MAX {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::LimitExceeded,
                "lists",
                format!("more than {KEYS_MAX} retrieval keys"),
            ));
        }
        let mut keys = KeyTable::with_keys(keys_n);
        let mut postings = Vec::with_capacity(entries.len());
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            let start = postings.len() as u32;
            let mut weight_max: f64 = 0.0;
            for &(_, name_pos, weight) in group {
                weight_max = weight_max.max(weight);
                if postings.len() == start as usize || postings.last() != Some(&name_pos) {
                    postings.push(name_pos);
                }
            }
            keys.push(group[0].0, start, f32_up(weight_max));
        }
        keys.finish(postings.len() as u32);
        assert!(keys_n <= postings.len());
        let mut variants: Vec<(u64, u32)> = Vec::new();
        for (key, &v) in &vocabulary_ids {
            let names = keys.get(key_hash(TAG_KEY, key.as_bytes()));
            assert!(names.len > 0, "every vocabulary key is a name token's key");
            vocabulary.entries[v as usize].names = names;
            deletion_keys(key, Side::Index, &mut |hash| variants.push((hash, v)));
            if variants.len() > POSTINGS_MAX {
                return Err(crate::error::Error::new(
                    crate::error::ErrorKind::LimitExceeded,
                    "lists",
                    format!("more than {POSTINGS_MAX} vocabulary variants"),
                ));
            }
        }
        variants.sort_unstable();
        variants.dedup();
        let variants_n = variants.chunk_by(|a, b| a.0 == b.0).count();
        vocabulary.variants = KeyTable::with_keys(variants_n);
        vocabulary.ids = Vec::with_capacity(variants.len());
        for group in variants.chunk_by(|a, b| a.0 == b.0) {
            let start = vocabulary.ids.len() as u32;
            vocabulary.ids.extend(group.iter().map(|&(_, v)| v));
            vocabulary.variants.push(group[0].0, start, 0.0);
        }
        vocabulary.variants.finish(vocabulary.ids.len() as u32);
        let tokens_min = names
            .iter()
            .map(|name| {
                let shortest = name.forms.iter().map(|form| form.tokens.len()).min();
                shortest.unwrap_or(0) as u8
            })
            .collect();
        Ok(Index {
            keys,
            abjad_keys,
            postings,
            forms_first,
            forms_more,
            tokens_min,
            vocabulary,
        })
    }

    /// Posting entries held (memory: 4 bytes each, plus the key table).
    pub fn postings_len(&self) -> usize {
        self.postings.len() + self.vocabulary.ids.len()
    }

    pub(super) fn range(&self, hash: u64) -> KeyRange {
        self.keys.get(hash)
    }

    /// Starts loading the first line of `range`'s list (nothing when empty).
    pub(super) fn prefetch_list(&self, range: KeyRange) {
        if let Some(first) = self.postings.get(range.start as usize) {
            prefetch_read(first);
        }
    }

    pub(super) fn list(&self, range: KeyRange) -> &[u32] {
        &self.postings[range.start as usize..(range.start + range.len) as usize]
    }

    /// Pushes onto `out` every indexed name that can score `threshold_name` or more against
    /// `forms` (before attribute adjustments, which the caller has subtracted), in no
    /// particular order, with [`MERGE_BIT`] set when the name may merge tokens with the query.
    /// Returns `false`, pushing nothing, when the query is outside what the bound covers (a
    /// threshold at or below [`EXHAUSTIVE_THRESHOLD_MAX`], more than [`UNITS_MAX`] tokens):
    /// the caller scans every name.
    pub fn candidates(
        &self,
        (forms, identifiers): (&NameForms, &[&str]),
        rarity: &Rarity,
        threshold_name: f64,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) -> bool {
        if threshold_name <= EXHAUSTIVE_THRESHOLD_MAX {
            return false;
        }
        let buffers = std::mem::take(&mut scratch.units);
        let Some(mut units) = Units::of(forms, rarity, buffers) else {
            return false;
        };
        scratch.prepare(self.forms_first.len());
        query_keys(
            forms,
            identifiers,
            Some(&self.abjad_keys),
            &mut scratch.keys,
        );
        // Each lookup misses the cache: request every key's slots before reading any, so the
        // misses overlap.
        for key in scratch.keys.iter() {
            self.keys.prefetch(key.hash);
        }
        for key in scratch.keys.iter_mut() {
            key.range = self.range(key.hash);
        }
        self.similar_keys(forms, scratch);
        for key in scratch.keys.iter() {
            match key.flags {
                0 => units.add_partners(key),
                FLAG_MERGE_NAME => units.add_run_partners(key),
                _ => {}
            }
        }
        let skipped = skipped_units(&units, &scratch.keys, threshold_name);
        debug_assert!(units.untouched_bound(skipped) < threshold_name);
        let Scratch {
            slot_of,
            touched,
            keys,
            provisional,
            provisional_bits,
            ..
        } = scratch;
        // The lists start at random places in the postings: request each one's first line
        // before reading any (the hardware follows a list once it is being read).
        for key in keys.iter().filter(|key| !skipped.covers(key)) {
            self.prefetch_list(key.range);
        }
        for key in keys.iter().filter(|key| !skipped.covers(key)) {
            // A flag key's units are the ones that may merge, not matched ones: query units
            // whose run may equal a name token, or that a run of the name may spell.
            let units_if = |flags: u8| if key.flags == flags { key.units } else { 0 };
            let (matched, merging, runs) = (
                units_if(0),
                units_if(FLAG_MERGE_QUERY),
                units_if(FLAG_MERGE_NAME),
            );
            for &name_pos in self.list(key.range) {
                let slot = &mut slot_of[name_pos as usize];
                if *slot == SLOT_NONE {
                    // Bounded below, at random in 3 MB: start loading its weights now.
                    prefetch_read(&self.forms_first[name_pos as usize]);
                    *slot = touched.len() as u32;
                    touched.push(Touched {
                        name_pos,
                        flags: 0,
                        units: [0; 3],
                        merge_units: 0,
                        run_units: 0,
                    });
                }
                let entry = &mut touched[*slot as usize];
                entry.units[usize::from(key.level)] |= matched;
                entry.merge_units |= merging;
                entry.run_units |= runs;
                entry.flags |= key.flags;
            }
        }
        let from = out.len();
        // Names that could reach the threshold if they matched every skipped key.
        provisional.clear();
        for entry in touched.iter() {
            let matched = skipped.assumed(entry.units);
            let flags = entry.flags;
            let merges = flags & (FLAG_MERGE_NAME | FLAG_MERGE_QUERY) != 0;
            let both = FLAG_MERGE_QUERY | FLAG_JOINS_MEET;
            // Tokens merge only between forms of different lengths (`matcher::generic`): a
            // name whose every form is as long as every query form is bounded like any other.
            let merges = merges && self.lengths_differ(&units, entry.name_pos);
            let name_merges = merges && (flags & FLAG_MERGE_NAME != 0 || flags & both == both);
            let query_merges = flags & FLAG_MERGE_QUERY != 0;
            if flags & (FLAG_KOREAN | FLAG_IDENTIFIER) != 0 || (name_merges && query_merges) {
                out.push(entry.name_pos | if merges { MERGE_BIT } else { 0 });
                continue;
            }
            if name_merges {
                // Only the name's tokens can merge, each run into a query word it spells: the
                // bound from the query side, with those words matched (not refined on the
                // skipped lists: few names, most below the threshold here).
                debug_assert_eq!(flags & FLAG_MERGE_NAME, FLAG_MERGE_NAME);
                let bound = units.bound_name_runs(matched, entry.run_units);
                if bound + BOUND_SLACK >= threshold_name {
                    out.push(entry.name_pos | MERGE_BIT);
                }
                continue;
            }
            if merges {
                // Only the query's tokens can merge (into tokens equal to the name's): scored
                // when the bound with or without merges reaches the threshold.
                debug_assert_eq!(flags & FLAG_MERGE_QUERY, FLAG_MERGE_QUERY);
                let bound = self
                    .bound(&mut units, matched, entry.name_pos, threshold_name)
                    .max(self.merged_bound(&units, matched, entry.merge_units, entry.name_pos));
                if bound + BOUND_SLACK >= threshold_name {
                    // Refined below on the skipped lists, like any other name.
                    provisional.push(entry.name_pos);
                }
                continue;
            }
            // No merge: a name sharing only joins with the query is bounded like any other.
            let bound = self.bound(&mut units, matched, entry.name_pos, threshold_name);
            if bound + BOUND_SLACK >= threshold_name {
                provisional.push(entry.name_pos);
            }
        }
        // Only for those, look the skipped keys' lists up (galloping through each list), then
        // bound them on what they really match.
        if skipped != Skipped::default() && !provisional.is_empty() {
            for key in keys.iter().filter(|key| skipped.covers(key)) {
                self.prefetch_list(key.range);
            }
            let mut sorted = false;
            for &name_pos in provisional.iter() {
                provisional_bits[(name_pos / 64) as usize] |= 1u64 << (name_pos % 64);
            }
            for key in keys.iter().filter(|key| skipped.covers(key)) {
                let list = self.list(key.range);
                let level = usize::from(key.level);
                // A scan tests each entry against the bits (L1, predictable branches);
                // galloping takes a few unpredictable steps per provisional name: only
                // lists much longer than the provisional names are galloped through.
                if list.len() <= provisional.len() * SCAN_PER_PROVISIONAL_MAX {
                    for &name_pos in list {
                        let word = provisional_bits[(name_pos / 64) as usize];
                        if (word >> (name_pos % 64)) & 1 != 0 {
                            touched[slot_of[name_pos as usize] as usize].units[level] |= key.units;
                        }
                    }
                } else {
                    if !sorted {
                        provisional.sort_unstable();
                        sorted = true;
                    }
                    intersect(list, provisional, |name_pos| {
                        touched[slot_of[name_pos as usize] as usize].units[level] |= key.units;
                    });
                }
            }
            for &name_pos in provisional.iter() {
                provisional_bits[(name_pos / 64) as usize] = 0;
            }
        }
        for &name_pos in provisional.iter() {
            let entry = &touched[slot_of[name_pos as usize] as usize];
            let mut bound = self.bound(&mut units, entry.units, name_pos, threshold_name);
            let merges =
                entry.flags & FLAG_MERGE_QUERY != 0 && self.lengths_differ(&units, name_pos);
            if merges {
                let merge_units = entry.merge_units;
                let merged = self.merged_bound(&units, entry.units, merge_units, name_pos);
                bound = bound.max(merged);
            }
            if bound + BOUND_SLACK >= threshold_name {
                out.push(name_pos | if merges { MERGE_BIT } else { 0 });
            }
        }
        debug_assert!(out.len() - from <= touched.len());
        scratch.reset();
        scratch.units = units.into_buffers();
        true
    }

    /// Appends to `scratch.keys`, per query unit, the names lists of the vocabulary keys within
    /// the matcher's edit distance of the unit's key (not the key itself: its list is read
    /// at the exact level), at the level the distance allows.
    ///
    /// Every step reads memory at random (variant slots, id lists, vocabulary entries): each
    /// is requested for the whole query before any is read, so that the misses overlap.
    pub(super) fn similar_keys(&self, forms: &NameForms, scratch: &mut Scratch) {
        let Scratch {
            keys,
            vocabulary_found: found,
            variants,
            variant_ranges: ranges,
            ..
        } = scratch;
        let vocabulary = &self.vocabulary;
        let tokens: smallvec::SmallVec<[&Token; 32]> =
            forms.forms.iter().flat_map(|form| &form.tokens).collect();
        assert!(tokens.len() <= UNITS_MAX);
        variants.clear();
        for (unit, token) in tokens.iter().enumerate() {
            deletion_keys(&token.key, Side::Query, &mut |hash| {
                variants.push((hash, unit as u8))
            });
        }
        for &(hash, _) in variants.iter() {
            vocabulary.variants.prefetch(hash);
        }
        ranges.clear();
        let found_ranges = variants
            .iter()
            .map(|&(hash, unit)| (vocabulary.variants.get(hash), unit))
            .filter(|(range, _)| range.len > 0);
        ranges.extend(found_ranges);
        for (range, _) in ranges.iter() {
            prefetch_read(&vocabulary.ids[range.start as usize]);
        }
        found.clear();
        for &(range, unit) in ranges.iter() {
            let ids = &vocabulary.ids[range.start as usize..][..range.len as usize];
            found.extend(ids.iter().map(|&v| u64::from(unit) << 32 | u64::from(v)));
        }
        found.sort_unstable();
        found.dedup();
        for &packed in found.iter() {
            prefetch_read(&vocabulary.entries[packed as u32 as usize]);
        }
        for &packed in found.iter() {
            let (unit, v) = ((packed >> 32) as u8, packed as u32);
            let token = tokens[usize::from(unit)];
            let entry = &vocabulary.entries[v as usize];
            let indexed = vocabulary.key(entry);
            if indexed == token.key.as_bytes() {
                continue;
            }
            let letters = (token.key_letters, entry.letters);
            if let Some(level) = edit_level(token.key.as_bytes(), indexed, letters) {
                keys.push(QueryKey {
                    hash: 0,
                    units: 1u128 << unit,
                    level,
                    flags: 0,
                    range: entry.names,
                });
            }
        }
    }

    /// Upper bound of the generic score of name `name_pos` when the query units `matched[l]`
    /// may have a token in it similar up to `LEVEL_SIMILARITY_MAX[l]` (see the module docs);
    /// at least the Korean surname-only bound. When the query side alone caps it below
    /// `threshold_name` ([`Units::cap`]), that cap, without reading the name's weights.
    pub(super) fn bound(
        &self,
        units: &mut Units,
        matched: [u128; 3],
        name_pos: u32,
        threshold_name: f64,
    ) -> f64 {
        let (terms, cap) = units.terms(matched);
        if cap.any + BOUND_SLACK < threshold_name {
            return cap.any;
        }
        // The query's unmatched words weigh less only against a name every token of which
        // matched: not one with more tokens than any query form matched.
        let covered_possible = self.tokens_min[name_pos as usize] <= cap.covered_units_max;
        if cap.partial + BOUND_SLACK < threshold_name && !covered_possible {
            return cap.partial;
        }
        let first = &self.forms_first[name_pos as usize];
        let more = &self.forms_more[first.more_start as usize..][..usize::from(first.more_n)];
        let mut best = KOREAN_SURNAME_ONLY_MAX;
        for form_terms in terms.iter().flatten() {
            let total = form_terms.total;
            for form in std::iter::once(first).chain(more) {
                let taken = form_terms.k.min(form.tokens_n);
                let name_matched = if taken == 0 {
                    0.0
                } else {
                    let heaviest = f64::from(form.prefix[usize::from(taken) - 1]);
                    heaviest.min(form_terms.partners)
                };
                let name_total = name_total(form.total, name_matched, form_terms.covers_form);
                let bound = (form_terms.query_matched + form_terms.similarity_max * name_matched)
                    / (total + name_total);
                best = best.max(bound);
                if form.tokens_n <= form_terms.k {
                    // Every token of the name may match: the query's other words weigh less.
                    let weights = (total, form_terms.matched_weight);
                    let sims = (form_terms.query_matched, form_terms.similarity_max);
                    best = best.max(bound_name_covered(sims.0, sims.1, weights, form.total));
                }
            }
        }
        best.min(1.0)
    }
}

impl Index {
    /// True when some form of name `name_pos` has another number of tokens than some query
    /// form: only then can tokens of either side merge (`matcher::generic` merges only
    /// between forms of different lengths).
    pub(super) fn lengths_differ(&self, units: &Units, name_pos: u32) -> bool {
        let first = &self.forms_first[name_pos as usize];
        let more = &self.forms_more[first.more_start as usize..][..usize::from(first.more_n)];
        units.forms.iter().any(|&(bits, _)| {
            let query_len = bits.count_ones();
            std::iter::once(first)
                .chain(more)
                .any(|form| u32::from(form.tokens_n) != query_len)
        })
    }

    /// Upper bound of the generic score of name `name_pos` when adjacent query tokens may
    /// merge into tokens equal to the name's (and the name's tokens do not merge): `matched`
    /// as for [`Index::bound`], `merge_units` the query units of the joins that may merge.
    ///
    /// Per pair of forms the score is `N / (Q' + C)`: `Q'` the merged query form's weight,
    /// `C` the name form's, `N` what matched pairs add (similarity at most 1). Units outside
    /// `P` (matched or merging units) stay unmatched whatever merges (their weight `R`); the
    /// rest weighs `W'` after merging, at most their weight plus every join within `P`; the
    /// name side adds at most its `|P|` heaviest tokens (`M`, one per matched query token).
    /// So the score is at most `(W' + M) / (R + W' + C)`, which grows with `W'` (`M <= C`).
    pub(super) fn merged_bound(
        &self,
        units: &Units,
        matched: [u128; 3],
        merge_units: u128,
        name_pos: u32,
    ) -> f64 {
        let first = &self.forms_first[name_pos as usize];
        let more = &self.forms_more[first.more_start as usize..][..usize::from(first.more_n)];
        let possible = matched[0] | matched[1] | matched[2] | merge_units;
        let mut best = KOREAN_SURNAME_ONLY_MAX;
        for (&(bits, _), joins) in units.forms.iter().zip(&units.joins) {
            let possible = possible & bits;
            if possible == 0 {
                continue;
            }
            let unmatched = units.weight_of(bits & !possible);
            let merged: f64 = joins
                .iter()
                .filter(|(joined, _)| joined & !possible == 0)
                .map(|(_, weight)| weight)
                .sum();
            let possible_weight = units.weight_of(possible) + merged;
            let k = possible.count_ones() as u8;
            for form in std::iter::once(first).chain(more) {
                let taken = k.min(form.tokens_n);
                let name_matched = if taken == 0 {
                    0.0
                } else {
                    f64::from(form.prefix[usize::from(taken) - 1])
                };
                // Every query word matched or merged: the name's other words may weigh less.
                let name_total = name_total(form.total, name_matched, possible == bits);
                let bound =
                    (possible_weight + name_matched) / (unmatched + possible_weight + name_total);
                best = best.max(bound);
                if form.tokens_n <= k {
                    // Every token of the name matched: the query's unmatched words weigh less
                    // (as merged ones, the most the merged weight `W'` can be matched).
                    let factor = crate::matcher::EXTRA_QUERY_WORD_FACTOR;
                    let covered = (possible_weight + form.total)
                        / (factor * unmatched + possible_weight + form.total);
                    best = best.max(covered);
                }
            }
        }
        best.min(1.0)
    }
}

/// The query's keys: units with their level for token keys, flags for Korean given names,
/// merges and identifiers (ranges not yet looked up).
pub(super) fn query_keys(
    forms: &NameForms,
    identifiers: &[&str],
    abjad_present: Option<&AbjadKeys>,
    keys: &mut Vec<QueryKey>,
) {
    let key = |hash, units, level, flags| QueryKey {
        hash,
        units,
        level,
        flags,
        range: KeyRange::default(),
    };
    let mut unit = 0usize;
    for form in &forms.forms {
        for token in &form.tokens {
            let bit = 1u128 << unit;
            token_keys(token, Side::Query, abjad_present, &mut |hash, level| {
                keys.push(key(hash, bit, level, 0))
            });
            let join = key_hash(TAG_JOIN, token.korean.as_bytes());
            keys.push(key(join, bit, LEVEL_EXACT, FLAG_MERGE_NAME));
            join_skeleton_key(token, Side::Query, abjad_present, &mut |hash| {
                keys.push(key(hash, bit, LEVEL_EXACT, FLAG_MERGE_NAME))
            });
            unit += 1;
        }
        let form_start = unit - form.tokens.len();
        for join in &form.joins {
            // The query's tokens merge into a join equal to a name token; the name's into a
            // join equal to this (merged) query token.
            let joined = ((1u128 << join.width) - 1) << (form_start + join.start);
            let hash = key_hash(TAG_KOREAN, join.token.korean.as_bytes());
            keys.push(key(hash, joined, LEVEL_EXACT, FLAG_MERGE_QUERY));
            if merges_by_skeleton(&join.token) {
                let token_tags = (TAG_SKELETON_ABJAD, TAG_SKELETON_OTHER);
                skeleton_keys(
                    &join.token,
                    Side::Query,
                    token_tags,
                    abjad_present,
                    &mut |hash| keys.push(key(hash, joined, LEVEL_EXACT, FLAG_MERGE_QUERY)),
                );
            }
            let hash = key_hash(TAG_JOIN, join.token.korean.as_bytes());
            keys.push(key(hash, 0, LEVEL_EXACT, FLAG_JOINS_MEET));
            join_skeleton_key(&join.token, Side::Query, abjad_present, &mut |hash| {
                keys.push(key(hash, 0, LEVEL_EXACT, FLAG_JOINS_MEET))
            });
        }
        for korean in &form.korean {
            given_keys(korean, &mut |hash| {
                keys.push(key(hash, 0, LEVEL_EXACT, FLAG_KOREAN))
            });
        }
    }
    for value in identifiers {
        let hash = key_hash(TAG_IDENTIFIER, value.as_bytes());
        keys.push(key(hash, 0, LEVEL_EXACT, FLAG_IDENTIFIER));
    }
    // Not sorted nor merged: equal keys are rare (two units with one variant in common) and
    // reading a list twice only repeats the same marks; sorting cost more than it saved.
    debug_assert!(
        keys.len() <= UNITS_MAX * 5_000,
        "a token has at most ~4,600 keys"
    );
}
