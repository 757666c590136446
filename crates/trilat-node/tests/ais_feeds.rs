//! The AIS feeds of a node: the UDP listener (`[engines.ais] udp_listen`) and
//! the TCP feed client (`tcp_feeds`) against a TCP server the test runs.
//! Real NMEA (hand-made fixture lines with right checksums: a position, a
//! two-part type 5, a tag block) must come out as vessels in
//! `GET /api/v1/ais/status` and as `maritime.event` reports; garbage is
//! counted as errors; the client reconnects after the server hangs up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt as _;

use crate::common::{engine_node_with, eventually, Api};

/// Type 1 position of MMSI 445000001 (DPRK MID) at 36.5 N 124.5 E.
const POSITION_445000001: &str = "!AIVDM,1,1,,A,16`Ha@@00l`qrW0Dpbp4lSnt0000,0*37";
/// Type 5 static data of MMSI 445000001 in two sentences; IMO 1234568 fails
/// its check digit, so reassembling it raises an `invalid-imo` anomaly.
const STATIC_445000001: [&str; 2] = [
    "!AIVDM,2,1,7,A,56`Ha@@0Bm`Q3DIP000HDDB1@E=@0000000,0*5B",
    "!AIVDM,2,2,7,A,0001@<Pj::4GdNECPCD3h000000000000000,2*37",
];
/// Position of MMSI 445000002 with a tag block: source TEST-RX, received at
/// 1767225600 (2026-01-01T00:00:00Z), which becomes the event's time.
const TAGGED_445000002: &str =
    "\\s:TEST-RX,c:1767225600*09\\!AIVDM,1,1,,B,16`Ha@P00Q`rGr0DtE@4lSnt0000,0*19";
/// Position of MMSI 445000003, sent only after the TCP feed reconnects.
const POSITION_445000003: &str = "!AIVDM,1,1,,A,16`Ha@h017`rm=0Dww`4lSnt0000,0*31";

/// One JPN node with the AIS UDP listener on `udp` and a TCP feed to `tcp`.
async fn feed_node(
    dir: &std::path::Path,
    udp: std::net::SocketAddr,
    tcp: std::net::SocketAddr,
) -> (trilat_node::cluster::BackendNode, Api) {
    let engines = json!({"ais": {"udp_listen": udp.to_string(), "tcp_feeds": [tcp.to_string()]}});
    engine_node_with(dir, engines, "/api/v1/ais/status").await
}

