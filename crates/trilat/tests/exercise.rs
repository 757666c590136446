//! `trilat exercise run` and `report` on the real binary, against three live
//! nodes started here (real HTTP, mutual TLS between them), faster than
//! real time. The report's figures are checked against what the test sees
//! directly: which reports each node stores, and the release rule's own
//! answer (`Policy::release`) for each party that lacks one.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use trilat_core::{Party, Report};
use trilat_node::client::NodeClient;
use trilat_node::cluster::{demo_policy, Cluster, ClusterSpec};
use trilat_node::config::Limits;
use trilat_store::AuditAction;

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");

/// Notes and a STIX object at three markings, a seismic bulletin posted at
/// KOR, a sanctions hit screened at JPN and shared with KOR only (at
/// CONFIDENTIAL: the trilateral agreement's level; GSOMIA covers only
/// missiles and notes), and one
/// short-range missile: a minute and a half of exercise, played at 40×
/// (about 3 s of notes, the flight's detections for about 12 s more).
const SCENARIO: &str = r#"
name = "test-drill"

[[inject]]
at_s = 0
label = "all partners"
type = "note"
party = "USA"
text = "EXERCISE: trilateral note"
marking = { level = "UNCLASSIFIED", tlp = "GREEN", rel_to = ["TRILAT"] }

[[inject]]
at_s = 10
label = "US-Japan only"
type = "note"
party = "USA"
text = "EXERCISE: US-Japan only"
marking = { level = "SECRET", tlp = "AMBER", rel_to = ["USA", "JPN"] }

[[inject]]
at_s = 20
label = "GSOMIA"
type = "note"
party = "JPN"
text = "EXERCISE: Japan and Korea only"
marking = { level = "SECRET", tlp = "RED", rel_to = ["JPN", "KOR"] }

[[inject]]
at_s = 30
label = "indicator"
type = "stix"
party = "KOR"
marking = { level = "UNCLASSIFIED", tlp = "GREEN", rel_to = ["TRILAT"] }
object = '''{"type": "indicator", "spec_version": "2.1", "id": "indicator--0f8e0a4c-9c4f-4a8e-8d1e-3b1a1e6f0c22", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}'''

[[inject]]
at_s = 32
label = "seismic"
type = "seismic"
party = "KOR"
format = "ims1"
epicentre = [41.3, 129.08]
depth_km = 0.7
magnitude_mb = 5.6
magnitude_ms = 4.2
origin_before_s = 30

[[inject]]
at_s = 34
label = "sanctions hit"
type = "sanctions_hit"
party = "JPN"
name = "Pak Chong Il"
schema = "person"
note = "EXERCISE: same reference number"
marking = { level = "CONFIDENTIAL", tlp = "AMBER", rel_to = ["JPN", "KOR"] }

[[inject]]
at_s = 40
label = "launch"
type = "missile_launch"
party = "JPN"
site = [39.2237, 125.6701]
bearing_deg = 75
apogee_km = 200
range_km = 900
burn_s = 30
seed = 5
"#;

/// The acknowledge route of the node's route table, filled in for `report`
/// (whichever of `{id}` and `{owner}` it names).
fn acknowledge_path(report: &Report) -> String {
    let (_, route) = trilat_node::ROUTES
        .iter()
        .find(|(method, path)| *method == "POST" && path.ends_with("/acknowledge"))
        .expect("the node has an acknowledge route");
    route
        .replace("{owner}", report.owner.as_str())
        .replace("{id}", &report.id.to_string())
}

/// A one-person UN consolidated list (the published XML's element names):
/// what JPN's node screens the sanctions hit against.
const UN_LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2030-01-02T00:00:00Z">
 <INDIVIDUALS>
  <INDIVIDUAL>
   <DATAID>1</DATAID><FIRST_NAME>PAK</FIRST_NAME><SECOND_NAME>CHO'NG-IL</SECOND_NAME>
   <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.901</REFERENCE_NUMBER>
   <LISTED_ON>2017-06-02</LISTED_ON>
  </INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES/>
