//! The key table: hashed keys to posting-list ranges, open addressing, prefetched in waves.

use super::*;

/// Asks the CPU to bring `value`'s cache line in and goes on: a query's key lookups and list
/// reads each miss the cache (a multi-megabyte table read at random), and misses requested
/// together overlap instead of following one another.
#[inline(always)]
pub(super) fn prefetch_read<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults nor changes memory, whatever the address
    // (this one is a live reference's).
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Where a key's posting list is, and what a match through it can add at most.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct KeyRange {
    pub(super) start: u32,
    pub(super) len: u32,
    /// The heaviest rarity weight of a token that has the key, rounded up to `f32`.
    pub(super) weight_max: f32,
}

/// The largest key hash; `u64::MAX` marks an empty [`KeyTable`] slot.
pub(super) const KEY_HASH_MAX: u64 = u64::MAX - 1;

pub(super) const SLOT_EMPTY_HASH: u64 = u64::MAX;

/// Bound on keys of one index (the table's slots are `u32`-addressed, like the postings).
pub(super) const KEYS_MAX: usize = POSTINGS_MAX;

/// One slot of the [`KeyTable`]: a key hash (or [`SLOT_EMPTY_HASH`]), where its list starts
/// (an empty slot: where the next list starts) and its `weight_max`. 16 bytes: 4 per line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
pub(super) struct KeySlot {
    pub(super) hash: u64,
    pub(super) start: u32,
    pub(super) weight_max: f32,
}

/// Key hash → posting list, as flat open addressing built once and read per query key.
///
/// The hashes are already uniform, so a key's *home* slot is the hash scaled to the slot count
/// (`hash × homes / 2⁶⁴`, one multiplication, no rehash; it keeps hash order, which a shift
/// by a power of two would too, at up to twice the memory), with home slots ¾ full. Keys are
/// inserted in ascending hash order, each at its home or just after the previous key, so the
/// slots hold keys in ascending hash order (no wrap-around: the last homes overflow past the
/// home slots, into a tail) and
/// postings are laid out in slot order: a list ends where the next slot's starts, so a slot
/// needs no length. A lookup probes from the home slot while the slot's hash is below the
/// key's (empty slots hold `u64::MAX`, which stops it), and finds the key there or nowhere:
/// one comparison per probe, absent keys stop as early as present ones, and the home slot's
/// address is known from the hash alone, so a query's lookups can be prefetched together.
#[derive(Debug)]
pub(super) struct KeyTable {
    /// Home slots, the overflow tail, then one empty sentinel slot whose `start` is the
    /// postings' end.
    pub(super) slots: Vec<KeySlot>,
    /// Home slots: a hash's home is `hash × homes / 2⁶⁴`.
    pub(super) homes: u64,
}

impl KeyTable {
    /// Smallest table.
    pub(super) const HOMES_MIN: usize = 16;

    /// Home slots for `keys_n` keys: keys fill ¾ of them.
    pub(super) fn homes_for(keys_n: usize) -> usize {
        (keys_n.saturating_mul(4) / 3 + 1).max(Self::HOMES_MIN)
    }

    /// An empty table for `keys_n` keys, to be filled with [`KeyTable::push`] in ascending
    /// hash order and closed with [`KeyTable::finish`].
    pub(super) fn with_keys(keys_n: usize) -> KeyTable {
        assert!(keys_n <= KEYS_MAX);
        Self::with_homes(Self::homes_for(keys_n))
    }

    /// An empty table of `homes` home slots (tests fill some completely).
    pub(super) fn with_homes(homes: usize) -> KeyTable {
        assert!(homes >= Self::HOMES_MIN);
        assert!(homes <= KEYS_MAX * 2);
        KeyTable {
            // The overflow tail is short (a few slots): room for it without regrowing.
            slots: Vec::with_capacity(homes + homes / 64 + 16),
            homes: homes as u64,
        }
    }

    /// Adds the key `hash` (above every key pushed so far, at most [`KEY_HASH_MAX`]), whose
    /// list starts at `start` (not before the previous key's) and ends where the next key's
    /// starts.
    pub(super) fn push(&mut self, hash: u64, start: u32, weight_max: f32) {
        assert!(hash <= KEY_HASH_MAX);
        if let Some(last) = self.slots.last() {
            assert!(last.hash < hash, "keys pushed in ascending hash order");
            assert!(last.start <= start);
        }
        let home = self.home(hash);
        while self.slots.len() < home {
            self.slots.push(KeySlot {
                hash: SLOT_EMPTY_HASH,
                start,
                weight_max: 0.0,
            });
        }
        self.slots.push(KeySlot {
            hash,
            start,
            weight_max,
        });
    }

    /// Closes the table over postings of `postings_len` entries: empty home slots up to the
    /// power of two, then the sentinel.
    pub(super) fn finish(&mut self, postings_len: u32) {
        let homes = self.homes as usize;
        if let Some(last) = self.slots.last() {
            assert!(last.start <= postings_len);
        }
        while self.slots.len() < homes {
            self.slots.push(KeySlot {
                hash: SLOT_EMPTY_HASH,
                start: postings_len,
                weight_max: 0.0,
            });
        }
        self.slots.push(KeySlot {
            hash: SLOT_EMPTY_HASH,
            start: postings_len,
            weight_max: 0.0,
        });
        self.slots.shrink_to_fit();
        debug_assert!(self.slots.windows(2).all(|w| w[0].start <= w[1].start));
    }

    pub(super) fn home(&self, hash: u64) -> usize {
        let home = ((u128::from(hash) * u128::from(self.homes)) >> 64) as usize;
        debug_assert!(home < self.homes as usize);
        home
    }

    /// Starts loading the slots [`KeyTable::get`] reads first for `hash` (its home slot and
    /// the next, where the list ends), without waiting for them.
    pub(super) fn prefetch(&self, hash: u64) {
        let home = self.home(hash);
        prefetch_read(&self.slots[home]);
        // The sentinel follows the last home slot.
        prefetch_read(&self.slots[home + 1]);
    }

    /// The list of the key `hash` (empty when absent).
    pub(super) fn get(&self, hash: u64) -> KeyRange {
        let mut at = self.home(hash);
        // The sentinel (empty, `u64::MAX`) stops every probe before the end.
        while self.slots[at].hash < hash {
            at += 1;
        }
        let slot = &self.slots[at];
        if slot.hash != hash {
            return KeyRange::default();
        }
        let end = self.slots[at + 1].start;
        debug_assert!(slot.start <= end);
        KeyRange {
            start: slot.start,
            len: end - slot.start,
            weight_max: slot.weight_max,
        }
    }

    /// Keys held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.hash != SLOT_EMPTY_HASH)
            .count()
    }
}