/// The `identity-anomaly` kinds published for `mmsi`, with each event's start.
async fn anomalies(api: &Api, mmsi: u32) -> Vec<(String, i64)> {
    let (status, page) = api
        .get("/api/v1/reports?kind=maritime.event&limit=1000")
        .await;
    assert_eq!(status, 200, "{page}");
    page["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["payload"])
        .filter(|p| p["event"] == "identity-anomaly" && p["mmsi"] == mmsi)
        .map(|p| {
            (
                p["anomaly"].as_str().unwrap_or("").to_string(),
                p["start_unix_ms"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

async fn status(api: &Api) -> Value {
    let (code, body) = api.get("/api/v1/ais/status").await;
    assert_eq!(code, 200, "{body}");
    body
}

fn vessel(status: &Value, mmsi: u32) -> Option<&Value> {
    status["vessels"]
        .as_array()?
        .iter()
        .find(|v| v["mmsi"] == mmsi)
}

/// A port nobody listens on yet (bound, read, released).
fn free_udp_port() -> std::net::SocketAddr {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn udp_listener_and_tcp_feed_with_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let feed_server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp_addr = feed_server.local_addr().unwrap();
    let udp_addr = free_udp_port();
    let accepted = Arc::new(AtomicUsize::new(0));
    // The feed: first connection sends an over-long line, garbage and a
    // tagged position, then hangs up; the second sends one more position
    // and stays open.
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let server_accepted = accepted.clone();
    let server = tokio::spawn(async move {
        let (mut first, _) = feed_server.accept().await.unwrap();
        server_accepted.fetch_add(1, Ordering::SeqCst);
        let over_long = "x".repeat(5_000);
        let text = format!("{over_long}\r\nnot nmea at all\r\n{TAGGED_445000002}\r\n");
        first.write_all(text.as_bytes()).await.unwrap();
        first.shutdown().await.unwrap();
        drop(first);
        let (mut second, _) = feed_server.accept().await.unwrap();
        server_accepted.fetch_add(1, Ordering::SeqCst);
        second
            .write_all(format!("{POSITION_445000003}\n").as_bytes())
            .await
            .unwrap();
        let _ = release_rx.await;
    });
    let (_node, api) = feed_node(dir.path(), udp_addr, tcp_addr).await;

    // UDP: one datagram with a position, garbage, and a two-part type 5.
    let sender = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let datagram = format!(
        "{POSITION_445000001}\r\n!AIVDM,1,1,,A,garbage*00\r\n{}\r\n{}\r\n",
        STATIC_445000001[0], STATIC_445000001[1]
    );
    // Datagrams can be lost before the listener binds: resend until heard.
    let probe = api.clone();
    eventually("UDP vessel 445000001 with its type 5 identity", || {
        let (api, sender, datagram) = (probe.clone(), &sender, datagram.clone());
        async move {
            sender.send_to(datagram.as_bytes(), udp_addr).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let status = status(&api).await;
            vessel(&status, 445000001).is_some_and(|v| v["imo"] == 1234568)
        }
    })
    .await;
    let status_now = status(&api).await;
    let v = vessel(&status_now, 445000001).unwrap();
    assert_eq!(v["shipname"], "FEED TEST", "{v}");
    assert_eq!(v["callsign"], "P5FX", "{v}");
    assert!((v["lat"].as_f64().unwrap() - 36.5).abs() < 1e-4, "{v}");
    // The anomaly reports are published after the status shows the vessel.
    let probe = api.clone();
    eventually("UDP vessel 445000001's anomaly reports", || {
        let api = probe.clone();
        async move {
            let found = anomalies(&api, 445000001).await;
            let kinds: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
            kinds.contains(&"dprk-mid") && kinds.contains(&"invalid-imo")
        }
    })
    .await;

    // TCP: the tagged line's time is the event's time; after the hang-up the
    // client reconnects (backoff 1 s) and the second connection's line lands.
    let probe = api.clone();
    eventually("TCP vessel 445000002 from the tagged line", || {
        let api = probe.clone();
        async move { !anomalies(&api, 445000002).await.is_empty() }
    })
    .await;
    assert_eq!(
        anomalies(&api, 445000002).await,
        vec![("dprk-mid".to_string(), 1_767_225_600_000)]
    );
    // The vessel shows in the status as soon as it is tracked; its anomaly
    // report is published after that, so wait for the report itself.
    let probe = api.clone();
    eventually(
        "TCP vessel 445000003 and its anomaly after the reconnect",
        || {
            let api = probe.clone();
            async move {
                vessel(&status(&api).await, 445000003).is_some()
                    && !anomalies(&api, 445000003).await.is_empty()
            }
        },
    )
    .await;
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // Garbage is counted, not fatal: one line from UDP (each resend counts
    // again), one from TCP; the over-long line never reaches the decoder.
    let status_now = status(&api).await;
    let decode = &status_now["decode"];
    let errors = decode["errors"].as_u64().unwrap();
    assert!(errors >= 2, "{decode}");
    assert!(decode["messages"].as_u64().unwrap() >= 4, "{decode}");
    assert_eq!(decode["incomplete_groups"], 0, "{decode}");
    assert!(status_now["vessels_tracked"].as_u64().unwrap() >= 3);
    let _ = release_tx.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn ais_status_is_for_the_own_party_only() {
    let dir = tempfile::tempdir().unwrap();
    let unused_tcp = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_node, api) = feed_node(dir.path(), free_udp_port(), unused_tcp).await;
    let (code, _) = Api::new(&api.url, "not-a-token")
        .get("/api/v1/ais/status")
        .await;
    assert_eq!(code, 401);
    // A feed that is down leaves the node serving.
    let (code, body) = api.get("/api/v1/ais/status").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["decode"]["lines"], 0, "{body}");
}
