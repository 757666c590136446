//! The shipped scenarios played by the real binary with `--cluster`, many
//! times faster than real time. The degraded-network drill (the runner
//! owns the three nodes, so it can crash and restart the US node): the
//! test watches the US node's port while the drill plays, then opens the
//! nodes' kept stores and checks the after-action report's outages against
//! both: when the node was down, and what it (and Japan, after the link
//! outage) caught up. The other two: every inject played, nothing
//! missing, no duplicate or gap.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use trilat_core::{Party, ReportId, Timestamp};
use trilat_store::{AuditAction, ReportStore as _, SqliteStore};

const TRILAT: &str = env!("CARGO_BIN_EXE_trilat");
/// The shipped scenarios.
const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
/// One cluster at a time: three nodes and a runner fill the 2-core CI
/// machine, and the restart's timing is watched.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
/// Exercise seconds per wall second: the US node is down 60 s, 1.2 s here.
const SPEED: &str = "50";
/// How often the test knocks on the US node's port.
const POLL_MS: u64 = 20;
/// The whole run, generously (about 12 s of play, 5 s of settling).
const RUN_S_MAX: u64 = 240;

fn now_ms() -> i64 {
    trilat_node::now_ms()
}

/// While the run plays: the spells (first and last unix ms) in which the
/// US node's port refused connections, once its URL is printed on stderr
/// (the last spell may be the cluster stopping at the end); and the
/// child's stderr.
fn watch_usa(child: &mut std::process::Child) -> (Vec<(i64, i64)>, String) {
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut text = String::new();
    let mut usa: Option<SocketAddr> = None;
    let mut down: Vec<(i64, i64)> = Vec::new();
    let mut was_up = true;
    let deadline = Instant::now() + Duration::from_secs(RUN_S_MAX);
    loop {
        while let Ok(line) = lines_rx.try_recv() {
            if let Some(url) = line.strip_prefix("USA node at http://") {
                usa = Some(url.trim().parse().unwrap());
            }
            text.push_str(&line);
            text.push('\n');
        }
        if child.try_wait().unwrap().is_some() {
            // The rest of stderr.
            while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(2)) {
                text.push_str(&line);
                text.push('\n');
            }
            return (down, text);
        }
        assert!(
            Instant::now() < deadline,
            "the run took over {RUN_S_MAX} s:\n{text}"
        );
        if let Some(addr) = usa {
            let at_ms = now_ms();
            let up = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok();
            match (up, down.last_mut()) {
                (false, Some((_, last))) if !was_up => *last = at_ms,
                (false, _) => down.push((at_ms, at_ms)),
                (true, _) => {}
            }
            was_up = up;
        }
        std::thread::sleep(Duration::from_millis(POLL_MS));
    }
}

/// The first `receive` entry of each report in the node's audit log.
fn first_receipts(store: &SqliteStore) -> BTreeMap<ReportId, (Timestamp, trilat_core::ReportKey)> {
    let mut first = BTreeMap::new();
    let mut after = 0;
    loop {
        let entries = store.audit(after, 1000).unwrap();
        let Some(last) = entries.last() else {
            return first;
        };
        after = last.seq;
        for entry in entries {
            let event = entry.event;
            if event.action != AuditAction::Receive {
                continue;
            }
            let key = event.report_key().unwrap();
            first.entry(key.id).or_insert((event.at, key));
        }
    }
}

/// What the test sees in `party`'s store: the exercise reports created
/// before `to` that the node first received at or after `to`, and those
/// of them received by `until` (after which the report had been read).
fn caught_up_in_store(
    dir: &Path,
    party: &str,
    to: Timestamp,
    until: Timestamp,
) -> (BTreeSet<ReportId>, BTreeSet<ReportId>) {
    let store = SqliteStore::open(dir.join(party).join("data/trilat.sqlite3")).unwrap();
    let (mut all, mut by_until) = (BTreeSet::new(), BTreeSet::new());
    for (id, (at, key)) in first_receipts(&store) {
        let report = store
            .get(&key)
            .unwrap()
            .expect("a received report is stored");
        if report.exercise && report.created_at < to && at >= to {
            all.insert(id);
            if at <= until {
                by_until.insert(id);
            }
        }
    }
    (all, by_until)
}

fn timestamp(value: &Value) -> Timestamp {
    serde_json::from_value(value.clone()).unwrap()
}

fn ids(value: &Value) -> BTreeSet<ReportId> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The id of the first product of the inject labelled `label`.
fn product_of(report: &Value, label: &str) -> ReportId {
    let inject = report["injects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no inject {label}"));
    serde_json::from_value(inject["products"][0]["id"].clone()).unwrap()
}

