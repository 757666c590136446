//! Missile fusion per sensor group (docs/scale.md, *Engine partitions*):
//! with several processes of one party on a bus, the detections of each
//! sensor group are fused by the one process holding the group's lease
//! `missile:<group>` ([`crate::lease_owner`]).
//!
//! A sensor group is a set of sensors whose detections are fused together:
//! `[engines.missile.sensor_groups]` names them (`west = ["JPN-…", …]`);
//! every sensor in no named group is in the group `default`, so with no
//! groups configured all detections are fused by one owner. Fusion never
//! combines detections of two groups (each owner feeds its groups'
//! detections only), so a group should hold every sensor that may see the
//! same missile.
//!
//! Every process accepts detections; it hands each group's detections to
//! the group's owner through JetStream (`trilat.<party>.input.<store>.
//! missile.<group>`), answering the sender once JetStream stored them. The
//! owner feeds them to its fuser, publishes the products through the
//! lease's fenced store, and acknowledges the message (as the AIS
//! partitions do, `ais_partition.rs`). A new owner starts fusing from
//! nothing: tracks in progress at the old owner are not continued.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use trilat_missile::sensors::DetectionRecord;

use crate::bus::input::{self, Processed, Received};
use crate::bus::Bus;
use crate::lease_owner::{is_fenced, Owner, Ownership};
use crate::{AppError, AppState};

/// The group of every sensor in no named group.
pub(super) const DEFAULT_GROUP: &str = "default";
/// Most sensor groups (each group's owner holds a fenced store: a
/// PostgreSQL connection and a thread).
const GROUPS_MAX: usize = 16;
/// Longest group name.
const GROUP_NAME_LEN_MAX: usize = 32;
/// The engine's name in subjects and consumers.
const ENGINE: &str = "missile";

/// Checks `[engines.missile.sensor_groups]`: names of letters, digits, `_`
/// and `-`, not `default`; each sensor in one group at most.
pub(super) fn check_groups(groups: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
    if groups.len() > GROUPS_MAX {
        return Err(format!(
            "missile.sensor_groups: {} groups; at most {GROUPS_MAX}",
            groups.len()
        ));
    }
    let mut group_of: HashMap<&str, &str> = HashMap::new();
    for (name, sensors) in groups {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-');
        if name.is_empty() || name.len() > GROUP_NAME_LEN_MAX || !name.chars().all(allowed) {
            return Err(format!(
                "missile.sensor_groups.{name}: a group's name is 1 to {GROUP_NAME_LEN_MAX} ASCII letters, digits, _ or -"
            ));
        }
        if name == DEFAULT_GROUP {
            return Err(format!(
                "missile.sensor_groups.{name}: \"{DEFAULT_GROUP}\" is the group of the sensors in no group"
            ));
        }
        for sensor in sensors {
            if let Some(other) = group_of.insert(sensor, name) {
                return Err(format!(
                    "missile.sensor_groups.{name}: sensor {sensor:?} is in group {other} already"
                ));
            }
        }
    }
    Ok(())
}

/// The sensor groups of a process on a bus: which group each sensor is
/// in, and who drives each group here.
pub(super) struct SensorGroups {
    bus: Arc<Bus>,
    group_of: HashMap<String, String>,
    ownerships: BTreeMap<String, Arc<Ownership>>,
}

impl SensorGroups {
    /// Starts a lease task and an owner task per group (the named ones
    /// and `default`).
    pub(super) fn start(
        state: &AppState,
        bus: Arc<Bus>,
        groups: &BTreeMap<String, Vec<String>>,
        holder: &str,
    ) -> Arc<SensorGroups> {
        let group_of = groups
            .iter()
            .flat_map(|(name, sensors)| sensors.iter().map(|s| (s.clone(), name.clone())))
            .collect();
        let ownerships = groups
            .keys()
            .map(String::as_str)
            .chain([DEFAULT_GROUP])
            .map(|name| {
                let ownership = Ownership::new(
                    format!("missile:{name}"),
                    format!("missile sensor group {name}"),
                    "engine:missile",
                    None,
                    holder.to_string(),
                );
                (name.to_string(), ownership)
            })
            .collect();
        let sensor_groups = Arc::new(SensorGroups {
            bus,
            group_of,
            ownerships,
        });
        for (name, ownership) in &sensor_groups.ownerships {
            let tasks = state.tasks.clone();
            tasks.spawn(crate::lease_owner::run(state.clone(), ownership.clone()));
            let (state, group) = (state.clone(), ownership.clone());
            let process = move |owner: Arc<Owner>, received: Received| {
                let (state, group) = (state.clone(), group.clone());
                async move { process(&state, &group, &owner, received).await }
            };
            let bus = sensor_groups.bus.clone();
            tasks.spawn(input::drive(
                bus,
                ownership.clone(),
                (ENGINE, name.clone()),
                process,
            ));
        }
        sensor_groups
    }

