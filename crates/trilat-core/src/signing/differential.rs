//! Adversarial Ed25519 inputs, and the check that [`verify_batch`] gives
//! `verify_strict`'s verdict on each, up to the one documented corner.
//! Shared by the unit tests (random bytes from proptest, in CI) and the
//! cargo-fuzz target `fuzz/fuzz_targets/verify_batch.rs` (bytes from
//! libFuzzer), so both exercise the same cases.
//!
//! A [`Case`] is built from arbitrary bytes: up to 64 signed messages under
//! keys that are honest (three of them, so keys repeat), of mixed order (an
//! honest key plus a torsion point), of small order, or non-canonically
//! encoded; with signatures that are honest, have a mixed-order or
//! small-order R (the latter satisfying the cofactored equation), a
//! non-canonical R or S, random bytes, another message's, or are exact
//! duplicates of the previous item.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::traits::IsIdentity as _;
use curve25519_dalek::Scalar;
use sha2::{Digest as _, Sha512};

use super::{verify_batch, PublicKey, Signature, SignedMessage};

/// Most items a case holds.
pub const CASE_LEN_MAX: usize = 64;
/// Longest message of a case.
const MESSAGE_LEN_MAX: usize = 48;

/// Messages, signatures and keys, one of each per item.
#[derive(Clone, Debug)]
pub struct Case {
    /// The signed bytes.
    pub messages: Vec<Vec<u8>>,
    /// One signature per message.
    pub signatures: Vec<Signature>,
    /// The key each signature must verify under.
    pub keys: Vec<PublicKey>,
}

/// What one [`check`] saw: items, `verify_strict` acceptances and the
/// documented corner (mixed-order R accepted by the batch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Items in the case.
    pub n_items: usize,
    /// Items `verify_strict` accepts (the batch accepted each of them).
    pub n_strict_ok: usize,
    /// Items `verify_strict` refuses that the batch accepted: each one
    /// checked to be in the documented corner.
    pub n_corner_accepted: usize,
}

/// Reads bytes as a stream of small choices; zeros once exhausted.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }
}

/// The point of order 8 whose multiples are the whole torsion subgroup
/// (its encoding is one of the eight small-order encodings every Ed25519
/// implementation that refuses small-order points lists).
fn torsion_generator() -> EdwardsPoint {
    let encoded = hex::decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
        .expect("hex literal");
    let point = CompressedEdwardsY(encoded.try_into().expect("32 bytes"))
        .decompress()
        .expect("a curve point");
    assert!(point.is_small_order());
    assert!(!(point * Scalar::from(4u8)).is_identity(), "order 8");
    point
}

/// The `idx % 8`-th multiple of the order-8 generator (0: the identity).
fn torsion_point(idx: u8) -> EdwardsPoint {
    torsion_generator() * Scalar::from(idx % 8)
}

