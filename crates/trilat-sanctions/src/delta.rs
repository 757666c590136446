//! Differences between two versions of the same list.

use crate::model::{Entity, ListVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Entities added, removed and changed between two versions of a list (ids, sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// Version compared from.
    pub from_version: String,
    /// Version compared to.
    pub to_version: String,
    /// Ids only in the new version.
    pub added: Vec<String>,
    /// Ids only in the old version.
    pub removed: Vec<String>,
    /// Ids in both whose content differs (ignoring their position in the file).
    pub changed: Vec<String>,
}

fn content(entity: &Entity) -> Entity {
    let mut e = entity.clone();
    e.position.clear();
    e
}

/// Computes the delta from `old` to `new`.
pub fn delta(old: &ListVersion, new: &ListVersion) -> Delta {
    let old_by_id: BTreeMap<&str, &Entity> =
        old.entities.iter().map(|e| (e.id.as_str(), e)).collect();
    let new_by_id: BTreeMap<&str, &Entity> =
        new.entities.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut out = Delta {
        from_version: old.version.clone(),
        to_version: new.version.clone(),
        ..Delta::default()
    };
    for (id, entity) in &new_by_id {
        match old_by_id.get(id) {
            None => out.added.push(id.to_string()),
            Some(previous) if content(previous) != content(entity) => {
                out.changed.push(id.to_string())
            }
            Some(_) => {}
        }
    }
    out.removed = old_by_id
        .keys()
        .filter(|id| !new_by_id.contains_key(*id))
        .map(|id| id.to_string())
        .collect();
    debug_assert!(out
        .added
        .iter()
        .all(|id| !old_by_id.contains_key(id.as_str())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ListSource, NameQuality, Schema};

    #[test]
    fn added_removed_changed() {
        let entity = |id: &str, name: &str, row: &str| {
            let mut e = Entity::new(ListSource::OfacSdn, id, row.into(), Schema::Person);
            e.push_name(name, NameQuality::Primary);
            e
        };
        let old = ListVersion {
            source: ListSource::OfacSdn,
            version: "1".into(),
            entities: vec![
                entity("1", "A", "row 1"),
                entity("2", "B", "row 2"),
                entity("3", "C", "row 3"),
            ],
        };
        let new = ListVersion {
            source: ListSource::OfacSdn,
            version: "2".into(),
            entities: vec![
                entity("1", "A", "row 9"),
                entity("3", "C2", "row 3"),
                entity("4", "D", "row 4"),
            ],
        };
        let d = delta(&old, &new);
        assert_eq!(d.added, ["ofac:4"]);
        assert_eq!(d.removed, ["ofac:2"]);
        assert_eq!(d.changed, ["ofac:3"]);
    }
}
