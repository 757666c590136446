//! Audit blocks, as both database stores keep them: the entries of one
//! write transaction back to back, each as its hash (32 bytes) and its
//! binary encoding ([`audit::encode_fields`]). Built while a transaction
//! runs ([`PendingBlock`]) and decoded when read ([`AuditBlockRow`]); where
//! the rows live is each store's business.

use trilat_core::ReportId;

use crate::audit;
use crate::{AuditEntry, AuditEvent, BATCH_LEN_MAX};

/// Most entries one audit block holds: a batch's reports, or one append.
pub(crate) const BLOCK_ENTRIES_MAX: u64 = BATCH_LEN_MAX as u64;

/// The entries a write transaction appends after the chain's tip
/// (`start_seq`, and the hash of that entry).
pub(crate) struct PendingBlock {
    seq: u64,
    hash: [u8; 32],
    start_seq: u64,
    /// Per entry: its hash (32 bytes) and its [`audit::encode_fields`] encoding.
    bytes: Vec<u8>,
}

impl PendingBlock {
    /// An empty block chained after the entry `tip_seq` whose hash is `tip_hash`.
    pub(crate) fn after(tip_seq: u64, tip_hash: [u8; 32]) -> PendingBlock {
        PendingBlock {
            seq: tip_seq,
            hash: tip_hash,
            start_seq: tip_seq,
            bytes: Vec::new(),
        }
    }

    /// Appends `event` and returns its entry.
    pub(crate) fn append(&mut self, event: AuditEvent) -> AuditEntry {
        let prev_hash = hex::encode(self.hash);
        self.append_event(&event, None);
        let entry = AuditEntry {
            seq: self.seq,
            event,
            prev_hash,
            hash: hex::encode(self.hash),
        };
        debug_assert!(entry.hash_is_valid());
        entry
    }

    /// Appends an entry for `event` (borrowed: the ingest path does not
    /// need the entry back, so nothing is cloned). `known_key` is a report
    /// id with its key, reused when the event concerns that report.
    pub(crate) fn append_event(
        &mut self,
        event: &AuditEvent,
        known_key: Option<(&ReportId, [u8; 16])>,
    ) {
        let seq = self.seq + 1;
        let entry_start = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 32]);
        audit::encode_fields_keyed(&mut self.bytes, event, known_key);
        let hash = audit::binary_hash(&self.hash, seq, &self.bytes[entry_start + 32..]);
        self.bytes[entry_start..entry_start + 32].copy_from_slice(&hash);
        self.seq = seq;
        self.hash = hash;
    }

    /// Whether nothing was appended (no row to write).
    pub(crate) fn is_empty(&self) -> bool {
        debug_assert_eq!(self.seq == self.start_seq, self.bytes.is_empty());
        self.seq == self.start_seq
    }

    /// The seq of the block's first entry.
    pub(crate) fn first_seq(&self) -> u64 {
        self.start_seq + 1
    }

    /// How many entries the block holds.
    pub(crate) fn n_entries(&self) -> u64 {
        self.seq - self.start_seq
    }

    /// The seq of the last entry: the chain's new tip.
    pub(crate) fn last_seq(&self) -> u64 {
        self.seq
    }

    /// The hash of the last entry: the chain's new tip.
    pub(crate) fn last_hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// The entries as stored.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// One stored audit block as read.
pub(crate) struct AuditBlockRow {
    pub(crate) first_seq: u64,
    pub(crate) n_entries: u64,
    pub(crate) last_hash: Vec<u8>,
    pub(crate) entries: Vec<u8>,
}

impl AuditBlockRow {
    /// The block's entries, the first one chained after `prev_hash` (hex).
    /// An error says what does not decode (the caller adds the block).
    pub(crate) fn decode(&self, prev_hash: &str) -> Result<Vec<AuditEntry>, String> {
        if self.n_entries == 0 || self.n_entries > BLOCK_ENTRIES_MAX {
            return Err(format!("{} entries", self.n_entries));
        }
        let mut entries = Vec::with_capacity(self.n_entries as usize);
        let mut prev_hash = prev_hash.to_string();
        let mut rest = self.entries.as_slice();
        while !rest.is_empty() {
            if entries.len() as u64 == self.n_entries {
                return Err(format!("more than its {} entries", self.n_entries));
            }
            let seq = self.first_seq + entries.len() as u64;
            if rest.len() < 32 {
                return Err(format!("entry {seq}: hash cut short"));
            }
            let (hash, fields) = rest.split_at(32);
            let (event, tail) =
                audit::decode_fields(fields).map_err(|e| format!("entry {seq}: {e}"))?;
            rest = tail;
            let hash = hex::encode(hash);
            entries.push(AuditEntry {
                seq,
                event,
                prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            });
        }
        if entries.len() as u64 != self.n_entries {
            return Err(format!("{} entries, not {}", entries.len(), self.n_entries));
        }
        if prev_hash != hex::encode(&self.last_hash) {
            return Err("last_hash is not its last entry's hash".into());
        }
        Ok(entries)
    }
}
