//! `trilat sanctions screen-id`: an OFAC-format list (the published CSV layout, written here)
//! with a wallet, an e-mail, a BIC and a vessel; single values and a batch file are screened
//! through the real binary.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

/// Two SDN rows in the published layout (12 fields, `-0-` for null): a person with an XBT and
/// an ETH address and an e-mail, a bank with its BIC, and a vessel with IMO and MMSI.
const SDN: &str = "\
90001,\"KIM, Chol Su\",\"individual\",\"DPRK3] [CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - XBT 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h; Digital Currency Address - ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed; Email Address kcs@example.kp; Digital Currency Address - XMR 5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320.\"\r\n\
90002,\"SAMPLE TRADE BANK\",-0- ,\"DPRK\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"SWIFT/BIC KDBKKPPY; Website www.sample-bank.kp.\"\r\n\
90003,\"OCEAN SAMPLE\",\"vessel\",\"DPRK3\",-0- ,\"HMYZ\",\"Oil Tanker\",\"3000\",\"2000\",\"Korea, North\",-0- ,\"Vessel Registration Identification IMO 9191345; MMSI 445112000.\"\r\n";

fn trilat(args: &[&str], lists: &Path) -> Output {
    Command::new(TRILAT)
        .args(args)
        .arg("--lists")
        .arg(lists)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn screen_id_single_values() {
    let dir = tempfile::TempDir::new().unwrap();
    let sdn = dir.path().join("sdn.csv");
    std::fs::write(&sdn, SDN).unwrap();

    // An Ethereum address in lower case finds the EIP-55-spelled listing, with the programmes.
    let out = trilat(
        &[
            "sanctions",
            "screen-id",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "--json",
        ],
        &sdn,
    );
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let hits = answer["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{answer}");
    assert_eq!(hits[0]["entity_id"], "ofac:90001");
    assert_eq!(hits[0]["currency"], "ETH");
    assert_eq!(
        hits[0]["programmes"],
        serde_json::json!(["DPRK3", "CYBER2"])
    );

    // The BIC by its head-office form; the e-mail in another case; the vessel by MMSI.
    assert!(
        stdout(&trilat(&["sanctions", "screen-id", "KDBKKPPYXXX"], &sdn)).contains("ofac:90002")
    );
    assert!(
        stdout(&trilat(&["sanctions", "screen-id", "KCS@Example.KP"], &sdn)).contains("ofac:90001")
    );
    assert!(stdout(&trilat(
        &["sanctions", "screen-id", "445112000", "--type", "mmsi"],
        &sdn
    ))
    .contains("OCEAN SAMPLE"));

    // A Base58 address with one letter changed: no hit, and its checksum failure is said.
    let text = stdout(&trilat(
        &[
            "sanctions",
            "screen-id",
            "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9H",
        ],
        &sdn,
    ));
    assert!(text.contains("checksum fails"), "{text}");
    assert!(text.contains("no listed identifier"), "{text}");

    // An unknown type is refused, naming the known ones.
    let out = trilat(&["sanctions", "screen-id", "x", "--type", "bogus"], &sdn);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("digital_currency"));
}

#[test]
fn screen_id_batch_file() {
    let dir = tempfile::TempDir::new().unwrap();
    let sdn = dir.path().join("sdn.csv");
    std::fs::write(&sdn, SDN).unwrap();
    let batch = dir.path().join("wallets.txt");
    std::fs::write(
        &batch,
        "# wallets seen on an exchange\n\
         1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n\
         12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h\n\
         \n\
         5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320\n",
    )
    .unwrap();
    let out = trilat(
        &["sanctions", "screen-id", "--batch", batch.to_str().unwrap()],
        &sdn,
    );
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["line"], 3);
    assert_eq!(lines[0]["entity_id"], "ofac:90001");
    // The listed XMR "address" is invalid (a 64-hex hash) but screened as the list wrote it.
    assert_eq!(lines[1]["line"], 5);
    assert_eq!(lines[1]["currency"], "XMR");
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("3 identifiers, 2 matched"), "{summary}");
}

/// `import` without `--store` writes to the XDG data directory, not the current folder, and
/// `screen-id` without `--lists` reads it from there.
#[test]
fn import_default_store_is_the_data_dir() {
    let dir = tempfile::TempDir::new().unwrap();
    let (cwd, data) = (dir.path().join("work"), dir.path().join("data"));
    std::fs::create_dir_all(&cwd).unwrap();
    let sdn = dir.path().join("sdn.csv");
    std::fs::write(&sdn, SDN).unwrap();
    let run = |args: &[&str]| {
        Command::new(TRILAT)
            .args(args)
            .current_dir(&cwd)
            .env("XDG_DATA_HOME", &data)
            .env_remove("TRILAT_SANCTIONS_STORE")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    };
    stdout(&run(&["sanctions", "import", sdn.to_str().unwrap()]));
    assert!(data.join("trilat/sanctions/ofac.json").is_file());
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "wrote into the current folder"
    );
    assert!(stdout(&run(&["sanctions", "screen-id", "KDBKKPPY"])).contains("ofac:90002"));
}

/// The real UN consolidated list, or `None` (saying so) when `../shared/data` is absent.
fn un_list() -> Option<std::path::PathBuf> {
    let root = std::env::var("TRILAT_SHARED_DATA").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        std::path::PathBuf::from,
    );
    let path = root.join("sanctions/un/UN_consolidated_2026-02-27.xml");
    if !path.exists() {
        eprintln!(
            "skipping: {} not found (set TRILAT_SHARED_DATA)",
            path.display()
        );
        return None;
    }
    Some(path)
}

#[test]
fn screen_id_un_imo_and_passport() {
    let Some(un) = un_list() else {
        return;
    };
    // The company IMO number the UN writes in a comment ("IMO number: 5905801."), found by the
    // query as a user types it, with the listing's programme.
    let answer: Value = serde_json::from_str(&stdout(&trilat(
        &["sanctions", "screen-id", "IMO 5905801", "--json"],
        &un,
    )))
    .unwrap();
    let hits = answer["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{answer}");
    assert_eq!(hits[0]["entity_id"], "un:KPe.074");
    assert_eq!(hits[0]["caption"], "WEIHAI WORLD-SHIPPING FREIGHT");
    assert_eq!(hits[0]["programmes"], serde_json::json!(["DPRK"]));
    // A passport from INDIVIDUAL_DOCUMENT (listed in English, Spanish and French: one hit).
    let answer: Value = serde_json::from_str(&stdout(&trilat(
        &[
            "sanctions",
            "screen-id",
            "645120196",
            "--type",
            "passport",
            "--json",
        ],
        &un,
    )))
    .unwrap();
    let hits = answer["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{answer}");
    assert_eq!(hits[0]["entity_id"], "un:KPi.008");
    assert_eq!(hits[0]["programmes"], serde_json::json!(["DPRK"]));
}
