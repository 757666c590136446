//! The live stream's `withdrawn` event (what the console drops a copy on):
//! a subscriber that was shown a report gets `{id, owner, version}` when its
//! owner narrows the releasability away from the subscriber's party; a
//! subscriber the report was never released to hears nothing of it.

use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use serde_json::{json, Value};
use trilat_core::{Kind, Marking, Report, ReportDraft, Tlp};
use trilat_node::config::Role;
use trilat_node::AppState;

use crate::common::{cluster, eventually, party, Api};

/// One server-sent event as read off the wire.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) data: String,
}

/// Reads `api`'s live stream (real mode) into a shared list until it ends.
pub(crate) async fn subscribe(api: &Api) -> Arc<Mutex<Vec<SseEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let response = api
        .client
        .get(format!("{}/api/v1/stream", api.url))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let sink = events.clone();
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let raw: String = buffer.drain(..end + 2).collect();
                let field = |name: &str| -> String {
                    raw.lines().filter_map(|l| l.strip_prefix(name)).collect()
                };
                let name = field("event: ");
                if !name.is_empty() {
                    let (id, data) = (field("id: "), field("data: "));
                    sink.lock().unwrap().push(SseEvent { name, id, data });
                }
            }
        }
    });
    events
}

/// The `withdrawn` events about `report` among `events`.
fn withdrawn_of(events: &Mutex<Vec<SseEvent>>, report: &Report) -> Vec<SseEvent> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name == "withdrawn" && e.data.contains(&report.id.to_string()))
        .cloned()
        .collect()
}

fn note_draft(rel_to: &[&str], text: &str) -> ReportDraft {
    ReportDraft::new(
        party("USA"),
        Kind::new("note").unwrap(),
        Marking::new("UNCLASSIFIED", Tlp::Green, rel_to.iter().copied()),
        json!({ "text": text }),
        trilat_node::now(),
    )
}

/// Publishes at USA a version of `report` released to `rel_to` only.
async fn narrow(usa: &AppState, report: &Report, rel_to: &[&str]) -> Report {
    let mut draft = report.next_version(trilat_node::now());
    draft.marking = Marking::new("UNCLASSIFIED", Tlp::Green, rel_to.iter().copied());
    trilat_node::publish(usa, draft).await.unwrap()
}

/// Waits until `events` holds a `report` event for `report`'s version.
async fn shown(what: &str, events: &Mutex<Vec<SseEvent>>, report: &Report) {
    let id = format!("{}@{}", report.key(), report.version);
    eventually(what, || async {
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.name == "report" && e.id == id)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_reaches_the_subscribers_shown_the_report_and_no_one_else() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = cluster(dir.path()).await;
    let usa = cluster.state("USA");
    // Both subscribers at JPN's node, the node that receives USA's
    // withdrawal: KOR's is a party the report was never released to.
    let jpn_node = cluster.node("JPN");
    let reader = |as_party: &str| {
        Api::new(
            &jpn_node.url,
            &jpn_node.tokens[&(party(as_party), Role::Reader)],
        )
    };
    let (jpn, kor) = (reader("JPN"), reader("KOR"));
    let (jpn_events, kor_events) = (subscribe(&jpn).await, subscribe(&kor).await);

    let first = trilat_node::publish(usa, note_draft(&["USA", "JPN"], "convoy leaves Busan"))
        .await
        .unwrap();
    shown("JPN's subscriber shown version 1", &jpn_events, &first).await;
    narrow(usa, &first, &["USA"]).await;
    eventually("JPN's subscriber told of the withdrawal", || async {
        !withdrawn_of(&jpn_events, &first).is_empty()
    })
    .await;
    let told = withdrawn_of(&jpn_events, &first);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].id, format!("{}@2", first.key()));
    let body: Value = serde_json::from_str(&told[0].data).unwrap();
    assert_eq!(
        body,
        json!({ "id": first.id.to_string(), "owner": "USA", "version": 2 })
    );

    // A second report, released to KOR too, then withdrawn from JPN: KOR's
    // subscriber gets that withdrawal, which JPN's node broadcast after the
    // first one (one channel, in order). So KOR's stream has passed the
    // first withdrawal by then, and carried nothing of it.
    let marker = trilat_node::publish(
        usa,
        note_draft(&["USA", "JPN", "KOR"], "convoy turns north"),
    )
    .await
    .unwrap();
    shown("KOR's subscriber shown the marker", &kor_events, &marker).await;
    shown("JPN's subscriber shown the marker", &jpn_events, &marker).await;
    narrow(usa, &marker, &["USA", "KOR"]).await;
    eventually(
        "KOR's subscriber told of the marker's withdrawal",
        || async { !withdrawn_of(&kor_events, &marker).is_empty() },
    )
    .await;
    let about_first: Vec<SseEvent> = kor_events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.data.contains(&first.id.to_string()) || e.id.contains(&first.id.to_string()))
        .cloned()
        .collect();
    assert!(
        about_first.is_empty(),
        "KOR's subscriber heard of a report never released to KOR: {about_first:?}"
    );
    withdrawal_log(&jpn, &kor, &first, &marker).await;
}

/// JPN's withdrawal log (what a replay reads) as each reader sees it: JPN's
/// both withdrawals, with the time JPN's node received them; KOR's only the
/// marker's, as KOR may see no version of the first report.
async fn withdrawal_log(jpn: &Api, kor: &Api, first: &Report, marker: &Report) {
    let logged = |page: &Value| -> Vec<(String, u64)> {
        page["withdrawals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let key = format!(
                    "{}/{}",
                    w["owner"].as_str().unwrap(),
                    w["id"].as_str().unwrap()
                );
                (key, w["version"].as_u64().unwrap())
            })
            .collect()
    };
    let (status, page) = jpn.get("/api/v1/withdrawals").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        logged(&page),
        vec![(first.key().to_string(), 2), (marker.key().to_string(), 2)]
    );
    for entry in page["withdrawals"].as_array().unwrap() {
        let received =
            trilat_core::Timestamp::parse(entry["received_at"].as_str().unwrap()).unwrap();
        assert!(
            received >= first.modified && received <= trilat_node::now(),
            "{entry}"
        );
    }
    let after_first = page["withdrawals"][0]["seq"].as_u64().unwrap();
    let (_, rest) = jpn
        .get(&format!("/api/v1/withdrawals?after={after_first}"))
        .await;
    assert_eq!(logged(&rest), vec![(marker.key().to_string(), 2)]);
    assert_eq!(rest["next"], page["next"]);
    let (status, page) = kor.get("/api/v1/withdrawals").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(logged(&page), vec![(marker.key().to_string(), 2)]);
    let (status, _) = kor.get("/api/v1/withdrawals?after=x").await;
    assert_eq!(status, 400, "a bad place in the log is refused");
}