</CONSOLIDATED_LIST>
"#;

/// A list store written by `trilat sanctions import`, as an operator makes one.
fn sanctions_store(dir: &Path) -> std::path::PathBuf {
    let list = dir.join("consolidated.xml");
    std::fs::write(&list, UN_LIST).unwrap();
    let store = dir.join("lists");
    let import = Command::new(TRILAT)
        .args(["sanctions", "import", "--store"])
        .arg(&store)
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "import: {}",
        String::from_utf8_lossy(&import.stderr)
    );
    store
}

async fn start(dir: &Path) -> Cluster {
    let parties = ["USA", "JPN", "KOR"].map(|p| Party::new(p).unwrap());
    let mut engines = toml::Table::new();
    engines.insert("exercise".into(), toml::Value::Boolean(true));
    let store = sanctions_store(dir);
    let mut sanctions = toml::Table::new();
    sanctions.insert(
        "lists".into(),
        toml::Value::Array(vec![toml::Value::String(store.display().to_string())]),
    );
    engines.insert("sanctions".into(), toml::Value::Table(sanctions));
    Cluster::start(ClusterSpec {
        parties: parties.to_vec(),
        dir: dir.to_path_buf(),
        ports: None,
        policy: demo_policy(),
        limits: Limits::default(),
        engines: parties
            .iter()
            .map(|p| (p.clone(), engines.clone()))
            .collect(),
    })
    .await
    .unwrap()
}

