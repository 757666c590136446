//! Opaque cursors: a position in one store's sequence.

use std::fmt;

use crate::StoreError;

/// Prefix and format version of the cursor text.
const CURSOR_PREFIX: &str = "c1";
/// Longest cursor text accepted by [`Cursor::parse`].
const CURSOR_LEN_MAX: usize = 64;

/// A position in a store's sequence (the change feed or a query's order).
///
/// Opaque to callers: `Display` writes it, [`Cursor::parse`] reads it. It
/// carries the store's random id, so a store refuses a cursor minted by
/// another store with [`StoreError::BadCursor`] instead of silently skipping
/// or repeating reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    store_id: u64,
    seq: u64,
}

impl Cursor {
    pub(crate) fn new(store_id: u64, seq: u64) -> Cursor {
        Cursor { store_id, seq }
    }

    /// Reads a cursor written by `Display`.
    pub fn parse(text: &str) -> Result<Cursor, StoreError> {
        let bad = || {
            StoreError::BadCursor(format!(
                "{:?} is not a cursor of this system",
                text.chars().take(CURSOR_LEN_MAX).collect::<String>()
            ))
        };
        if text.len() > CURSOR_LEN_MAX {
            return Err(bad());
        }
        let mut parts = text.split('.');
        let (Some(prefix), Some(store), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if prefix != CURSOR_PREFIX || store.len() != 16 || seq.is_empty() || seq.len() > 16 {
            return Err(bad());
        }
        let store_id = u64::from_str_radix(store, 16).map_err(|_| bad())?;
        let seq = u64::from_str_radix(seq, 16).map_err(|_| bad())?;
        // Exactly one spelling per cursor, so cursors compare as text too.
        let cursor = Cursor { store_id, seq };
        if cursor.to_string() != text {
            return Err(bad());
        }
        Ok(cursor)
    }

    /// The store sequence this cursor points after, once checked to belong
    /// to the store with `store_id`.
    /// The id of the store that issued it (random per store, kept by `trilat migrate`).
    pub fn store_id(&self) -> u64 {
        self.store_id
    }

    pub(crate) fn seq_in(&self, store_id: u64) -> Result<u64, StoreError> {
        if self.store_id != store_id {
            return Err(StoreError::BadCursor(format!(
                "cursor {self} was issued by another store (store id {:016x}, this is {store_id:016x})",
                self.store_id
            )));
        }
        Ok(self.seq)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{CURSOR_PREFIX}.{:016x}.{:x}", self.store_id, self.seq)
    }
}

impl std::str::FromStr for Cursor {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Cursor, StoreError> {
        Cursor::parse(text)
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cursor, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Cursor::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for (store_id, seq) in [(0, 0), (1, 1), (u64::MAX, u64::MAX), (0xdead_beef, 4096)] {
            let cursor = Cursor::new(store_id, seq);
            assert_eq!(Cursor::parse(&cursor.to_string()).unwrap(), cursor);
            assert_eq!(cursor.seq_in(store_id).unwrap(), seq);
        }
        assert_eq!(
            Cursor::new(0xab, 0x10).to_string(),
            "c1.00000000000000ab.10"
        );
    }

    #[test]
    fn refuses_garbage_and_foreign_cursors() {
        for bad in [
            "",
            "c1",
            "c1..",
            "c2.00000000000000ab.10",
            "c1.ab.10",
            "c1.00000000000000ab.",
            "c1.00000000000000ab.010",
            "c1.00000000000000AB.10",
            "c1.00000000000000ab.10.1",
            "c1.00000000000000ab.-1",
            "c1.00000000000000ab.10000000000000000",
            "💥",
        ] {
            assert!(
                matches!(Cursor::parse(bad), Err(StoreError::BadCursor(_))),
                "{bad:?}"
            );
        }
        let foreign = Cursor::new(1, 5);
        let err = foreign.seq_in(2).unwrap_err();
        assert!(err.to_string().contains("another store"), "{err}");
    }
}