#[test]
fn the_degraded_network_drill_restarts_the_us_node_and_reports_what_it_caught_up() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let nodes_dir = dir.path().join("nodes");
    let out = dir.path().join("aar");
    // A JPN–KOR outage, a launch, a US node restart.
    let scenario = format!("{SCENARIOS}/degraded-network.toml");
    let mut child = Command::new(TRILAT)
        .args([
            "exercise",
            "run",
            &scenario,
            "--cluster",
            "--speed",
            SPEED,
            "--cluster-dir",
        ])
        .arg(&nodes_dir)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (seen_down, stderr) = watch_usa(&mut child);
    assert!(child.wait().unwrap().success(), "{stderr}");
    // The first spell, ended by the restart (a second one is the cluster
    // stopping after the report).
    let (seen_down_from, seen_down_to) = *seen_down.first().expect("the test saw the US node down");

    let (report_path, report) = after_action(&out);
    let run_path = report_path
        .to_string_lossy()
        .replace(".after-action.json", ".run.json");
    let run: Value = serde_json::from_slice(&std::fs::read(run_path).unwrap()).unwrap();
    let run_ended_at = timestamp(&run["ended_at"]);

    let outages = report["outages"].as_array().unwrap();
    let types: Vec<&str> = outages
        .iter()
        .map(|o| o["type_name"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["link_outage", "node_restart"], "{outages:?}");
    let (link, restart) = (&outages[0], &outages[1]);
    assert_eq!(link["parties"], serde_json::json!(["JPN", "KOR"]));
    assert_eq!(restart["parties"], serde_json::json!(["USA"]));

    // The restart's interval holds every moment the test found the port
    // closed; 60 exercise seconds at ×50 is 1.2 s.
    let (from, to) = (timestamp(&restart["from"]), timestamp(&restart["to"]));
    assert!(
        from.unix_ms() <= seen_down_from,
        "{from:?} after {seen_down_from}"
    );
    assert!(seen_down_to <= to.unix_ms(), "{to:?} before {seen_down_to}");
    let down_ms = to.unix_ms() - from.unix_ms();
    assert!((1_000..30_000).contains(&down_ms), "down {down_ms} ms");

    // What USA caught up, as the report says and as its store shows.
    let usa = &restart["caught_up"][0];
    assert_eq!(usa["party"], "USA");
    let reported = ids(&usa["products"]);
    assert_eq!(usa["n_products"].as_u64().unwrap() as usize, reported.len());
    let (in_store, by_end) = caught_up_in_store(&nodes_dir, "USA", to, run_ended_at);
    assert!(
        reported.is_subset(&in_store),
        "{reported:?} not all in {in_store:?}"
    );
    assert!(
        by_end.is_subset(&reported),
        "{by_end:?} not all in {reported:?}"
    );
    // Japan's note, published while the US node was down, among them.
    let jpn_note = product_of(&report, "Japan's note while the US node is down");
    assert!(reported.contains(&jpn_note), "{reported:?}");
    let last_after_ms = usa["last_after_ms"].as_i64().unwrap();
    assert!((0..60_000).contains(&last_after_ms), "{last_after_ms}");

    // And Japan caught up Korea's note after the link was restored.
    let link_to = timestamp(&link["to"]);
    let jpn = link["caught_up"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["party"] == "JPN")
        .unwrap();
    let kor_note = product_of(&report, "Korea's note during the outage");
    assert!(ids(&jpn["products"]).contains(&kor_note), "{jpn:?}");
    let (jpn_in_store, _) = caught_up_in_store(&nodes_dir, "JPN", link_to, run_ended_at);
    assert!(jpn_in_store.contains(&kor_note));

    // The restarted node kept its store: what it had before the crash is
    // still there (the drill's first note, from KOR, at T+0).
    let start_note = product_of(&report, "Drill start");
    let usa_store = SqliteStore::open(nodes_dir.join("USA/data/trilat.sqlite3")).unwrap();
    let key = trilat_core::ReportKey::new(Party::new("KOR").unwrap(), start_note);
    assert!(usa_store.get(&key).unwrap().is_some());
    // Nothing missing anywhere.
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["kind"] != "gap"),
        "no gap: {findings:?}"
    );

    // The page shades the outage rows: two link ends, one node.
    let html =
        std::fs::read_to_string(report_path.to_string_lossy().replace(".json", ".html")).unwrap();
    let bands: Vec<&str> = html
        .lines()
        .filter(|l| l.starts_with("<rect class=\"outage\""))
        .collect();
    assert_eq!(bands.len(), 3, "{bands:?}");
    assert!(bands[2].contains("USA node down from"), "{}", bands[2]);
}

/// The after-action report written to `out`: its path and its JSON.
fn after_action(out: &Path) -> (std::path::PathBuf, Value) {
    let path = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".after-action.json"))
        .expect("the report was written");
    let report = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path, report)
}

#[test]
fn the_freedom_edge_day_and_the_lofted_icbm_play_with_nothing_missing() {
    // Measured on the 2-core machine (debug build, other builds running):
    // 17.5 s and 31.5 s of wall time.
    for (name, speed) in [("freedom-edge-day", "100"), ("lofted-icbm-gap", "200")] {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let out = tempfile::tempdir().unwrap();
        let scenario = format!("{SCENARIOS}/{name}.toml");
        let run = Command::new(TRILAT)
            .args([
                "exercise",
                "run",
                &scenario,
                "--cluster",
                "--speed",
                speed,
                "--out",
            ])
            .arg(out.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{name}: {stderr}");
        let (_, report) = after_action(out.path());
        let text = std::fs::read_to_string(&scenario).unwrap();
        let n_injects = trilat_exercise::Scenario::parse(name, &text)
            .unwrap()
            .injects
            .len();
        assert_eq!(
            report["injects"].as_array().unwrap().len(),
            n_injects,
            "{name}"
        );
        for party in report["summary"].as_array().unwrap() {
            assert_eq!(party["n_missing"], 0, "{name}: {party}");
            assert!(party["n_received"].as_u64().unwrap() > 0, "{name}: {party}");
        }
        let findings = report["findings"].as_array().unwrap();
        assert!(
            findings.iter().all(|f| f["kind"] == "unacknowledged"),
            "{name}: only warnings nobody acknowledged (nobody watches): {findings:?}"
        );
    }
}