fn hash_scalar(parts: &[&[u8]]) -> Scalar {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// The encoding of p + y0 (y0 < 19): a non-canonical encoding of y = y0.
fn non_canonical_encoding(y0: u8, sign: bool) -> [u8; 32] {
    let mut bytes = [0xff; 32];
    bytes[0] = 0xed + y0 % 19;
    bytes[31] = if sign { 0xff } else { 0x7f };
    bytes
}

/// A key of a case, and its secret scalar where there is one.
struct CaseKey {
    public: PublicKey,
    secret: Option<Scalar>,
}

fn public_key(encoded: [u8; 32]) -> Option<PublicKey> {
    ed25519_dalek::VerifyingKey::from_bytes(&encoded)
        .ok()
        .map(PublicKey)
}

fn case_key(choices: &mut Choices<'_>) -> CaseKey {
    let kind = choices.byte() % 6;
    let which = choices.byte();
    let honest_secret = hash_scalar(&[b"trilat differential key", &[which % 3]]);
    let honest_point = ED25519_BASEPOINT_POINT * honest_secret;
    let small_order = || CaseKey {
        public: public_key(torsion_point(which).compress().to_bytes()).expect("a curve point"),
        secret: None,
    };
    match kind {
        0..=2 => CaseKey {
            public: public_key(honest_point.compress().to_bytes()).expect("a curve point"),
            secret: Some(honest_secret),
        },
        3 => {
            // Mixed order: the honest point plus a torsion point (never the identity).
            let mixed = honest_point + torsion_point(1 + which % 7);
            CaseKey {
                public: public_key(mixed.compress().to_bytes()).expect("a curve point"),
                secret: Some(honest_secret),
            }
        }
        4 => small_order(),
        _ => match public_key(non_canonical_encoding(which, which & 0x80 != 0)) {
            Some(public) => CaseKey {
                public,
                secret: None,
            },
            None => small_order(),
        },
    }
}

/// Ed25519 signing with an explicit secret scalar, R = r·B + `r_torsion`.
fn sign_with(
    secret: &Scalar,
    key: &PublicKey,
    message: &[u8],
    r_torsion: EdwardsPoint,
) -> [u8; 64] {
    let nonce = hash_scalar(&[b"trilat differential nonce", secret.as_bytes(), message]);
    let r_encoded = (ED25519_BASEPOINT_POINT * nonce + r_torsion).compress();
    let challenge = hash_scalar(&[r_encoded.as_bytes(), key.0.as_bytes(), message]);
    let s = nonce + challenge * secret;
    let mut bytes = [0; 64];
    bytes[..32].copy_from_slice(r_encoded.as_bytes());
    bytes[32..].copy_from_slice(s.as_bytes());
    bytes
}

/// The group order l, little-endian.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// S + l: the same S mod l, not canonically encoded (S < l, so no overflow).
fn s_plus_group_order(signature: &mut [u8; 64]) {
    let mut carry = 0u16;
    for (s_byte, l_byte) in signature[32..].iter_mut().zip(GROUP_ORDER) {
        let sum = u16::from(*s_byte) + u16::from(l_byte) + carry;
        *s_byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
}

fn case_signature(choices: &mut Choices<'_>, key: &CaseKey, message: &mut [u8]) -> [u8; 64] {
    let kind = choices.byte() % 7;
    let which = choices.byte();
    // Keys without a secret get a signature under an unrelated scalar.
    let secret = key
        .secret
        .unwrap_or_else(|| hash_scalar(&[b"trilat differential stranger", &[which]]));
    let honest = |message: &[u8]| sign_with(&secret, &key.public, message, torsion_point(0));
    match kind {
        0 => honest(message),
        1 => sign_with(&secret, &key.public, message, torsion_point(1 + which % 7)),
        2 => {
            // Small-order R with S = k·a: the cofactored equation holds.
            let r_encoded = torsion_point(which).compress();
            let challenge = hash_scalar(&[r_encoded.as_bytes(), key.public.0.as_bytes(), message]);
            let mut bytes = [0; 64];
            bytes[..32].copy_from_slice(r_encoded.as_bytes());
            bytes[32..].copy_from_slice((challenge * secret).as_bytes());
            bytes
        }
        3 => {
            let mut bytes = honest(message);
            bytes[..32].copy_from_slice(&non_canonical_encoding(which, which & 0x80 != 0));
            bytes
        }
        4 => {
            let mut bytes = honest(message);
            s_plus_group_order(&mut bytes);
            bytes
        }
        5 => {
            let mut bytes: [u8; 64] = choices.bytes();
            bytes[0] ^= which;
            bytes
        }
        _ => {
            // Signed, then the message changed.
            let bytes = honest(message);
            if let Some(byte) = message.first_mut() {
                *byte ^= which | 1;
            }
            bytes
        }
    }
}

impl Case {
    /// The case the bytes choose (any bytes make a case).
    pub fn from_bytes(bytes: &[u8]) -> Case {
        let mut choices = Choices(bytes);
        let n_items = usize::from(choices.byte()) % (CASE_LEN_MAX + 1);
        let mut case = Case {
            messages: Vec::with_capacity(n_items),
            signatures: Vec::with_capacity(n_items),
            keys: Vec::with_capacity(n_items),
        };
        for item_idx in 0..n_items {
            // One item in eight repeats the previous one exactly.
            if item_idx > 0 && choices.byte() % 8 == 0 {
                case.messages.push(case.messages[item_idx - 1].clone());
                case.signatures.push(case.signatures[item_idx - 1]);
                case.keys.push(case.keys[item_idx - 1]);
                continue;
            }
            let key = case_key(&mut choices);
            let len = usize::from(choices.byte()) % (MESSAGE_LEN_MAX + 1);
            let mut message: Vec<u8> = (0..len).map(|_| choices.byte()).collect();
            let signature = case_signature(&mut choices, &key, &mut message);
            case.messages.push(message);
            case.signatures.push(Signature(signature));
            case.keys.push(key.public);
        }
        assert_eq!(case.messages.len(), n_items);
        case
    }

    /// The case as [`verify_batch`]'s input.
    pub fn items(&self) -> Vec<SignedMessage<'_>> {
        assert_eq!(self.messages.len(), self.signatures.len());
        assert_eq!(self.messages.len(), self.keys.len());
        (0..self.messages.len())
            .map(|idx| SignedMessage {
                message: &self.messages[idx],
                signature: &self.signatures[idx],
                key: &self.keys[idx],
            })
            .collect()
    }
}

/// Whether `item` is in [`verify_batch`]'s documented corner: R decodes
/// canonically, is of mixed order (neither small-order nor torsion-free),
/// the key is torsion-free, S is canonical and the cofactored equation
/// `[8](S·B − k·A − R) = 0` holds.
pub fn in_documented_corner(item: &SignedMessage<'_>) -> bool {
    let bytes = item.signature.0;
    let r_encoded = CompressedEdwardsY(bytes[..32].try_into().expect("64 bytes"));
    let Some(r_point) = r_encoded.decompress() else {
        return false;
    };
    let s_bytes: [u8; 32] = bytes[32..].try_into().expect("64 bytes");
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let key_point = item.key.0.to_edwards();
    if r_point.compress() != r_encoded
        || r_point.is_small_order()
        || r_point.is_torsion_free()
        || !key_point.is_torsion_free()
    {
        return false;
    }
    let challenge = hash_scalar(&[r_encoded.as_bytes(), item.key.0.as_bytes(), item.message]);
    let difference = ED25519_BASEPOINT_POINT * s - key_point * challenge - r_point;
    difference.mul_by_cofactor().is_identity()
}

/// Runs [`verify_batch`] on the case and compares each verdict with
/// `verify_strict`'s: the batch must accept every item `verify_strict`
/// accepts and refuse every item it refuses, except items in the
/// documented corner ([`in_documented_corner`]), which it may accept.
/// The error names the first item that breaks this.
pub fn check(case: &Case) -> Result<Checked, String> {
    let items = case.items();
    let batch = verify_batch(&items);
    let mut checked = Checked {
        n_items: items.len(),
        ..Checked::default()
    };
    for (item_idx, (item, verdict)) in items.iter().zip(&batch).enumerate() {
        let strict_ok = item
            .key
            .0
            .verify_strict(
                item.message,
                &ed25519_dalek::Signature::from_bytes(&item.signature.0),
            )
            .is_ok();
        match (verdict.is_ok(), strict_ok) {
            (true, true) => checked.n_strict_ok += 1,
            (false, false) => {}
            (false, true) => {
                return Err(format!(
                    "item {item_idx}: verify_batch refused a signature verify_strict accepts \
                     ({item:?})"
                ))
            }
            (true, false) if in_documented_corner(item) => checked.n_corner_accepted += 1,
            (true, false) => {
                return Err(format!(
                    "item {item_idx}: verify_batch accepted a signature verify_strict refuses, \
                     outside the documented corner ({item:?})"
                ))
            }
        }
    }
    Ok(checked)
}
