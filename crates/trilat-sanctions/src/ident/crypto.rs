//! Digital currency addresses: which formats each OFAC ticker allows, and their checks.
//!
//! Checksums come from crates: `bs58` (Base58Check, Bitcoin and Ripple alphabets), `bech32`
//! (BIP-173 Bech32 and BIP-350 Bech32m, with the SegWit version rules) and `sha3` (Keccak-256
//! for EIP-55). Two formats have no checksum verified here and are checked for structure only:
//! Bitcoin Cash CashAddr (`q…` / `p…`, its BCH-code checksum is not in a kept crate) and Monero
//! (its block-wise Base58 is not Bitcoin's).

use sha3::{Digest as _, Keccak256};

/// One address format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Base58Check over the Bitcoin alphabet: accepted version prefixes and payload length
    /// (prefix included).
    Base58 {
        versions: &'static [&'static [u8]],
        len: usize,
    },
    /// Base58Check over the Ripple alphabet (XRP classic addresses, version 0x00).
    Ripple,
    /// SegWit address (BIP-173 / BIP-350) with this human-readable part.
    Segwit(&'static str),
    /// Bech32 or Bech32m string with this human-readable part (Zcash Sapling).
    Bech32(&'static str),
    /// `0x` and 40 hex digits, EIP-55 checksum when mixed-case (Ethereum and EVM chains).
    Evm,
    /// Bitcoin Cash CashAddr without its `bitcoincash:` prefix (structure only).
    CashAddr,
    /// Monero standard (95) or integrated (106) address (structure only).
    Monero,
}

const BTC_BASE58: Format = Format::Base58 {
    versions: &[&[0x00], &[0x05]],
    len: 21,
};
const TRON: Format = Format::Base58 {
    versions: &[&[0x41]],
    len: 21,
};

/// The formats of a ticker as OFAC writes it. Unknown tickers accept every format whose
/// checksum verifies.
fn formats(currency: &str) -> &'static [Format] {
    match currency {
        "XBT" | "BTC" => &[BTC_BASE58, Format::Segwit("bc")],
        "LTC" => &[
            Format::Base58 {
                versions: &[&[0x30], &[0x32], &[0x05]],
                len: 21,
            },
            Format::Segwit("ltc"),
        ],
        "BCH" => &[BTC_BASE58, Format::CashAddr],
        "BSV" => &[BTC_BASE58],
        "BTG" => &[Format::Base58 {
            versions: &[&[0x26], &[0x17]],
            len: 21,
        }],
        "DASH" => &[Format::Base58 {
            versions: &[&[0x4c], &[0x10]],
            len: 21,
        }],
        "XVG" => &[Format::Base58 {
            versions: &[&[0x1e], &[0x21]],
            len: 21,
        }],
        "ZEC" => &[
            Format::Base58 {
                versions: &[&[0x1c, 0xb8], &[0x1c, 0xbd]],
                len: 22,
            },
            Format::Bech32("zs"),
        ],
        "TRX" => &[TRON],
        "XRP" => &[Format::Ripple],
        "XMR" => &[Format::Monero],
        // Tether and USD Coin circulate on Ethereum, Tron and (Omni) Bitcoin.
        "USDT" | "USDC" => &[Format::Evm, TRON, BTC_BASE58],
        "ETH" | "ETC" | "BSC" | "ARB" | "BNB" | "MATIC" | "OP" | "AVAX" => &[Format::Evm],
        _ => &[
            Format::Evm,
            Format::Base58 {
                versions: &[],
                len: 0,
            },
            Format::Segwit(""),
        ],
    }
}

/// Checks `address` against the formats of `currency` (an OFAC ticker; `None` when unknown):
/// `Err` says why it is not a valid address of that currency.
pub fn check(currency: Option<&str>, address: &str) -> Result<(), String> {
    let ticker = currency.unwrap_or("").to_ascii_uppercase();
    let mut reasons: Vec<String> = Vec::new();
    for format in formats(&ticker) {
        match check_format(*format, address) {
            Ok(()) => return Ok(()),
            // A format whose shape matched explains the failure best: report it alone.
            Err((true, reason)) => return Err(reason),
            Err((false, reason)) => reasons.push(reason),
        }
    }
    let ticker = if ticker.is_empty() {
        "unknown"
    } else {
        &ticker
    };
    Err(format!("not a {ticker} address: {}", reasons.join("; ")))
}

/// `Err((shape_matched, reason))`.
fn check_format(format: Format, address: &str) -> Result<(), (bool, String)> {
    match format {
        Format::Base58 { versions, len } => base58(address, bs58::Alphabet::BITCOIN, versions, len),
        Format::Ripple => base58(address, bs58::Alphabet::RIPPLE, &[&[0x00]], 21),
        Format::Segwit(hrp) => segwit(address, hrp),
        Format::Bech32(hrp) => bech32_any(address, hrp),
        Format::Evm => evm(address),
        Format::CashAddr => cash_addr(address),
        Format::Monero => monero(address),
    }
}

