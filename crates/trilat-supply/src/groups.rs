//! Which countries are the partners, their allies and the countries of
//! concern. None of it is in code: the node reads it from its config
//! (`[engines.supply.groups]`) and the CLI from `--groups FILE` (the same
//! table); `docs/economic.md` has an example. Only the partners have a
//! default, the three parties of the deployment.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::country::is_code;

/// Most codes one group may hold.
pub const GROUP_LEN_MAX: usize = 300;

/// The three groups, as ISO 3166-1 alpha-3 codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Groups {
    /// The partners (default USA, JPN, KOR).
    #[serde(default = "partners_default")]
    pub partners: BTreeSet<String>,
    /// Their allies (not counting the partners themselves).
    #[serde(default)]
    pub allies: BTreeSet<String>,
    /// Countries of concern.
    #[serde(default)]
    pub concern: BTreeSet<String>,
}

fn partners_default() -> BTreeSet<String> {
    ["USA", "JPN", "KOR"].map(String::from).into()
}

impl Default for Groups {
    fn default() -> Groups {
        Groups {
            partners: partners_default(),
            allies: BTreeSet::new(),
            concern: BTreeSet::new(),
        }
    }
}

impl Groups {
    /// Checks every code is an ISO code of the name table, that no group is
    /// too long, and that no country is both of concern and a partner or ally.
    pub fn validate(&self) -> Result<(), String> {
        for (name, group) in [
            ("partners", &self.partners),
            ("allies", &self.allies),
            ("concern", &self.concern),
        ] {
            if group.len() > GROUP_LEN_MAX {
                return Err(format!(
                    "{name}: {} codes, at most {GROUP_LEN_MAX}",
                    group.len()
                ));
            }
            if let Some(bad) = group.iter().find(|c| !is_code(c)) {
                return Err(format!("{name}: {bad:?} is not an ISO 3166-1 alpha-3 code"));
            }
        }
        if let Some(both) = self
            .concern
            .iter()
            .find(|c| self.partners.contains(*c) || self.allies.contains(*c))
        {
            return Err(format!("{both} is both of concern and a partner or ally"));
        }
        Ok(())
    }

    /// Partners and allies together (the coalition).
    pub fn coalition(&self) -> BTreeSet<String> {
        self.partners.union(&self.allies).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_fault() {
        let mut g = Groups::default();
        assert!(g.validate().is_ok());
        g.concern.insert("CHN".into());
        g.allies.insert("AUS".into());
        assert!(g.validate().is_ok());
        g.allies.insert("XYZ".into());
        assert!(g.validate().unwrap_err().contains("XYZ"));
        g.allies.remove("XYZ");
        g.allies.insert("CHN".into());
        assert!(g.validate().unwrap_err().contains("CHN"));
    }
}
