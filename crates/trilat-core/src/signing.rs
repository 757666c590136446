//! Ed25519 keys and signatures. A node signs its party's reports and its
//! requests to peers with one key; peers know its public key from config.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, Verifier as _};
use sha2::{Digest as _, Sha256};

mod batch;
#[cfg(any(test, feature = "differential"))]
pub mod differential;

pub use batch::{verify_batch, SignedMessage, VERIFY_BATCH_LEN_MAX};

/// A key, signature or key file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not base64, or the wrong length.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which thing (public key, secret key, signature).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The signature does not verify under the key.
    #[error("signature does not verify")]
    BadSignature,
}

/// A node's Ed25519 signing key. Never serialised by accident: only
/// [`NodeKey::to_secret_base64`] exposes it, for the key file.
pub struct NodeKey(ed25519_dalek::SigningKey);

impl NodeKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> NodeKey {
        NodeKey(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// A key derived from a seed; for deterministic tests and simulations only.
    pub fn from_seed(seed: [u8; 32]) -> NodeKey {
        NodeKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Reads the base64 secret written by [`NodeKey::to_secret_base64`].
    pub fn from_secret_base64(text: &str) -> Result<NodeKey, KeyError> {
        let bytes = decode_fixed::<32>(text.trim(), "secret key")?;
        Ok(NodeKey(ed25519_dalek::SigningKey::from_bytes(&bytes)))
    }

    /// The secret as base64, for the node's key file.
    pub fn to_secret_base64(&self) -> String {
        BASE64.encode(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey({})", self.public_key())
    }
}

/// A node's public key, written as base64 in config files and JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// Parses base64 of the 32-byte key.
    pub fn from_base64(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = decode_fixed::<32>(text.trim(), "public key")?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|e| KeyError::Malformed {
                what: "public key",
                reason: e.to_string(),
            })
    }

    /// Verifies `signature` over `message` (strict: rejects malleable forms).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(message, &signature)
            .map_err(|_| KeyError::BadSignature)?;
        // Pair assertion for the caller: a verified signature is never also refused by the lax check.
        debug_assert!(self.0.verify(message, &signature).is_ok());
        Ok(())
    }
}

impl PublicKey {
    /// Whether the key is a small-order point, which the strict check
    /// refuses for every signature (a peer key can be checked once).
    pub fn is_weak(&self) -> bool {
        self.0.is_weak()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64.encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PublicKey::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature, written as base64.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// The all-zero placeholder of an unsigned draft; never verifies.
    pub const EMPTY: Signature = Signature([0; 64]);

    /// Parses base64 of the 64-byte signature.
    pub fn from_base64(text: &str) -> Result<Signature, KeyError> {
        decode_fixed::<64>(text, "signature").map(Signature)
    }

    /// The raw bytes.
    pub fn to_bytes(self) -> [u8; 64] {
        self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64.encode(self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Signature, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Signature::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

fn decode_fixed<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], KeyError> {
    // Bound the work before decoding: base64 of N bytes is at most 4*ceil(N/3) characters.
    if text.len() > 4 * N.div_ceil(3) {
        return Err(KeyError::Malformed {
            what,
            reason: format!("{} characters is too long", text.len()),
        });
    }
    let bytes = BASE64.decode(text).map_err(|e| KeyError::Malformed {
        what,
        reason: e.to_string(),
    })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Malformed {
        what,
        reason: format!("expected {N} bytes, got {}", bytes.len()),
    })
}

/// The bytes a node signs to authenticate a request to a peer: method, path
/// with query, the sender's party, the request time (ms since the epoch, so
/// the receiver can refuse stale requests) and the SHA-256 of the body.
pub fn request_signing_bytes(
    method: &str,
    path_and_query: &str,
    sender: &str,
    unix_ms: i64,
    body: &[u8],
) -> Vec<u8> {
    let body_sha256 = hex::encode(Sha256::digest(body));
    format!("trilat-request-v1\n{method}\n{path_and_query}\n{sender}\n{unix_ms}\n{body_sha256}")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_pair() {
        let key = NodeKey::from_seed([7; 32]);
        let public = key.public_key();
        let signature = key.sign(b"apogee 970 km");
        assert!(public.verify(b"apogee 970 km", &signature).is_ok());
        assert_eq!(
            public.verify(b"apogee 971 km", &signature),
            Err(KeyError::BadSignature)
        );
        assert_eq!(
            public.verify(b"apogee 970 km", &Signature::EMPTY),
            Err(KeyError::BadSignature)
        );
        let other = NodeKey::from_seed([8; 32]).public_key();
        assert_eq!(
            other.verify(b"apogee 970 km", &signature),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn text_forms_round_trip() {
        let key = NodeKey::from_seed([1; 32]);
        let again = NodeKey::from_secret_base64(&key.to_secret_base64()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public = PublicKey::from_base64(&key.public_key().to_string()).unwrap();
        assert_eq!(public, key.public_key());
        let signature = key.sign(b"x");
        assert_eq!(
            Signature::from_base64(&signature.to_string()).unwrap(),
            signature
        );
        assert!(PublicKey::from_base64("not base64!").is_err());
        assert!(PublicKey::from_base64(&"A".repeat(10_000)).is_err());
        assert!(Signature::from_base64("AAAA").is_err());
    }

    #[test]
    fn request_bytes_cover_every_part() {
        let base = request_signing_bytes("POST", "/peer/v1/push", "USA", 5, b"{}");
        assert_ne!(
            base,
            request_signing_bytes("GET", "/peer/v1/push", "USA", 5, b"{}")
        );
        assert_ne!(
            base,
            request_signing_bytes("POST", "/peer/v1/pull", "USA", 5, b"{}")
        );
        assert_ne!(
            base,
            request_signing_bytes("POST", "/peer/v1/push", "JPN", 5, b"{}")
        );
        assert_ne!(
            base,
            request_signing_bytes("POST", "/peer/v1/push", "USA", 6, b"{}")
        );
        assert_ne!(
            base,
            request_signing_bytes("POST", "/peer/v1/push", "USA", 5, b"[]")
        );
    }
}
