//! The cluster of the tests on the several-process setup's components
//! (`TRILAT_TEST_CLUSTER_BACKEND=postgres`, `trilat_node::cluster`): each
//! node on PostgreSQL in a schema of its own and on the NATS bus under the
//! cluster's namespace. Two clusters started at once on one NATS server
//! keep to their own streams and subjects, and their schemas are dropped
//! with them.
//!
//! Needs `TRILAT_TEST_POSTGRES` and `TRILAT_TEST_NATS` (scripts/test starts
//! both); without them it skips, saying so; under `CI=true` it fails.

use std::time::Duration;

use trilat_node::cluster::{Cluster, ClusterBackend};

use crate::common::{eventually, party, spec, Api};

fn backend(test: &str) -> Option<ClusterBackend> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("TRILAT_TEST_POSTGRES"), var("TRILAT_TEST_NATS")) {
        (Some(postgres), Some(nats)) => Some(ClusterBackend::Postgres { postgres, nats }),
        missing if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "under CI {test} needs TRILAT_TEST_POSTGRES and TRILAT_TEST_NATS \
             (scripts/test starts both); set: {missing:?}"
        ),
        _ => {
            eprintln!(
                "SKIP: {test}: TRILAT_TEST_POSTGRES or TRILAT_TEST_NATS not set, the cluster \
                 on PostgreSQL and NATS is not tested (scripts/test starts both servers)"
            );
            None
        }
    }
}

/// The number of schemas of the cluster whose bus namespace is `namespace`
/// (`c<ID>`: schemas `cluster_<ID>_<party>`).
async fn n_schemas(postgres: &str, namespace: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(postgres, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let pattern = format!("cluster_{}_%", namespace.trim_start_matches('c'));
    let row = client
        .query_one(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE $1",
            &[&pattern],
        )
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    row.get(0)
}

/// Posts `n` notes at USA; each reaches JPN and USA's own live stream
/// (through the bus's follower) once; USA's stream on NATS holds one
/// announcement per note, on the cluster's subjects.
async fn notes_travel_in_their_own_cluster(cluster: &Cluster, nats: &str, n: usize) {
    let usa = cluster.node("USA");
    let api = Api::new(&usa.url, usa.admin_token());
    let live = api.subscribe(false).await;
    let mut ids = Vec::new();
    for idx in 0..n {
        let report = api
            .post_note(&format!("note {idx}"), "UNCLASSIFIED", "GREEN", &["TRILAT"])
            .await;
        ids.push(report.id.to_string());
    }
    let jpn = cluster.node("JPN");
    let jpn_reader = Api::new(&jpn.url, jpn.reader_token(&party("JPN")));
    eventually("every note at JPN", || {
        let (jpn_reader, ids) = (jpn_reader.clone(), ids.clone());
        async move {
            let seen = jpn_reader.ids_of("note").await;
            ids.iter().all(|id| seen.contains(id))
        }
    })
    .await;
    eventually("every note on USA's live stream", || {
        let n_live = live.lock().unwrap().len();
        async move { n_live >= n }
    })
    .await;
    let namespace = usa.node.state.config.bus_namespace.clone().unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats).await.unwrap());
    let stream_name = format!("{namespace}_TRILAT_USA");
    eventually("one announcement per note in the cluster's stream", || {
        let (js, stream_name) = (js.clone(), stream_name.clone());
        async move {
            match js.get_stream(&stream_name).await {
                Ok(mut stream) => stream.info().await.unwrap().state.messages == n as u64,
                Err(_) => false,
            }
        }
    })
    .await;
    let mut stream = js.get_stream(&stream_name).await.unwrap();
    let last = stream
        .get_last_raw_message_by_subject(&format!("{namespace}.trilat.USA.reports.note"))
        .await
        .unwrap();
    assert!(last.subject.starts_with(&format!("{namespace}.")));
    // A settled count: nothing more arrives (the other cluster's notes
    // are on its own stream).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stream.info().await.unwrap().state.messages, n as u64);
    let live: Vec<String> = live
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(live, ids, "each note once on USA's live stream, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_on_one_nats_keep_to_their_own_streams_and_drop_their_schemas() {
    let test = "two_clusters_on_one_nats_keep_to_their_own_streams_and_drop_their_schemas";
    let Some(backend) = backend(test) else {
        return;
    };
    let ClusterBackend::Postgres { postgres, nats } = backend.clone() else {
        unreachable!("backend() gives PostgreSQL")
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let parties = ["USA", "JPN"];
    let (a, b) = tokio::join!(
        Cluster::start_on(
            spec(dir_a.path(), &parties, Default::default()),
            backend.clone()
        ),
        Cluster::start_on(
            spec(dir_b.path(), &parties, Default::default()),
            backend.clone()
        ),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let namespace = |cluster: &Cluster| {
        let config = &cluster.state("USA").config;
        assert!(config
            .store
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("postgres"));
        config.bus_namespace.clone().unwrap()
    };
    let (ns_a, ns_b) = (namespace(&a), namespace(&b));
    assert_ne!(ns_a, ns_b);
    assert_eq!(
        namespace(&a),
        a.state("JPN").config.bus_namespace.clone().unwrap()
    );
    assert_eq!(n_schemas(&postgres, &ns_a).await, 2);
    tokio::join!(
        notes_travel_in_their_own_cluster(&a, &nats, 2),
        notes_travel_in_their_own_cluster(&b, &nats, 3),
    );
    drop(a);
    assert_eq!(
        n_schemas(&postgres, &ns_a).await,
        0,
        "dropped with the cluster"
    );
    assert_eq!(
        n_schemas(&postgres, &ns_b).await,
        2,
        "the other cluster's kept"
    );
    drop(b);
    assert_eq!(n_schemas(&postgres, &ns_b).await, 0);
}