fn base58(
    address: &str,
    alphabet: &'static bs58::Alphabet,
    versions: &[&[u8]],
    len: usize,
) -> Result<(), (bool, String)> {
    if !(25..=40).contains(&address.len()) {
        return Err((false, "not Base58Check (length)".into()));
    }
    let payload = match bs58::decode(address)
        .with_alphabet(alphabet)
        .with_check(None)
        .into_vec()
    {
        Ok(payload) => payload,
        Err(bs58::decode::Error::InvalidChecksum { .. }) => {
            return Err((true, "Base58Check checksum fails".into()))
        }
        Err(e) => return Err((false, format!("not Base58Check ({e})"))),
    };
    if versions.is_empty() {
        return Ok(()); // unknown ticker: the checksum is all we know
    }
    if payload.len() != len {
        return Err((
            false,
            format!(
                "Base58Check payload of {} bytes, expected {len}",
                payload.len()
            ),
        ));
    }
    if versions.iter().any(|v| payload.starts_with(v)) {
        Ok(())
    } else {
        // Another format of the same currency may take this version (USDT on Omni or Tron).
        Err((
            false,
            format!(
                "Base58Check version {:02x?} is not one of {versions:02x?}",
                &payload[..versions[0].len()]
            ),
        ))
    }
}

fn segwit(address: &str, hrp: &str) -> Result<(), (bool, String)> {
    let lower = address.to_ascii_lowercase();
    let shape = !hrp.is_empty() && lower.starts_with(&format!("{hrp}1"));
    match bech32::segwit::decode(address) {
        Ok((found, _, _)) if hrp.is_empty() || found.as_str().eq_ignore_ascii_case(hrp) => Ok(()),
        Ok((found, _, _)) => Err((
            false,
            format!("SegWit address of another chain ({})", found.as_str()),
        )),
        Err(e) => Err((shape, format!("SegWit Bech32/Bech32m fails: {e}"))),
    }
}

fn bech32_any(address: &str, hrp: &str) -> Result<(), (bool, String)> {
    let shape = address.to_ascii_lowercase().starts_with(&format!("{hrp}1"));
    match bech32::decode(address) {
        Ok((found, _)) if found.as_str().eq_ignore_ascii_case(hrp) => Ok(()),
        Ok((found, _)) => Err((
            false,
            format!("Bech32 prefix {} is not {hrp}", found.as_str()),
        )),
        Err(e) => Err((shape, format!("Bech32 fails: {e}"))),
    }
}

/// `0x` + 40 hex digits; all-lower or all-upper carry no checksum, mixed case must be EIP-55.
fn evm(address: &str) -> Result<(), (bool, String)> {
    let Some(hex) = address
        .strip_prefix("0x")
        .or_else(|| address.strip_prefix("0X"))
    else {
        return Err((false, "no 0x prefix".into()));
    };
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err((
            true,
            format!("0x and {} characters, expected 40 hex digits", hex.len()),
        ));
    }
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    if !(has_lower && has_upper) {
        return Ok(());
    }
    if eip55(hex) == hex {
        Ok(())
    } else {
        Err((true, "EIP-55 mixed-case checksum fails".into()))
    }
}

/// The EIP-55 spelling of 40 hex digits: a letter is upper case when the matching nibble of
/// Keccak-256 of the lower-case hex is 8 or more.
pub fn eip55(hex: &str) -> String {
    assert_eq!(hex.len(), 40, "EIP-55 needs 40 hex digits");
    let lower = hex.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    let res: String = lower
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            if b.is_ascii_alphabetic() && nibble >= 8 {
                b.to_ascii_uppercase() as char
            } else {
                b as char
            }
        })
        .collect();
    debug_assert!(res.eq_ignore_ascii_case(hex));
    res
}

const BECH32_CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn cash_addr(address: &str) -> Result<(), (bool, String)> {
    let body = address
        .to_ascii_lowercase()
        .trim_start_matches("bitcoincash:")
        .to_string();
    let shape = body.starts_with('q') || body.starts_with('p');
    if !shape || body.len() != 42 {
        return Err((false, "not CashAddr (q… or p…, 42 characters)".into()));
    }
    if let Some(c) = body.chars().find(|c| !BECH32_CHARSET.contains(*c)) {
        return Err((true, format!("CashAddr: {c:?} is not a Bech32 character")));
    }
    Ok(())
}

