//! The background tasks a node starts after it is served (an engine
//! partition's lease and owner, an AIS feed): they belong to the node and
//! stop with it ([`crate::Node::stop`]). A task spawned loose would outlive
//! its node inside the same runtime: in the tests, the owner of a stopped
//! node's partition went on re-creating the input stream its cluster had
//! just deleted (each reserves its `max_bytes` of JetStream storage).

use std::future::Future;
use std::sync::Mutex;

use tokio::task::JoinHandle;

/// Most tasks one node holds: 64 AIS partitions and 16 sensor groups, a
/// lease task and an owner each, and the AIS feeds, with room to spare.
/// Finished tasks are let go first; past the bound a task is still run,
/// and a warning says it will not stop with the node.
pub const NODE_TASKS_MAX: usize = 1024;

/// A node's background tasks (shared by every clone of its state).
#[derive(Default)]
pub struct NodeTasks {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    handles: Vec<JoinHandle<()>>,
    /// Set by [`NodeTasks::abort_all`]: a task asked for afterwards (by a
    /// start still under way on another thread) is not started.
    stopped: bool,
}

impl NodeTasks {
    /// Runs `task` on the current runtime as one of the node's tasks
    /// (not once the node stopped).
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.stopped {
            return;
        }
        let handles = &mut held.handles;
        handles.retain(|handle| !handle.is_finished());
        let handle = tokio::spawn(task);
        if handles.len() < NODE_TASKS_MAX {
            handles.push(handle);
        } else {
            tracing::warn!(
                n_tasks = handles.len(),
                "a node's background task is not held: it will not stop with the node"
            );
        }
    }

    /// Asks every task to stop (each stops at its next await); none is
    /// started from then on.
    pub fn abort_all(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.stopped = true;
        for handle in &held.handles {
            handle.abort();
        }
    }

    /// How many tasks have not finished yet (aborted tasks finish once
    /// their runtime drops them).
    pub fn n_running(&self) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let handles = held.handles.iter();
        handles.filter(|handle| !handle.is_finished()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finished tasks are let go at the next spawn; aborted tasks finish,
    /// and none starts after the abort.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_stop_when_aborted_and_none_starts_after() {
        let tasks = NodeTasks::default();
        tasks.spawn(async {});
        let start = std::time::Instant::now();
        while tasks.n_running() > 0 {
            assert!(start.elapsed() < std::time::Duration::from_secs(30));
            tokio::task::yield_now().await;
        }
        for _ in 0..3 {
            tasks.spawn(std::future::pending());
        }
        assert_eq!(
            tasks.held.lock().unwrap().handles.len(),
            3,
            "the finished went"
        );
        assert_eq!(tasks.n_running(), 3);
        tasks.abort_all();
        while tasks.n_running() > 0 {
            assert!(start.elapsed() < std::time::Duration::from_secs(30));
            tokio::task::yield_now().await;
        }
        tasks.spawn(std::future::pending());
        assert_eq!(tasks.held.lock().unwrap().handles.len(), 3, "none started");
    }
}
