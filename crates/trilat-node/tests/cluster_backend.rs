//! The cluster of the tests on the several-process setup's components
//! (`TRILAT_TEST_CLUSTER_BACKEND=postgres`, `trilat_node::cluster`): each
//! node on PostgreSQL in a schema of its own and on the NATS bus under the
//! cluster's namespace. Two clusters started at once on one NATS server
//! keep to their own streams and subjects, and their schemas and streams
//! are dropped with them.
//!
//! Needs `TRILAT_TEST_POSTGRES` and `TRILAT_TEST_NATS` (scripts/test starts
//! both); without them it skips, saying so; under `CI=true` it fails.

use trilat_core::NodeKey;
use trilat_node::cluster::{write_node_files, Cluster, ClusterBackend};
use trilat_store::ReportStore as _;

use crate::common::{eventually, jpn_analyst_config, party, spec, Api};

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
    // strip_prefix, not trim_start_matches: the hex ID may itself begin with 'c'.
    let id = namespace
        .strip_prefix('c')
        .expect("a cluster's namespace is c<ID>");
    n_schemas_like(postgres, &format!("cluster_{id}_%")).await
}

/// The number of schemas whose name is `LIKE` `pattern`.
async fn n_schemas_like(postgres: &str, pattern: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(postgres, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE $1",
            &[&pattern.to_string()],
        )
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    row.get(0)
}

/// Posts `n` notes at USA; each reaches JPN and USA's own live stream
/// (through the bus's follower) once. Returns the notes' announcement
/// ids (`OWNER/ID@VERSION`).
async fn notes_travel_in_their_own_cluster(cluster: &Cluster, n: usize) -> Vec<String> {
    let usa = cluster.node("USA");
    let api = Api::new(&usa.url, usa.admin_token());
    let live = api.subscribe(false).await;
    let mut notes = Vec::new();
    for idx in 0..n {
        let report = api
            .post_note(&format!("note {idx}"), "UNCLASSIFIED", "GREEN", &["TRILAT"])
            .await;
        notes.push(report);
    }
    let ids: Vec<String> = notes.iter().map(|r| r.id.to_string()).collect();
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
    let live: Vec<String> = live
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(live, ids, "each note once on USA's live stream, in order");
    notes
        .iter()
        .map(|r| format!("{}@{}", r.key(), r.version))
        .collect()
}

/// Waits until the stream `stream_name` holds a message (`what` names the wait).
async fn wait_until_announced(js: &async_nats::jetstream::Context, stream_name: &str, what: &str) {
    eventually(what, || {
        let (js, stream_name) = (js.clone(), stream_name.to_string());
        async move {
            match js.get_stream(&stream_name).await {
                Ok(mut stream) => stream.info().await.unwrap().state.messages > 0,
                Err(_) => false,
            }
        }
    })
    .await;
}

/// The announcement ids in the USA stream of the cluster with `namespace`,
/// once it holds at least one (announcements are best effort: one may be
/// dropped under load, the store has the report).
async fn announced(js: &async_nats::jetstream::Context, namespace: &str) -> Vec<String> {
    let stream_name = format!("{namespace}_TRILAT_USA");
    wait_until_announced(
        js,
        &stream_name,
        &format!("an announcement in {stream_name}"),
    )
    .await;
    let mut stream = js.get_stream(&stream_name).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    let mut ids = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(seq).await.unwrap();
        assert!(
            message
                .subject
                .starts_with(&format!("{namespace}.trilat.USA.reports.")),
            "{}",
            message.subject
        );
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|id| id.as_str().to_string());
        ids.push(id.unwrap_or_default());
    }
    ids
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
    let (ids_a, ids_b) = tokio::join!(
        notes_travel_in_their_own_cluster(&a, 2),
        notes_travel_in_their_own_cluster(&b, 3),
    );
    // Each stream holds its own cluster's announcements only.
    let js = async_nats::jetstream::new(async_nats::connect(nats.as_str()).await.unwrap());
    for (namespace, own) in [(&ns_a, &ids_a), (&ns_b, &ids_b)] {
        let announced = announced(&js, namespace).await;
        assert!(
            announced.iter().all(|id| own.contains(id)),
            "{namespace}: {announced:?} are not all of {own:?}"
        );
    }
    drop(a);
    assert_eq!(
        n_schemas(&postgres, &ns_a).await,
        0,
        "dropped with the cluster"
    );
    assert!(
        js.get_stream(format!("{ns_a}_TRILAT_USA")).await.is_err(),
        "deleted with the cluster"
    );
    assert_eq!(
        n_schemas(&postgres, &ns_b).await,
        2,
        "the other cluster's kept"
    );
    assert!(js.get_stream(format!("{ns_b}_TRILAT_USA")).await.is_ok());
    drop(b);
    assert_eq!(n_schemas(&postgres, &ns_b).await, 0);
    assert!(js.get_stream(format!("{ns_b}_TRILAT_JPN")).await.is_err());
}

/// A node a test starts itself (`ClusterBackend::place`, as the TAXII and
/// sanctions tests' nodes): on PostgreSQL and NATS it keeps its reports in
/// a schema of its own and announces them under a namespace of its own,
/// and both go when the node is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placed_node_keeps_its_reports_in_its_own_schema_and_drops_it() {
    let test = "a_placed_node_keeps_its_reports_in_its_own_schema_and_drops_it";
    let Some(backend) = backend(test) else {
        return;
    };
    let ClusterBackend::Postgres { postgres, nats } = backend.clone() else {
        unreachable!("backend() gives PostgreSQL")
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut config, token, listener) = jpn_analyst_config(dir.path(), None).await;
    let addr = config.listen;
    let place = backend.place(&mut config).unwrap();
    let store_url = config.store.clone().unwrap();
    assert!(store_url.as_str().starts_with(postgres.as_str()));
    assert_eq!(config.bus.as_ref().unwrap().as_str(), nats);
    let namespace = config.bus_namespace.clone().unwrap();
    let id = namespace
        .strip_prefix('n')
        .expect("a node's namespace is n<ID>");
    let schemas = format!("node_{id}_%");
    assert_eq!(n_schemas_like(&postgres, &schemas).await, 1);
    write_node_files(dir.path(), &config, &NodeKey::generate()).unwrap();
    let state = trilat_node::open(config).unwrap();
    let node = place.serve_on(state, listener).await.unwrap();
    let api = Api::new(&format!("http://{addr}"), &token);
    let note = api
        .post_note("placed", "UNCLASSIFIED", "GREEN", &["JPN"])
        .await;
    let store = trilat_store::PostgresStore::open(store_url.as_str()).unwrap();
    assert!(store.get(&note.key()).unwrap().is_some(), "in its schema");
    drop(store);
    let js = async_nats::jetstream::new(async_nats::connect(nats.as_str()).await.unwrap());
    let stream_name = format!("{namespace}_TRILAT_JPN");
    wait_until_announced(
        &js,
        &stream_name,
        "the note announced under the node's namespace",
    )
    .await;
    drop(node);
    assert_eq!(
        n_schemas_like(&postgres, &schemas).await,
        0,
        "dropped with the node"
    );
    assert!(
        js.get_stream(&stream_name).await.is_err(),
        "deleted with the node"
    );
}