const MONERO_ALPHABET: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn monero(address: &str) -> Result<(), (bool, String)> {
    let shape = address.starts_with('4') || address.starts_with('8');
    if !shape || !(address.len() == 95 || address.len() == 106) {
        return Err((
            true,
            format!(
                "not a Monero address (4… or 8…, 95 or 106 characters; got {} characters)",
                address.len()
            ),
        ));
    }
    if let Some(c) = address.chars().find(|c| !MONERO_ALPHABET.contains(*c)) {
        return Err((true, format!("Monero: {c:?} is not a Base58 character")));
    }
    Ok(())
}

/// The lookup form of an address: the case-insensitive encodings (hex, Bech32, CashAddr) in
/// lower case, Base58 as written (its case is meaningful).
pub fn normalise(address: &str, out: &mut String) {
    let address = super::trim_remark(address);
    let case_free = address.starts_with("0x") || address.starts_with("0X") || bech32_like(address);
    if case_free {
        out.extend(address.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push_str(address);
    }
}

/// `hrp1…` in one case, with only Bech32 characters after the separator (a Base58 address
/// never has both `1` after letters and a single case all through, except by rare chance,
/// which costs nothing but a lower-cased lookup key).
fn bech32_like(address: &str) -> bool {
    let lower = address.bytes().any(|b| b.is_ascii_lowercase());
    let upper = address.bytes().any(|b| b.is_ascii_uppercase());
    if lower && upper {
        return false;
    }
    let Some(sep) = address.rfind('1') else {
        return address.len() == 42
            && (address.starts_with(['q', 'p', 'Q', 'P']))
            && address
                .bytes()
                .all(|b| BECH32_CHARSET.as_bytes().contains(&b.to_ascii_lowercase()));
    };
    sep > 0
        && address[..sep].bytes().all(|b| b.is_ascii_alphabetic())
        && address[sep + 1..]
            .bytes()
            .all(|b| BECH32_CHARSET.as_bytes().contains(&b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn valid(currency: &str, address: &str) {
        if let Err(e) = check(Some(currency), address) {
            panic!("{currency} {address}: {e}");
        }
    }

    #[track_caller]
    fn invalid(currency: &str, address: &str, why: &str) {
        match check(Some(currency), address) {
            Ok(()) => panic!("{currency} {address} accepted"),
            Err(e) => assert!(e.contains(why), "{currency} {address}: {e:?} lacks {why:?}"),
        }
    }

    #[test]
    fn bip173_bip350_vectors() {
        // BIP-173 / BIP-350 valid mainnet SegWit addresses (v0 Bech32, v1+ Bech32m).
        valid("XBT", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4");
        valid(
            "XBT",
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        );
        valid("XBT", "BC1SW50QGDZ25J");
        valid("XBT", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs");
        valid(
            "XBT",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        );
        // BIP-350 invalid: v1 with a Bech32 checksum, v0 with a Bech32m checksum.
        invalid(
            "XBT",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
            "SegWit",
        );
        invalid(
            "XBT",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
            "SegWit",
        );
        // A testnet address is not a mainnet XBT address.
        let testnet = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7";
        assert!(bech32::segwit::decode(testnet).is_ok());
        invalid("XBT", testnet, "another chain");
    }

    #[test]
    fn base58check() {
        // Genesis block coinbase and an OFAC-listed (DPRK-related) address.
        valid("XBT", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
        valid("XBT", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h");
        invalid("XBT", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "checksum");
        // A Litecoin address is valid Base58Check but not a Bitcoin version.
        invalid("XBT", "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", "version");
        valid("LTC", "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb");
        valid("TRX", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre");
        valid("USDT", "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR");
        valid("DASH", "XnPFsRWTaSgiVauosEwQ6dEitGYXgwznz2");
        valid("XRP", "rnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh66");
    }

    #[test]
    fn eip55_vectors() {
        // The examples of EIP-55.
        for address in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0xde709f2102306220921060314715629080e2fb77",
        ] {
            valid("ETH", address);
            assert_eq!(eip55(&address[2..].to_ascii_lowercase()), {
                let hex = &address[2..];
                if hex.bytes().any(|b| b.is_ascii_lowercase())
                    && hex.bytes().any(|b| b.is_ascii_uppercase())
                {
                    hex.to_string()
                } else {
                    eip55(hex)
                }
            });
        }
        invalid(
            "ETH",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            "EIP-55",
        );
        invalid("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "40 hex");
        invalid(
            "ETH",
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "not a ETH address",
        );
    }

    #[test]
    fn structure_only() {
        valid(
            "XMR",
            "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNsL",
        );
        // OFAC lists a 64-hex-digit value under XMR: a hash or key, not an address.
        invalid(
            "XMR",
            "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320",
            "Monero",
        );
        valid("BCH", "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq");
    }

    #[test]
    fn lookup_forms() {
        let form = |a: &str| {
            let mut out = String::new();
            normalise(a, &mut out);
            out
        };
        assert_eq!(
            form("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
        );
        assert_eq!(
            form("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert_eq!(
            form("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
        );
    }
}