/// Runs the binary off the test's runtime (the nodes keep serving).
async fn trilat(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(TRILAT)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn flags(cluster: &Cluster) -> Vec<String> {
    let urls: Vec<&str> = cluster.nodes.iter().map(|n| n.url.as_str()).collect();
    let tokens: Vec<&str> = cluster.nodes.iter().map(|n| n.admin_token()).collect();
    vec![
        "--nodes".into(),
        urls.join(","),
        "--tokens".into(),
        tokens.join(","),
    ]
}

/// Every report the node stores with `exercise` as given (revoked and
/// withdrawn ones too), as the test reads it.
async fn stored(cluster: &Cluster, party: &str, exercise: bool) -> Vec<Report> {
    let node = cluster.node(party);
    let page = NodeClient::new(&node.url, node.admin_token())
        .get(&format!("/api/v1/reports?exercise={exercise}&include_revoked=true&include_withdrawn=true&limit=1000"))
        .await
        .unwrap();
    assert!(page["next"].is_null(), "one page holds them");
    serde_json::from_value(page["reports"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_played_scenario_is_reported_as_the_nodes_saw_it() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path()).await;
    let scenario = dir.path().join("drill.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("aar");
    let started = std::time::Instant::now();
    let mut args: Vec<String> = ["exercise", "run", scenario.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(flags(&cluster));
    args.extend(
        [
            "--engines-exercise",
            "--speed",
            "40",
            "--settle-s",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let run = trilat(args).await;
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // 40 s of notes and a 7.5-minute flight at 40×: about 15 s; generous.
    assert!(started.elapsed().as_secs() < 120, "{:?}", started.elapsed());
    let run_file = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".run.json"))
        .expect("a run record");
    // A KOR watch officer acknowledges the first missile warning, as the
    // console does; the report must find it in KOR's audit log.
    let warning = stored(&cluster, "KOR", true)
        .await
        .into_iter()
        .filter(|r| r.kind.as_str() == "missile.warning")
        .min_by_key(|r| r.created_at)
        .expect("a missile warning reached KOR");
    let kor = cluster.node("KOR");
    NodeClient::new(&kor.url, kor.admin_token())
        .post(&acknowledge_path(&warning), &serde_json::json!({}))
        .await
        .unwrap();
    let mut args: Vec<String> = ["exercise", "report", run_file.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(flags(&cluster).into_iter().skip(2)); // the run's own URLs
    args.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
    let report_run = trilat(args).await;
    assert!(
        report_run.status.success(),
        "{}",
        String::from_utf8_lossy(&report_run.stderr)
    );
    let json_path = run_file
        .to_string_lossy()
        .replace(".run.json", ".after-action.json");
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let html = std::fs::read_to_string(json_path.replace(".json", ".html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));

    // Every product is flagged exercise: nothing real-world was published.
    for party in ["USA", "JPN", "KOR"] {
        assert_eq!(
            stored(&cluster, party, false).await,
            Vec::<Report>::new(),
            "{party}"
        );
    }
    let policy = demo_policy();
    let injects = report["injects"].as_array().unwrap();
    assert_eq!(injects.len(), 7);
    let mut withheld = Vec::new();
    for inject in injects {
        let products = inject["products"].as_array().unwrap();
        assert!(!products.is_empty(), "{}: no product", inject["label"]);
        for product in products {
            let id = product["id"].as_str().unwrap();
            for delivery in product["deliveries"].as_array().unwrap() {
                let party = delivery["party"].as_str().unwrap();
                let held = stored(&cluster, party, true).await;
                let copy = held.iter().find(|r| r.id.to_string() == id);
                let status = delivery["status"].as_str().unwrap();
                match copy {
                    Some(report) if report.owner.as_str() == party => {
                        assert_eq!(status, "owner", "{id} at {party}")
                    }
                    Some(_) => {
                        assert_eq!(status, "received", "{id} at {party}");
                        let latency_ms = delivery["latency_ms"].as_i64().unwrap();
                        assert!((0..60_000).contains(&latency_ms), "{latency_ms}");
                    }
                    None => {
                        // The owner's copy, and the rule's own answer for this party.
                        let owner = product["owner"].as_str().unwrap();
                        let original = stored(&cluster, owner, true).await;
                        let original = original.iter().find(|r| r.id.to_string() == id).unwrap();
                        let refusal = policy
                            .release(original, &Party::new(party).unwrap())
                            .expect_err("a party lacks only what the rule withholds");
                        assert_eq!(status, "withheld", "{id} at {party}");
                        assert_eq!(delivery["reason"], refusal.to_string());
                        withheld.push(format!(
                            "{} {} at {party}: {}",
                            inject["label"], product["kind"], delivery["reason"]
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(
        withheld.len(),
        3,
        "KOR lacks the US-Japan note, USA the GSOMIA one and the hit report: {withheld:#?}"
    );
    let by_label = |label: &str| {
        injects
            .iter()
            .find(|i| i["label"] == label)
            .unwrap_or_else(|| panic!("{label}"))
    };
    let withheld_from = |label: &str| -> BTreeSet<String> {
        by_label(label)["parties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["n_withheld"].as_u64() > Some(0))
            .map(|p| p["party"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        withheld_from("US-Japan only"),
        BTreeSet::from(["KOR".to_string()])
    );
    assert_eq!(withheld_from("GSOMIA"), BTreeSet::from(["USA".to_string()]));
    assert_eq!(withheld_from("all partners"), BTreeSet::new());
    assert_eq!(
        withheld_from("sanctions hit"),
        BTreeSet::from(["USA".to_string()])
    );
    assert_eq!(withheld_from("seismic"), BTreeSet::new());
    // The seismic engine at KOR published the event and its assessment;
    // both reached the partners, and the assessment is the one the nodes
    // store (an origin 30 s before the inject, Ms:mb explosion-like).
    let seismic = by_label("seismic");
    let kinds: BTreeSet<&str> = seismic["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["nuclear.assessment", "seismic.event"])
    );
    for party in seismic["parties"].as_array().unwrap() {
        assert_eq!(party["n_withheld"], 0, "{party}");
    }
    let assessment_id = seismic["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "nuclear.assessment")
        .unwrap()["id"]
        .as_str()
        .unwrap();
    let usa_copy = stored(&cluster, "USA", true)
        .await
        .into_iter()
        .find(|r| r.id.to_string() == assessment_id)
        .expect("USA received KOR's assessment");
    assert_eq!(usa_copy.owner.as_str(), "KOR");
    // The bulletin's event id names the run and the inject (the fifth).
    let event_id = usa_copy.payload["event_id"].as_str().unwrap();
    assert!(event_id.ends_with("-5"), "{event_id}");
    // The hit report: JPN's, screened from its list, stored at KOR only.
    let hit = by_label("sanctions hit");
    let products = hit["products"].as_array().unwrap();
    assert_eq!(products.len(), 1, "{products:?}");
    assert_eq!(products[0]["kind"], "sanctions.hit");
    let hit_id = products[0]["id"].as_str().unwrap();
    let kor_copy = stored(&cluster, "KOR", true)
        .await
        .into_iter()
        .find(|r| r.id.to_string() == hit_id)
        .expect("KOR received JPN's hit report");
    assert_eq!(kor_copy.payload["query"]["name"], "Pak Chong Il");
    assert_eq!(kor_copy.payload["decision"], "confirmed");
    assert!(kor_copy.exercise);
    // The launch was fused at JPN and its products reached both partners.
    let launch = by_label("launch");
    assert!(launch["products"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["kind"] == "missile.assessment"));
    for party in launch["parties"].as_array().unwrap() {
        assert!(party["n_received"].as_u64() > Some(0), "{party}");
    }
    let acknowledged: Vec<&Value> = launch["products"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["deliveries"].as_array().unwrap())
        .filter(|d| !d["acknowledged"].is_null())
        .collect();
    assert_eq!(acknowledged.len(), 1, "{acknowledged:?}");
    assert_eq!(acknowledged[0]["party"], "KOR");
    assert_eq!(acknowledged[0]["acknowledged"]["by"], "KOR:admin");
    assert!(acknowledged[0]["acknowledged"]["after_ms"].as_i64() >= Some(0));
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["kind"] != "gap" && f["kind"] != "not-exercise"),
        "nothing missing, nothing unflagged: {findings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restart_against_nodes_the_runner_does_not_own_stops_the_run_before_anything_is_sent(
) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path()).await;
    let scenario = dir.path().join("restart.toml");
    std::fs::write(
        &scenario,
        "name = \"restart\"\n[[inject]]\nat_s = 0\ntype = \"note\"\nparty = \"JPN\"\ntext = \"EXERCISE\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n\n[[inject]]\nat_s = 10\nlabel = \"KOR restarts\"\ntype = \"node_restart\"\nparty = \"KOR\"\ndown_s = 30\n",
    )
    .unwrap();
    let mut args: Vec<String> = ["exercise", "run", scenario.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(flags(&cluster));
    args.extend(["--engines-exercise", "--out", dir.path().to_str().unwrap()].map(String::from));
    let run = trilat(args).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("inject 2 (KOR restarts): node_restart needs --cluster: the runner can stop and start only the nodes it started"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was played"), "{stderr}");
    for party in ["USA", "JPN", "KOR"] {
        assert!(stored(&cluster, party, true).await.is_empty(), "{party}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p_pauses_the_exercise_clock_and_r_resumes_it() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path()).await;
    let scenario = dir.path().join("one-note.toml");
    std::fs::write(
        &scenario,
        "name = \"one-note\"\n[[inject]]\nat_s = 2\ntype = \"note\"\nparty = \"JPN\"\ntext = \"EXERCISE\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n",
    )
    .unwrap();
    let mut args: Vec<String> = ["exercise", "run", scenario.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(flags(&cluster));
    args.extend(["--settle-s", "0", "--out", dir.path().to_str().unwrap()].map(String::from));
    let mut child = Command::new(TRILAT)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let started = std::time::Instant::now();
    stdin.write_all(b"p\n").unwrap();
    // Well past the inject's 2 s: paused, so nothing is published.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert!(
        stored(&cluster, "JPN", true).await.is_empty(),
        "played while paused"
    );
    stdin.write_all(b"r\n").unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(started.elapsed().as_secs_f64() >= 5.0);
    assert_eq!(stored(&cluster, "JPN", true).await.len(), 1);
    drop(stdin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sanctions_hit_at_a_node_without_lists_is_refused_before_anything_is_played() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("hit.toml");
    std::fs::write(
        &scenario,
        "name = \"hit\"\n[[inject]]\nat_s = 0\ntype = \"note\"\nparty = \"USA\"\ntext = \"EXERCISE\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n[[inject]]\nat_s = 1\nlabel = \"screening\"\ntype = \"sanctions_hit\"\nparty = \"JPN\"\nname = \"Pak Chong Il\"\n",
    )
    .unwrap();
    // --cluster without --sanctions-store: its nodes load no lists.
    let args: Vec<String> = [
        "exercise",
        "run",
        scenario.to_str().unwrap(),
        "--cluster",
        "--out",
        dir.path().to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let run = trilat(args).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("inject 2 (screening): JPN's node at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("has no sanctions lists loaded (no lists configured"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was played"), "{stderr}");
    let n_run_records = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".run.json")
        })
        .count();
    assert_eq!(n_run_records, 0);
}

/// The audit entries of `party`'s node about its federation links.
fn link_audit(cluster: &Cluster, party: &str) -> Vec<trilat_store::AuditEvent> {
    let entries = cluster.state(party).store.audit(0, 1000).unwrap();
    entries
        .into_iter()
        .map(|e| e.event)
        .filter(|e| e.action == AuditAction::Other && e.detail.starts_with("federation link"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_outage_holds_a_note_back_until_the_link_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path()).await;
    let scenario = dir.path().join("outage.toml");
    std::fs::write(
        &scenario,
        "name = \"outage\"\n[[inject]]\nat_s = 0\ntype = \"link_outage\"\nbetween = [\"JPN\", \"KOR\"]\nduration_s = 30\n\n[[inject]]\nat_s = 5\ntype = \"note\"\nparty = \"KOR\"\ntext = \"EXERCISE: during the outage\"\nmarking = { level = \"SECRET\", tlp = \"AMBER\", rel_to = [\"JPN\", \"KOR\"] }\n",
    )
    .unwrap();
    let mut args: Vec<String> = ["exercise", "run", scenario.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(flags(&cluster));
    args.extend(
        [
            "--speed",
            "10",
            "--settle-s",
            "0",
            "--out",
            dir.path().to_str().unwrap(),
        ]
        .map(String::from),
    );
    let run = trilat(args).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let note = stored(&cluster, "KOR", true).await;
    assert_eq!(note.len(), 1, "{note:?}");
    let key = note[0].key();

    // Both ends were cut, then restored, by the runner's admin token.
    for (node, peer) in [("JPN", "KOR"), ("KOR", "JPN")] {
        let log = link_audit(&cluster, node);
        let details: Vec<&str> = log.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(
            details,
            ["federation link suspended", "federation link resumed"],
            "{node}"
        );
        for event in &log {
            assert_eq!(event.counterparty.as_ref().map(|p| p.as_str()), Some(peer));
            assert_eq!(event.actor, format!("{node}:admin"));
        }
    }
    // JPN catches up after the restore (pull backoff at most 10 s), never
    // before it.
    let jpn = cluster.state("JPN");
    let mut received_at = None;
    for _ in 0..300 {
        let entries = jpn.store.audit(0, 1000).unwrap();
        received_at = entries
            .iter()
            .find(|e| {
                e.event.action == AuditAction::Receive && e.event.report_key() == Some(key.clone())
            })
            .map(|e| e.event.at);
        if received_at.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let received_at = received_at.expect("the note reached JPN after the link was restored");
    let restored_at = link_audit(&cluster, "JPN")[1].at;
    assert!(
        received_at >= restored_at,
        "received {received_at:?}, restored {restored_at:?}"
    );
}