    fn group_of(&self, sensor: &str) -> &str {
        self.group_of
            .get(sensor)
            .map_or(DEFAULT_GROUP, String::as_str)
    }

    /// Hands each group's detections to its owner (one message per group,
    /// JSON lines), `flush` saying they end a batch; returns the number of
    /// detections handed off once JetStream stored them all. With
    /// `groups_flushed`, also a flush for each of those groups that had
    /// no detections here (the end of a stream).
    pub(super) async fn hand_off(
        &self,
        records: &[DetectionRecord],
        flush: bool,
        groups_flushed: &[String],
    ) -> Result<usize, AppError> {
        let mut batches: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        for record in records {
            let batch = batches.entry(self.group_of(&record.sensor)).or_default();
            serde_json::to_writer(&mut *batch, record).map_err(AppError::internal)?;
            batch.push(b'\n');
        }
        if flush {
            for group in groups_flushed {
                batches.entry(group.as_str()).or_default();
            }
        }
        let mut n_handed_off = 0;
        for (group, body) in batches {
            let n_batch = body.iter().filter(|b| **b == b'\n').count();
            let received = Received {
                body,
                received_ms: Some(crate::now_ms()),
                flush,
            };
            input::hand_off(&self.bus, (ENGINE, group), received)
                .await
                .map_err(|mut e| {
                    e.message = format!(
                        "{} ({n_handed_off} detections of other groups were accepted before it)",
                        e.message
                    );
                    e
                })?;
            n_handed_off += n_batch;
        }
        Ok(n_handed_off)
    }

    /// The groups of `records`' sensors.
    pub(super) fn groups_of(&self, records: &[DetectionRecord]) -> Vec<String> {
        let mut groups: Vec<String> = records
            .iter()
            .map(|r| self.group_of(&r.sensor).to_string())
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }
}

/// The owner's work on one message of a group's input: the detections
/// into this process's fuser, the products published as the owner.
async fn process(
    state: &AppState,
    ownership: &Ownership,
    owner: &Arc<Owner>,
    received: Received,
) -> Processed {
    let Ok(engines) = state.engines.get() else {
        return Processed::Left;
    };
    let mut records = Vec::new();
    for (idx, line) in received.body.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<DetectionRecord>(line) {
            Ok(record) => records.push(record),
            // Checked by the receiving process: only a bug or a foreign publisher gets here.
            Err(e) => tracing::warn!(line = idx + 1, %e, "handed-off detection not read"),
        }
    }
    let events = match engines.missile.feed(&records, received.flush) {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(e = %e.message, "handed-off detections refused by the fuser");
            return Processed::Done;
        }
    };
    match super::missile::publish_events(state, owner.store.clone(), events).await {
        Ok(_) => Processed::Done,
        Err(e) if is_fenced(&e) => {
            ownership.lose(state, owner, &e.message).await;
            Processed::Left
        }
        Err(e) => {
            tracing::warn!(e = %e.message, "missile products not published");
            Processed::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(groups: &[(&str, &[&str])], expect: &str) {
        let groups: BTreeMap<String, Vec<String>> = groups
            .iter()
            .map(|(name, sensors)| {
                let sensors = sensors.iter().map(|s| s.to_string()).collect();
                (name.to_string(), sensors)
            })
            .collect();
        match check_groups(&groups) {
            Ok(()) => assert_eq!(expect, "", "accepted"),
            Err(e) => {
                assert!(!expect.is_empty(), "refused: {e}");
                assert!(e.contains(expect), "{e}");
            }
        }
    }

    #[test]
    fn sensor_groups_are_checked() {
        check(&[], "");
        check(&[("west", &["JPN-1", "KOR-1"]), ("east", &["USA-1"])], "");
        check(&[("default", &["JPN-1"])], "missile.sensor_groups.default");
        check(&[("we st", &["JPN-1"])], "missile.sensor_groups.we st");
        check(&[("", &["JPN-1"])], "a group's name");
        check(
            &[("west", &["JPN-1"]), ("east", &["JPN-1"])],
            "sensor \"JPN-1\" is in group",
        );
        let many: Vec<(String, Vec<&str>)> = (0..=GROUPS_MAX)
            .map(|i| (format!("g{i}"), vec![]))
            .collect();
        let many: Vec<(&str, &[&str])> = many
            .iter()
            .map(|(name, sensors)| (name.as_str(), sensors.as_slice()))
            .collect();
        check(&many, "17 groups; at most 16");
    }
}
