//! Which links an administrator has cut. The truth is in the store (one
//! [`ReportStore::sync_state`] key per peer), so a cut outlives a restart
//! and holds at every process of a node that runs as several on one store
//! (docs/scale.md): the process that serves the peer's requests or drives
//! the link may not be the one that took the administrator's request.
//! [`SuspendedLinks`] is each process's copy, read on every peer request
//! and link step; [`follow`] refreshes it from the store every
//! [`REFRESH`].

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use trilat_core::Party;
use trilat_store::{ReportStore, StoreError};

use crate::{AppError, AppState};

/// How often a process reads the suspensions from the store: how long
/// another process of the node may go on with a link just cut.
pub const REFRESH: Duration = Duration::from_secs(1);

/// The store's value for a cut link; any other value (an empty one after
/// a resume) is a link that runs.
const SUSPENDED: &str = "suspended";

fn key(peer: &Party) -> String {
    format!("link-suspended:{peer}")
}

/// This process's copy of the cut links.
#[derive(Default)]
pub struct SuspendedLinks {
    inner: Mutex<Copy>,
}

#[derive(Default)]
struct Copy {
    peers: BTreeSet<Party>,
    /// Bumped by every change made here, so that a refresh that read the
    /// store before the change does not undo it.
    generation: u64,
}

impl SuspendedLinks {
    /// Whether the link to `peer` is cut.
    pub fn contains(&self, peer: &Party) -> bool {
        self.lock().peers.contains(peer)
    }

    fn set(&self, peer: &Party, suspended: bool) {
        let mut copy = self.lock();
        copy.generation += 1;
        if suspended {
            copy.peers.insert(peer.clone());
        } else {
            copy.peers.remove(peer);
        }
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Replaces the copy with `peers` read from the store, unless a change
    /// was made here since `generation` (the next refresh brings it).
    fn replace(&self, peers: BTreeSet<Party>, generation: u64) {
        let mut copy = self.lock();
        if copy.generation == generation {
            copy.peers = peers;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Copy> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Cuts (`suspended`) or restores the link to `peer`: in the store first,
/// then in this process's copy. The caller has audited it.
pub async fn set_suspended(
    state: &AppState,
    peer: &Party,
    suspended: bool,
) -> Result<(), AppError> {
    let store = state.store.clone();
    let (key, value) = (key(peer), if suspended { SUSPENDED } else { "" });
    tokio::task::spawn_blocking(move || store.set_sync_state(&key, value))
        .await
        .map_err(AppError::internal)??;
    state.suspended.set(peer, suspended);
    Ok(())
}

/// Reads which of the configured peers' links are cut into this process's
/// copy. Called before the links start, then by [`follow`].
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    let generation = state.suspended.generation();
    let store = state.store.clone();
    let peers: Vec<Party> = state.config.peers.iter().map(|p| p.party.clone()).collect();
    let cut = tokio::task::spawn_blocking(move || cut_links(&*store, peers))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    state.suspended.replace(cut, generation);
    Ok(())
}

fn cut_links(store: &dyn ReportStore, peers: Vec<Party>) -> Result<BTreeSet<Party>, StoreError> {
    let mut cut = BTreeSet::new();
    for peer in peers {
        if store.sync_state(&key(&peer))?.as_deref() == Some(SUSPENDED) {
            cut.insert(peer);
        }
    }
    Ok(cut)
}

/// Keeps this process's copy current. A store that cannot be read leaves
/// the copy as it was (and is said in the log once per failure run).
pub async fn follow(state: AppState) {
    let mut failing = false;
    loop {
        tokio::time::sleep(REFRESH).await;
        match refresh(&state).await {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(%e, "cannot read the suspended federation links; keeping the last known");
            }
            Err(_) => {}
        }
    }
}
