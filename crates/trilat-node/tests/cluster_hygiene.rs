//! What the tests' clusters leave on the PostgreSQL and NATS servers
//! (`trilat_node::cluster`): a dropped cluster stops its nodes' engine
//! tasks before it deletes their streams (a partition's owner still running
//! made its input stream again, 1 GiB of JetStream storage reserved each);
//! the leftovers of a run that ended without its drops (killed) are swept
//! at the next start, and a running process's objects are not.
//!
//! Needs `TRILAT_TEST_POSTGRES` and `TRILAT_TEST_NATS` (scripts/test starts
//! both); without them it skips, saying so; under `CI=true` it fails.

use std::time::Duration;

use futures::TryStreamExt as _;
use trilat_node::cluster::{Cluster, ClusterBackend};
use trilat_store::PostgresStore;

use crate::common::{spec, within};

fn backend(test: &str) -> Option<(ClusterBackend, String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("TRILAT_TEST_POSTGRES"), var("TRILAT_TEST_NATS")) {
        (Some(postgres), Some(nats)) => {
            let backend = ClusterBackend::Postgres {
                postgres: postgres.clone(),
                nats: nats.clone(),
            };
            Some((backend, postgres, nats))
        }
        missing if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "under CI {test} needs TRILAT_TEST_POSTGRES and TRILAT_TEST_NATS \
             (scripts/test starts both); set: {missing:?}"
        ),
        _ => {
            eprintln!(
                "SKIP: {test}: TRILAT_TEST_POSTGRES or TRILAT_TEST_NATS not set, what the test \
                 clusters leave on the servers is not tested (scripts/test starts both servers)"
            );
            None
        }
    }
}

/// The names of the streams on the NATS server whose names begin with `prefix`.
async fn streams_named(js: &async_nats::jetstream::Context, prefix: &str) -> Vec<String> {
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_cluster_stops_its_engine_tasks_before_its_streams_go() {
    let test = "a_dropped_cluster_stops_its_engine_tasks_before_its_streams_go";
    let Some((backend, _, nats)) = backend(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &["USA", "JPN"], Default::default());
    let cluster = Cluster::start_on(spec, backend).await.unwrap();
    let states: Vec<_> = cluster.nodes.iter().map(|n| n.node.state.clone()).collect();
    let namespace = states[0].config.bus_namespace.clone().unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats.as_str()).await.unwrap());
    // The engines start in the background: their partitions' lease and
    // owner tasks run, and an owner has made the input stream.
    let input = format!("{namespace}_TRILAT_USA_INPUT_");
    let (states_, js_, input) = (&states, &js, &input);
    within(
        Duration::from_secs(120),
        "the engine partitions' tasks running and an input stream made",
        || async move {
            let running = states_.iter().all(|state| state.tasks.n_running() > 0);
            running && !streams_named(js_, input).await.is_empty()
        },
    )
    .await;
    drop(cluster);
    for state in &states {
        assert_eq!(
            state.tasks.n_running(),
            0,
            "{}'s tasks stopped",
            state.party
        );
    }
    let left = streams_named(&js, &format!("{namespace}_")).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_an_ended_run_are_swept_and_a_running_ones_kept() {
    let test = "leftovers_of_an_ended_run_are_swept_and_a_running_ones_kept";
    let Some((backend, postgres, nats)) = backend(test) else {
        return;
    };
    if !std::path::Path::new("/proc/self").exists() {
        eprintln!("SKIP: {test}: no /proc, a process's end cannot be told here");
        return;
    }
    // The ids a cluster's names carry (`p<PID>r<8 hex digits>`): of a
    // process that has ended, and of this one (running, nothing dropped).
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let ended = child.id();
    child.wait().unwrap();
    let random = rand::random::<u32>();
    let ended_id = format!("p{ended}r{random:08x}");
    let running_id = format!("p{}r{random:08x}", std::process::id());
    let schemas = [
        format!("cluster_{ended_id}_usa"),
        format!("node_{running_id}_jpn"),
    ];
    for schema in &schemas {
        drop(PostgresStore::open_in_schema(&postgres, schema).unwrap());
    }
    let js = async_nats::jetstream::new(async_nats::connect(nats.as_str()).await.unwrap());
    let streams = [
        format!("c{ended_id}_TRILAT_USA"),
        format!("n{running_id}_TRILAT_JPN"),
    ];
    for stream in &streams {
        js.create_stream(async_nats::jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![format!("{stream}.>")],
            max_bytes: 1 << 20,
            ..Default::default()
        })
        .await
        .unwrap();
    }

    // A cluster another test starts meanwhile sweeps too: what is gone
    // and what is kept is asked, not how many this sweep removed.
    backend.sweep_stale().unwrap();
    let present = |schema: &str| {
        let names = PostgresStore::schema_names(&postgres, schema).unwrap();
        names.iter().any(|name| name == schema)
    };
    assert!(!present(&schemas[0]), "the ended run's schema swept");
    assert!(present(&schemas[1]), "the running process's schema kept");
    assert!(js.get_stream(&streams[0]).await.is_err(), "swept");
    assert!(js.get_stream(&streams[1]).await.is_ok(), "kept");

    PostgresStore::drop_schema(&postgres, &schemas[1]).unwrap();
    js.delete_stream(&streams[1]).await.unwrap();
}
