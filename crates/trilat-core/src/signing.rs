//! Ed25519 keys and signatures. A node signs its party's reports and its
//! requests to peers with one key; peers know its public key from config.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, Verifier as _};
use sha2::{Digest as _, Sha256};

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

/// Most signatures [`verify_batch`] folds into one multiscalar
/// multiplication; longer inputs are checked in runs of this length.
pub const VERIFY_BATCH_LEN_MAX: usize = 1024;

/// One message, its signature and the key it must verify under.
#[derive(Clone, Copy, Debug)]
pub struct SignedMessage<'a> {
    /// The signed bytes.
    pub message: &'a [u8],
    /// The signature to check.
    pub signature: &'a Signature,
    /// The signer's key.
    pub key: &'a PublicKey,
}

/// Verifies many signatures at once, with the same verdict per item as
/// [`PublicKey::verify`] (strict) except for one documented corner.
///
/// Why: on a catch-up page, Ed25519 batch verification (one multiscalar
/// multiplication for the whole run) costs about half of checking each
/// signature alone. The run is checked with the batch equation
/// `[-Σ z·s]B + Σ z·R + Σ_keys (Σ z·k) A = 0` for random 128-bit `z` and
/// `k = SHA-512(R ‖ A ‖ M)`: terms under the same key are summed into one
/// coefficient (a catch-up page has a handful of owners), so the
/// multiscalar multiplication has about one point per signature rather
/// than two, and each R is decompressed once, by the strict pre-check.
/// How strictness is kept:
/// * before the batch, each signature whose R does not decompress, is not
///   canonically encoded or is a small-order point, whose key is small-order,
///   or whose S is not canonical is refused on its own, as the strict check
///   refuses it;
/// * if the batch equation fails, every signature of the run is checked
///   alone with the strict check, so a forged or tampered one is identified
///   and the good ones still pass.
///
/// The remaining difference: R or the key of *mixed* order (a prime-order
/// point plus a small torsion component) is not excluded before the batch;
/// only the signer itself can make such a signature (it still needs the
/// secret key), and the strict check may refuse what the batch accepts.
pub fn verify_batch(items: &[SignedMessage<'_>]) -> Vec<Result<(), KeyError>> {
    let mut verdicts: Vec<Result<(), KeyError>> = Vec::with_capacity(items.len());
    let mut batch = BatchEquation::with_capacity(items.len().min(VERIFY_BATCH_LEN_MAX));
    for run in items.chunks(VERIFY_BATCH_LEN_MAX) {
        verify_run(run, &mut batch, &mut verdicts);
    }
    // Pair assertion for the caller: one verdict per item, in order.
    assert_eq!(verdicts.len(), items.len());
    verdicts
}

/// The terms of one run's batch equation, reused from run to run.
struct BatchEquation {
    /// Coefficient of the base point, then one per R, then one per key.
    scalars: Vec<curve25519_dalek::Scalar>,
    /// The base point, then the R points, then the keys.
    points: Vec<curve25519_dalek::EdwardsPoint>,
    /// Per distinct key of the run (by its encoding): Σ z·k, and the key.
    key_terms: std::collections::HashMap<
        [u8; 32],
        (curve25519_dalek::Scalar, curve25519_dalek::EdwardsPoint),
    >,
}

impl BatchEquation {
    fn with_capacity(n_items: usize) -> BatchEquation {
        BatchEquation {
            scalars: Vec::with_capacity(n_items + 9),
            points: Vec::with_capacity(n_items + 9),
            key_terms: std::collections::HashMap::new(),
        }
    }

    fn clear(&mut self) {
        self.scalars.clear();
        self.points.clear();
        self.key_terms.clear();
        self.scalars.push(curve25519_dalek::Scalar::ZERO);
        self.points
            .push(curve25519_dalek::constants::ED25519_BASEPOINT_POINT);
    }

    /// Adds one signature (R already decompressed, S canonical) with the
    /// random weight `z`.
    fn add(
        &mut self,
        item: &SignedMessage<'_>,
        r_point: curve25519_dalek::EdwardsPoint,
        s: curve25519_dalek::Scalar,
        z: curve25519_dalek::Scalar,
    ) {
        use sha2::Sha512;
        let key_bytes = item.key.0.as_bytes();
        let mut hasher = Sha512::new();
        hasher.update(&item.signature.0[..32]);
        hasher.update(key_bytes);
        hasher.update(item.message);
        let challenge =
            curve25519_dalek::Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        self.scalars[0] -= z * s;
        self.scalars.push(z);
        self.points.push(r_point);
        let key_term = self
            .key_terms
            .entry(*key_bytes)
            .or_insert_with(|| (curve25519_dalek::Scalar::ZERO, item.key.0.to_edwards()));
        key_term.0 += z * challenge;
    }

    /// Whether the equation holds (true for an empty run).
    fn holds(&mut self) -> bool {
        use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
        let n_signatures = self.points.len() - 1;
        if n_signatures == 0 {
            return true;
        }
        for (coefficient, key_point) in self.key_terms.values() {
            self.scalars.push(*coefficient);
            self.points.push(*key_point);
        }
        assert_eq!(self.scalars.len(), self.points.len());
        assert_eq!(self.points.len(), 1 + n_signatures + self.key_terms.len());
        curve25519_dalek::EdwardsPoint::vartime_multiscalar_mul(&self.scalars, &self.points)
            .is_identity()
    }
}

fn verify_run(
    run: &[SignedMessage<'_>],
    batch: &mut BatchEquation,
    verdicts: &mut Vec<Result<(), KeyError>>,
) {
    use rand::Rng as _;
    assert!(run.len() <= VERIFY_BATCH_LEN_MAX);
    let start = verdicts.len();
    let mut rng = rand::thread_rng();
    batch.clear();
    let mut batched: Vec<usize> = Vec::with_capacity(run.len());
    for (item_idx, item) in run.iter().enumerate() {
        if let Some((r_point, s)) = strict_parts(item) {
            let z = curve25519_dalek::Scalar::from(rng.gen::<u128>());
            batch.add(item, r_point, s, z);
            batched.push(item_idx);
            verdicts.push(Ok(()));
        } else {
            verdicts.push(Err(KeyError::BadSignature));
        }
    }
    if batch.holds() {
        return;
    }
    // Some signature is bad: find which, one by one, with the strict check.
    for item_idx in batched {
        let item = &run[item_idx];
        verdicts[start + item_idx] = item.key.verify(item.message, item.signature);
    }
}

/// Whether the y coordinate of an encoded point (sign bit ignored) is below
/// p = 2^255 - 19, i.e. canonically encoded.
fn is_below_field_prime(encoded: &[u8; 32]) -> bool {
    let top = encoded[31] & 0x7f;
    let all_ones_between = encoded[1..31].iter().all(|&b| b == 0xff);
    !(top == 0x7f && all_ones_between && encoded[0] >= 0xed)
}

/// The checks `verify_strict` makes that batch verification does not: R
/// decodes canonically and is not small-order, the key is not small-order,
/// S is canonical (reduced mod the group order). Returns the decompressed R
/// and S for the batch equation, or `None` if the strict check refuses.
fn strict_parts(
    item: &SignedMessage<'_>,
) -> Option<(curve25519_dalek::EdwardsPoint, curve25519_dalek::Scalar)> {
    let bytes = &item.signature.0;
    let r_bytes: [u8; 32] = bytes[..32].try_into().expect("64-byte signature");
    let s_bytes: [u8; 32] = bytes[32..].try_into().expect("64-byte signature");
    // Canonical encoding without re-compressing (an inversion): y < p; the
    // other non-canonical form (x = 0 with the sign bit set) is y = ±1, of
    // small order, refused below.
    if !is_below_field_prime(&r_bytes) {
        return None;
    }
    let compressed = curve25519_dalek::edwards::CompressedEdwardsY(r_bytes);
    let r_point = compressed.decompress()?;
    if r_point.is_small_order() {
        return None;
    }
    debug_assert_eq!(r_point.compress(), compressed, "canonical R");
    if item.key.0.is_weak() {
        return None;
    }
    let s = Option::<curve25519_dalek::Scalar>::from(
        curve25519_dalek::Scalar::from_canonical_bytes(s_bytes),
    )?;
    Some((r_point, s))
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

    /// `n` messages signed by two keys, alternately.
    fn signed_page(n: usize) -> (Vec<Vec<u8>>, Vec<Signature>, Vec<PublicKey>) {
        let keys = [NodeKey::from_seed([3; 32]), NodeKey::from_seed([4; 32])];
        let messages: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("track {i} apogee {} km", 900 + i).into_bytes())
            .collect();
        let signatures = messages
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % 2].sign(m))
            .collect();
        let publics = (0..n).map(|i| keys[i % 2].public_key()).collect();
        (messages, signatures, publics)
    }

    #[test]
    fn field_prime_bound() {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!is_below_field_prime(&p));
        let mut p_minus_1 = p;
        p_minus_1[0] = 0xec;
        assert!(is_below_field_prime(&p_minus_1));
        let mut p_with_sign = p;
        p_with_sign[31] = 0xff;
        assert!(!is_below_field_prime(&p_with_sign));
        assert!(is_below_field_prime(&[0; 32]));
        // Every encoding p + y0 of a point that decodes is refused by both checks.
        let (messages, signatures, publics) = signed_page(1);
        for y0 in 0u8..19 {
            let mut r = p;
            r[0] = 0xed + y0;
            let mut bytes = signatures[0].0;
            bytes[..32].copy_from_slice(&r);
            let forged = Signature(bytes);
            let (batch, single) = batch_and_single(&messages, &[forged], &publics);
            assert_eq!(batch, single);
            assert!(batch[0].is_err());
        }
    }

    type Verdicts = Vec<Result<(), KeyError>>;

    fn batch_and_single(
        messages: &[Vec<u8>],
        signatures: &[Signature],
        publics: &[PublicKey],
    ) -> (Verdicts, Verdicts) {
        let items: Vec<SignedMessage<'_>> = (0..messages.len())
            .map(|i| SignedMessage {
                message: &messages[i],
                signature: &signatures[i],
                key: &publics[i],
            })
            .collect();
        let single = items
            .iter()
            .map(|item| item.key.verify(item.message, item.signature))
            .collect();
        (verify_batch(&items), single)
    }

    #[test]
    fn batch_refuses_exactly_the_tampered_one() {
        let (mut messages, mut signatures, publics) = signed_page(40);
        let (batch, _) = batch_and_single(&messages, &signatures, &publics);
        assert!(batch.iter().all(Result::is_ok));
        messages[7][0] ^= 1; // tampered content
        signatures[21] = NodeKey::from_seed([9; 32]).sign(&messages[21]); // forged
        let (batch, single) = batch_and_single(&messages, &signatures, &publics);
        assert_eq!(batch, single);
        let refused: Vec<usize> = (0..batch.len()).filter(|&i| batch[i].is_err()).collect();
        assert_eq!(refused, vec![7, 21]);
        assert!(verify_batch(&[]).is_empty());
    }

    /// The batch equation itself (no per-signature fallback) holds for a
    /// good run under several keys and fails when any one signature is bad;
    /// otherwise the fallback would hide a broken equation.
    #[test]
    fn batch_equation_alone_decides() {
        let (messages, signatures, publics) = signed_page(12);
        let equation_holds = |messages: &[Vec<u8>], signatures: &[Signature]| {
            let mut batch = BatchEquation::with_capacity(messages.len());
            batch.clear();
            for i in 0..messages.len() {
                let item = SignedMessage {
                    message: &messages[i],
                    signature: &signatures[i],
                    key: &publics[i],
                };
                let (r_point, s) = strict_parts(&item).expect("well-formed signature");
                let z = curve25519_dalek::Scalar::from(1000 + i as u128);
                batch.add(&item, r_point, s, z);
            }
            assert_eq!(batch.key_terms.len(), 2, "terms grouped per key");
            batch.holds()
        };
        assert!(equation_holds(&messages, &signatures));
        let mut tampered = messages.clone();
        tampered[5][3] ^= 4;
        assert!(!equation_holds(&tampered, &signatures));
        let mut swapped = signatures.clone();
        swapped.swap(2, 4); // both signed by the same key, other messages
        assert!(!equation_holds(&messages, &swapped));
        let mut empty = BatchEquation::with_capacity(0);
        empty.clear();
        assert!(empty.holds());
    }

    #[test]
    fn batch_keeps_the_strict_refusals() {
        let (messages, signatures, publics) = signed_page(6);
        let mut bad = signatures.clone();
        // R = identity (small order): S*B == R + k*A fails only by luck; refused up front.
        let mut identity_r = bad[1].0;
        identity_r[..32].copy_from_slice(&[
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0,
        ]);
        bad[1] = Signature(identity_r);
        // S + l (non-canonical S): verifies under the lax equation, refused by strict.
        let mut s_plus_l = bad[2].0;
        // The group order l, little-endian.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(s_plus_l[32 + i]) + u16::from(l[i]) + carry;
            s_plus_l[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        bad[2] = Signature(s_plus_l);
        bad[3] = Signature::EMPTY;
        let (batch, single) = batch_and_single(&messages, &bad, &publics);
        assert_eq!(batch, single);
        let refused: Vec<usize> = (0..batch.len()).filter(|&i| batch[i].is_err()).collect();
        assert_eq!(refused, vec![1, 2, 3]);
        // A small-order key is refused for every signature.
        let weak = PublicKey::from_base64(&BASE64.encode(&identity_r[..32])).unwrap();
        assert!(weak.is_weak());
        assert!(!publics[0].is_weak());
        let weak_keys = vec![weak; 6];
        let (batch, single) = batch_and_single(&messages, &signatures, &weak_keys);
        assert_eq!(batch, single);
        assert!(batch.iter().all(Result::is_err));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn batch_verdicts_equal_single_verdicts(
            n in 1usize..24,
            corruptions in proptest::collection::vec((0usize..24, 0u8..4, 0usize..64, 1u8..=255), 0..6),
        ) {
            let (mut messages, mut signatures, mut publics) = signed_page(n);
            for (idx, how, byte_idx, mask) in corruptions {
                let idx = idx % n;
                match how {
                    0 => {
                        let len = messages[idx].len();
                        messages[idx][byte_idx % len] ^= mask;
                    }
                    1 => signatures[idx].0[byte_idx] ^= mask,
                    2 => publics[idx] = publics[(idx + 1) % n],
                    _ => signatures[idx] = signatures[(idx + 1) % n],
                }
            }
            let (batch, single) = batch_and_single(&messages, &signatures, &publics);
            proptest::prop_assert_eq!(batch, single);
        }
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
