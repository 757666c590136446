//! ARCHITECTURE.md draws every dependency edge between the workspace's
//! crates; this test holds that drawing to the crates' `Cargo.toml` files,
//! so a new edge (a design change) cannot land without the map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Edges = BTreeMap<String, BTreeSet<String>>;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The workspace crates a line names (`trilat`, `trilat-core` …).
fn crate_names(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_lowercase() || c == '-'))
        .filter(|word| *word == "trilat" || word.starts_with("trilat-"))
        .map(str::to_string)
        .collect()
}

/// The edges of the first code block after `heading`: one
/// `crate ─► deps` entry per unindented line, continued on indented lines;
/// a line with no arrow lists crates without workspace dependencies.
fn drawn_edges(architecture: &str, heading: &str) -> Edges {
    let after = architecture
        .split_once(heading)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no {heading:?}"))
        .1;
    let block = after
        .split("```")
        .nth(1)
        .expect("the drawing is a code block");
    let mut edges = Edges::new();
    let mut current: Vec<String> = Vec::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with(' ') {
            let deps = crate_names(line);
            assert!(
                !current.is_empty(),
                "continuation without an entry: {line:?}"
            );
            for name in &current {
                edges.get_mut(name).unwrap().extend(deps.iter().cloned());
            }
            continue;
        }
        current = match line.split_once('►') {
            Some((from, to)) => {
                let from = crate_names(from);
                assert_eq!(from.len(), 1, "one crate left of the arrow: {line:?}");
                edges
                    .entry(from[0].clone())
                    .or_default()
                    .extend(crate_names(to));
                from
            }
            None => {
                let names = crate_names(line.split(':').next().unwrap_or(""));
                for name in &names {
                    edges.entry(name.clone()).or_default();
                }
                // Their continuation lines name no crates.
                names
            }
        };
    }
    edges
}

/// `(package name, workspace crates in [dependencies], in [dev-dependencies])`
/// of every crate under `crates/`.
fn manifest_edges() -> (Edges, Edges) {
    let (mut deps, mut dev_deps) = (Edges::new(), Edges::new());
    for entry in std::fs::read_dir(Path::new(WORKSPACE).join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let toml: toml::Table = text.parse().unwrap();
        let name = toml["package"]["name"].as_str().unwrap().to_string();
        let workspace_crates = |table: &str| -> BTreeSet<String> {
            toml.get(table)
                .and_then(|t| t.as_table())
                .map(|t| {
                    t.keys()
                        .filter(|k| k.starts_with("trilat"))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        deps.insert(name.clone(), workspace_crates("dependencies"));
        dev_deps.insert(name, workspace_crates("dev-dependencies"));
    }
    (deps, dev_deps)
}

#[test]
fn the_architecture_draws_every_dependency_edge() {
    let architecture =
        std::fs::read_to_string(Path::new(WORKSPACE).join("ARCHITECTURE.md")).unwrap();
    let (deps, dev_deps) = manifest_edges();
    assert!(deps.len() >= 13, "every crate read: {:?}", deps.keys());
    assert_eq!(
        drawn_edges(&architecture, "Every dependency edge"),
        deps,
        "ARCHITECTURE.md vs Cargo.toml"
    );
    let dev_edges: Edges = dev_deps
        .into_iter()
        .filter(|(_, d)| !d.is_empty())
        .collect();
    assert_eq!(
        drawn_edges(&architecture, "Test-only edges"),
        dev_edges,
        "ARCHITECTURE.md vs [dev-dependencies]"
    );
}

#[test]
fn a_missing_edge_is_noticed() {
    let drawing = "Every dependency edge\n```\ntrilat-ais ─► trilat-geo\ntrilat-geo: none\n```\n";
    let edges = drawn_edges(drawing, "Every dependency edge");
    assert_eq!(
        edges["trilat-ais"],
        BTreeSet::from(["trilat-geo".to_string()])
    );
    assert!(edges["trilat-geo"].is_empty());
    let (deps, _) = manifest_edges();
    assert_ne!(edges, deps);
}
