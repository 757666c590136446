//! The withdrawal: the owner telling a party that the version it holds of a
//! report is no longer current for it, without telling it anything new.
//!
//! When a new version narrows a report's marking (`rel_to`, the level, the
//! TLP) so that a party that was released the previous version may not
//! receive the new one, that party keeps what it already has (information
//! released cannot be unlearned), but it is told, by a [`Withdrawal`]
//! signed by the owner, that its copy is no longer current. The withdrawal
//! names the report's id, owner and the version that narrowed it; nothing of
//! that version's content, marking or times.

use crate::{NodeKey, Party, PublicKey, Report, ReportError, ReportId, ReportKey, Signature};

/// Domain separation: a withdrawal signature can never be mistaken for a
/// report's or a request's.
const WITHDRAWAL_SIGNING_PREFIX: &[u8] = b"trilat-withdrawal-v1\n";

/// A signed notice from a report's owner: from `version` on, the report is
/// not releasable to the recipient; the versions it holds are withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// The report withdrawn.
    pub id: ReportId,
    /// Its owner, who alone signs withdrawals of it.
    pub owner: Party,
    /// The version counter that narrowed the marking: every version the
    /// recipient holds below it is withdrawn.
    pub version: u64,
    /// The owner's Ed25519 signature over [`Withdrawal::signing_bytes`].
    pub signature: Signature,
}

/// The signed part of a withdrawal: every field but the signature.
#[derive(serde::Serialize)]
struct SignedFields<'a> {
    id: &'a ReportId,
    owner: &'a Party,
    version: u64,
}

impl Withdrawal {
    /// The withdrawal of the versions before `narrowing`, signed with the
    /// owner's key. Carries `narrowing`'s id, owner and counter only.
    pub fn sign(narrowing: &Report, key: &NodeKey) -> Result<Withdrawal, ReportError> {
        if narrowing.version < 2 {
            return Err(ReportError::Malformed(format!(
                "version 1 of {} withdraws nothing: there is no earlier version",
                narrowing.id
            )));
        }
        let mut withdrawal = Withdrawal {
            id: narrowing.id,
            owner: narrowing.owner.clone(),
            version: narrowing.version,
            signature: Signature::EMPTY,
        };
        withdrawal.signature = key.sign(&withdrawal.signing_bytes()?);
        // Pair assertion: what we sign, we can verify.
        debug_assert!(withdrawal.verify(&key.public_key()).is_ok());
        Ok(withdrawal)
    }

    /// The exact bytes the owner signs: a domain prefix, then the RFC 8785
    /// canonical JSON of `{"id", "owner", "version"}`.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, ReportError> {
        let fields = SignedFields {
            id: &self.id,
            owner: &self.owner,
            version: self.version,
        };
        let json =
            crate::canonical_json(&fields).map_err(|e| ReportError::Canonical(e.to_string()))?;
        let mut bytes = WITHDRAWAL_SIGNING_PREFIX.to_vec();
        bytes.extend_from_slice(&json);
        Ok(bytes)
    }

    /// Verifies the owner's signature.
    pub fn verify(&self, owner_key: &PublicKey) -> Result<(), ReportError> {
        let bytes = self.signing_bytes()?;
        owner_key
            .verify(&bytes, &self.signature)
            .map_err(|_| ReportError::BadSignature {
                id: self.id,
                owner: self.owner.clone(),
            })
    }

    /// The identity of the report withdrawn.
    pub fn key(&self) -> ReportKey {
        ReportKey::new(self.owner.clone(), self.id)
    }

    /// Whether this withdrawal makes `held` (a version of the same report)
    /// no longer current: it was issued for a later version.
    ///
    /// # Panics
    /// If `held` is another report (another id or another owner).
    pub fn withdraws(&self, held: &Report) -> bool {
        assert_eq!(self.id, held.id, "a withdrawal of another report");
        assert_eq!(
            self.owner, held.owner,
            "a withdrawal of another owner's report"
        );
        self.version > held.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kind, Marking, ReportDraft, Timestamp, Tlp};

    fn versions(key: &NodeKey) -> (Report, Report) {
        let first = ReportDraft::new(
            Party::new("USA").unwrap(),
            Kind::new("note").unwrap(),
            Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN", "KOR"]),
            serde_json::json!({"text": "first"}),
            Timestamp::from_unix_ms(1_000),
        )
        .sign(key)
        .unwrap();
        let mut draft = first.next_version(Timestamp::from_unix_ms(2_000));
        draft.marking = Marking::new("UNCLASSIFIED", Tlp::Green, ["USA", "JPN"]);
        draft.payload = serde_json::json!({"text": "second, not for KOR"});
        (first, draft.sign(key).unwrap())
    }

    #[test]
    fn a_withdrawal_names_id_owner_and_version_and_nothing_else() {
        let key = NodeKey::from_seed([3; 32]);
        let (first, second) = versions(&key);
        let withdrawal = Withdrawal::sign(&second, &key).unwrap();
        withdrawal.verify(&key.public_key()).unwrap();
        let json = serde_json::to_value(&withdrawal).unwrap();
        let mut fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["id", "owner", "signature", "version"]);
        assert!(!json.to_string().contains("not for KOR"));
        assert!(withdrawal.withdraws(&first));
        assert!(!withdrawal.withdraws(&second));
        let back: Withdrawal = serde_json::from_value(json).unwrap();
        assert_eq!(back, withdrawal);
    }

    #[test]
    fn a_changed_or_foreign_withdrawal_does_not_verify() {
        let key = NodeKey::from_seed([3; 32]);
        let (first, second) = versions(&key);
        let withdrawal = Withdrawal::sign(&second, &key).unwrap();
        let mut later = withdrawal.clone();
        later.version += 1;
        assert!(later.verify(&key.public_key()).is_err());
        let other = NodeKey::from_seed([4; 32]);
        assert!(withdrawal.verify(&other.public_key()).is_err());
        // A report signature never verifies as a withdrawal's (domain prefix).
        let forged = Withdrawal {
            signature: second.signature,
            ..withdrawal
        };
        assert!(forged.verify(&key.public_key()).is_err());
        assert!(Withdrawal::sign(&first, &key).is_err());
    }
}
