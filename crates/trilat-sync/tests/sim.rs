//! Deterministic simulation of a federation (in the style of TigerBeetle's
//! VOPR): 3–5 nodes with a random policy, each holding an in-memory model
//! store and the very state machines the node runs — a [`PushLink`] and a
//! [`PullLink`] per peer, every page judged by [`judge_page`] — exchanging
//! reports through a simulated network that loses, duplicates, delays,
//! reorders and partitions messages, while nodes crash and restart, page
//! judgements and store writes take time (so pages are judged ahead of
//! earlier pages' writes, and pushes land in between), store writes fail
//! part-way, and a faulty actor injects forged, tampered, misdirected and
//! replayed reports. Squatters publish their own
//! report under another party's report id before that party does (ids
//! derived from STIX objects are predictable): a report is its owner and
//! its id, so both reports must reach everyone they are released to.
//!
//! * **Safety**, checked on every store: a node never holds a report the
//!   release rule forbids it, and never holds anything but a genuine version
//!   signed by its owner; a node never stores the same version twice.
//! * **Liveness**, checked once faults heal: every node converges to exactly
//!   the current version of every report it may see (revocations included),
//!   and a node that may not see a report's current version but held an
//!   earlier one holds it withdrawn (a narrowing version's withdrawal
//!   reached it, whatever was lost, duplicated or reordered);
//!   every pull cursor reaches the end of its peer's change feed, and then
//!   a quiet period of pulls scans no change-feed entries at all (sync costs
//!   nothing when nothing changed).
//!
//! One `u64` seed determines everything. On failure the seed is printed;
//! replay one seed with `TRILAT_SIM_SEED=<seed>`, run more with
//! `TRILAT_SIM_SEEDS=<count>` (default 200) from `TRILAT_SIM_SEED_BASE`.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use trilat_core::{
    Agreement, FurtherSharing, Kind, KindRegistry, Marking, NodeKey, Party, Policy, PublicKey,
    Report, ReportDraft, ReportId, ReportKey, Timestamp, Tlp, Withdrawal,
};
use trilat_sync::{
    judge_page, judge_withdrawal, should_send, should_withdraw, FetchError, Outgoing, PageHead,
    PageId, PullAction, PullLink, PushAction, PushLink, ReceiveRules, SignatureCheck, SyncConfig,
    Verdict, WithdrawalVerdict,
};

/// Seeds run by default (CI).
const SEEDS_DEFAULT: u64 = 200;
/// Simulated time advances in ticks.
const TICK_MS: i64 = 5;
/// How long faults and owner activity last.
const FAULT_PHASE_MS: i64 = 8_000;
/// Bound on the time to converge once faults heal.
const HEAL_PHASE_MS_MAX: i64 = 60_000;
/// Quiet period after convergence during which nothing may change.
const QUIET_PHASE_MS: i64 = 2_000;
/// A request without a response after this long has failed.
const REQUEST_TIMEOUT_MS: i64 = 200;
/// Unix time of simulated time 0 (2023-11-14).
const EPOCH_MS: i64 = 1_700_000_000_000;
/// Most steps one link may take in one tick (guards against a livelock).
const LINK_STEPS_PER_TICK_MAX: usize = 64;
/// Parties the simulation draws from.
const PARTY_CODES: [&str; 5] = ["USA", "JPN", "KOR", "PHL", "AUS"];
/// A party in no policy and with no key: reports it "owns" are refused.
const STRANGER: &str = "ZZZ";
const LEVELS: [&str; 3] = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"];

#[test]
fn simulation() {
    if let Ok(text) = std::env::var("TRILAT_SIM_SEED") {
        let seed: u64 = text
            .trim()
            .parse()
            .expect("TRILAT_SIM_SEED must be an unsigned integer");
        let summary = run_seed_reporting(seed);
        eprintln!("seed {seed}: {summary:#?}");
        return;
    }
    let seeds: u64 = env_u64("TRILAT_SIM_SEEDS").unwrap_or(SEEDS_DEFAULT);
    let base: u64 = env_u64("TRILAT_SIM_SEED_BASE").unwrap_or(0);
    let mut total = Summary::default();
    for seed in base..base + seeds {
        total.add(&run_seed_reporting(seed));
    }
    eprintln!("{seeds} seeds from {base}: {total:#?}");
    // The runs must have exercised what they claim to: a simulation that
    // never loses a message or never sees a forgery proves nothing.
    if seeds >= 50 {
        for (what, count) in [
            ("stored", total.stored),
            ("relayed", total.relayed),
            (
                "duplicates",
                total.verdicts.get("duplicate").copied().unwrap_or(0),
            ),
            ("stale", total.verdicts.get("stale").copied().unwrap_or(0)),
            (
                "bad signatures",
                total.verdicts.get("bad_signature").copied().unwrap_or(0),
            ),
            (
                "unknown owners",
                total.verdicts.get("unknown_owner").copied().unwrap_or(0),
            ),
            ("squats", total.squats),
            (
                "not releasable",
                total
                    .verdicts
                    .get("not_releasable_to_me")
                    .copied()
                    .unwrap_or(0),
            ),
            (
                "relay refused",
                total
                    .verdicts
                    .get("sender_may_not_send")
                    .copied()
                    .unwrap_or(0),
            ),
            ("revocations", total.revocations),
            ("narrowing versions", total.narrowings),
            ("withdrawals recorded", total.withdrawals),
            ("withdrawals already recorded", total.withdrawals_duplicate),
            ("messages lost", total.lost),
            ("messages duplicated", total.duplicated),
            ("partitions", total.partitions),
            ("restarts", total.restarts),
            ("push queue overflows", total.push_queue_overflows),
            ("timeouts", total.timeouts),
            ("failed store writes", total.store_failures),
            ("pages fetched ahead", total.pages_ahead),
            ("pages dropped after a failure", total.pages_dropped),
            (
                "versions judged new, already stored when written",
                total.store_rechecked,
            ),
        ] {
            assert!(
                count > 0,
                "no {what} in {seeds} seeds: the simulation lost its teeth"
            );
        }
    }
}

/// An honest node's send rule never offers what the receive rule refuses:
/// a refusal here is a disagreement between `should_send` and
/// `judge_incoming`, not an attack.
#[track_caller]
fn assert_honest(verdict: &Verdict, sender: &Party, receiver: &Party) {
    assert!(
        !matches!(verdict, Verdict::Refuse(_)),
        "{receiver} refused what honest {sender} sent: {verdict:?}"
    );
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be an unsigned integer")),
    )
}

/// Runs one seed; on a failure prints how to replay it, then fails.
fn run_seed_reporting(seed: u64) -> Summary {
    match panic::catch_unwind(AssertUnwindSafe(|| World::new(seed).run())) {
        Ok(summary) => summary,
        Err(cause) => {
            eprintln!(
                "\nsimulation failed at seed {seed}; replay it with\n  \
                 TRILAT_SIM_SEED={seed} cargo test -p trilat-sync --test tests simulation\n"
            );
            panic::resume_unwind(cause)
        }
    }
}

/// What a run did, to show the faults were exercised.
#[derive(Debug, Default)]
struct Summary {
    nodes: usize,
    reports: usize,
    revocations: u64,
    /// Versions that narrowed their report's releasability.
    narrowings: u64,
    /// Reports published under an id another party was about to use.
    squats: u64,
    /// Withdrawals recorded, and received again once recorded.
    withdrawals: u64,
    withdrawals_duplicate: u64,
    stored: u64,
    /// Versions stored from a peer other than their owner.
    relayed: u64,
    verdicts: BTreeMap<&'static str, u64>,
    injected: u64,
    lost: u64,
    duplicated: u64,
    partitions: u64,
    restarts: u64,
    timeouts: u64,
    push_queue_overflows: u64,
    /// Page writes that failed part-way.
    store_failures: u64,
    /// Pull fetches started while an earlier page was not yet stored.
    pages_ahead: u64,
    /// Pages dropped because a page before them failed.
    pages_dropped: u64,
    /// Versions judged `Store` but held (or newer held) by write time.
    store_rechecked: u64,
    pull_entries_scanned: u64,
    /// Feed entries scanned by pulls issued after convergence: must be 0.
    quiet_entries_scanned: u64,
    converged_at_ms: i64,
}

impl Summary {
    fn add(&mut self, other: &Summary) {
        self.nodes += other.nodes;
        self.reports += other.reports;
        self.revocations += other.revocations;
        self.narrowings += other.narrowings;
        self.squats += other.squats;
        self.withdrawals += other.withdrawals;
        self.withdrawals_duplicate += other.withdrawals_duplicate;
        self.stored += other.stored;
        self.relayed += other.relayed;
        for (code, count) in &other.verdicts {
            *self.verdicts.entry(code).or_default() += count;
        }
        self.injected += other.injected;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.partitions += other.partitions;
        self.restarts += other.restarts;
        self.timeouts += other.timeouts;
        self.push_queue_overflows += other.push_queue_overflows;
        self.store_failures += other.store_failures;
        self.pages_ahead += other.pages_ahead;
        self.pages_dropped += other.pages_dropped;
        self.store_rechecked += other.store_rechecked;
        self.pull_entries_scanned += other.pull_entries_scanned;
        self.quiet_entries_scanned += other.quiet_entries_scanned;
        self.converged_at_ms = self.converged_at_ms.max(other.converged_at_ms);
    }
}

/// One entry of a node's change feed: the store appended this version.
#[derive(Clone, Debug)]
struct FeedEntry {
    report: ReportKey,
    version: u64,
}

/// The node's durable state: survives restarts. A stand-in for
/// `trilat-store` with the same shape: current state plus a change feed
/// with an opaque cursor (here, the number of entries already seen).
#[derive(Default)]
struct ModelStore {
    /// Keyed by owner and id: two owners' reports under one id are two.
    current: BTreeMap<ReportKey, Report>,
    feed: Vec<FeedEntry>,
    /// Every (report, version) ever appended: the feed never repeats one.
    appended: BTreeSet<(ReportKey, u64)>,
    /// Persisted pull cursor per peer (node index).
    cursors: BTreeMap<usize, String>,
    /// Every version stored, by (report, counter): the owner finds the
    /// version before a narrowing one here.
    versions: BTreeMap<(ReportKey, u64), Report>,
    /// The highest withdrawn version recorded per report.
    withdrawn: BTreeMap<ReportKey, u64>,
}

impl ModelStore {
    /// Appends a version; returns its change-feed sequence number.
    fn put(&mut self, report: Report) -> u64 {
        let key = report.key();
        let fresh = self.appended.insert((key.clone(), report.version));
        assert!(fresh, "version {} of {key} stored twice", report.version);
        if let Some(held) = self.current.get(&key) {
            assert!(held.version < report.version, "store went backwards");
        }
        self.feed.push(FeedEntry {
            report: key.clone(),
            version: report.version,
        });
        self.versions
            .insert((key.clone(), report.version), report.clone());
        self.current.insert(key, report);
        self.feed.len() as u64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestKind {
    Push,
    Pull(PageId),
}

/// A pulled page with every report judged, waiting to be stored.
struct JudgedPage {
    reports: Vec<(Report, Verdict)>,
    /// Judged when stored: their verdicts depend on what is recorded then.
    withdrawals: Vec<Withdrawal>,
}

type SimPullLink = PullLink<Page, JudgedPage>;

/// A stage of a pulled page in progress at a node: it takes time, so other
/// pages and pushes are judged and stored meanwhile.
enum StageWork {
    Judge {
        node: usize,
        peer: usize,
        page: PageId,
        fetched: Page,
    },
    Store {
        node: usize,
        peer: usize,
        page: PageId,
        judged: JudgedPage,
    },
}

impl StageWork {
    fn node(&self) -> usize {
        match self {
            StageWork::Judge { node, .. } | StageWork::Store { node, .. } => *node,
        }
    }
}

struct Outstanding {
    peer: usize,
    kind: RequestKind,
    deadline_ms: i64,
}

struct Node {
    party: Party,
    up: bool,
    down_until_ms: i64,
    store: ModelStore,
    /// Links by peer index; lost on a crash, rebuilt on restart.
    push_links: BTreeMap<usize, PushLink>,
    pull_links: BTreeMap<usize, SimPullLink>,
    outstanding: BTreeMap<u64, Outstanding>,
}

/// What the faulty actor injects and what the receiver must do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Injection {
    /// A genuine report with its payload or marking changed: must be refused.
    Tampered,
    /// A report claiming an honest owner, signed with another key: refused.
    Forged,
    /// A report claiming an owner no node knows: refused.
    UnknownOwner,
    /// A genuine version, possibly old, possibly not for the target, from a
    /// sender that may not relay it: judged like any other (safety checks).
    Replayed,
}

impl ModelStore {
    /// Whether the held copy of `id` is withdrawn.
    fn is_withdrawn(&self, id: &ReportKey) -> bool {
        match (self.current.get(id), self.withdrawn.get(id)) {
            (Some(held), Some(&version)) => version > held.version,
            _ => false,
        }
    }

    /// What node `me` serves `peer` for the feed entry `entry` in a pull:
    /// the version if the send rule allows it and it is still current (a
    /// superseded entry is skipped: the later entry serves the current
    /// version), and a withdrawal if the version narrowed the report away
    /// from `peer` (for every entry, superseded or not: the later one may
    /// not concern `peer`). When the entry is new, this is also what the
    /// push link is offered.
    fn offer(
        &self,
        entry: &FeedEntry,
        me: &Party,
        peer: &Party,
        policy: &Policy,
        key: &NodeKey,
    ) -> (Option<Report>, Option<Withdrawal>) {
        let current = &self.current[&entry.report];
        let report = (current.version == entry.version && should_send(current, me, peer, policy))
            .then(|| current.clone());
        let version = &self.versions[&(entry.report.clone(), entry.version)];
        let withdrawal = (entry.version > 1)
            .then(|| {
                self.versions
                    .get(&(entry.report.clone(), entry.version - 1))
            })
            .flatten()
            .filter(|previous| should_withdraw(previous, version, me, peer, policy))
            .map(|_| Withdrawal::sign(version, key).unwrap());
        (report, withdrawal)
    }
}

#[derive(Clone, Debug)]
struct Page {
    reports: Vec<Report>,
    withdrawals: Vec<Withdrawal>,
    next_cursor: String,
    more: bool,
}

#[derive(Clone)]
enum Body {
    Push {
        request: u64,
        reports: Vec<Report>,
        withdrawals: Vec<Withdrawal>,
    },
    PushAck {
        request: u64,
    },
    PullRequest {
        request: u64,
        cursor: Option<String>,
        page_max: usize,
        issued_ms: i64,
    },
    PullResponse {
        request: u64,
        page: Result<Page, String>,
    },
    Inject {
        report: Box<Report>,
        injection: Injection,
    },
}

#[derive(Clone)]
struct Message {
    from: usize,
    to: usize,
    body: Body,
}

/// Fault rates of one run, drawn from the seed.
struct Faults {
    loss: f64,
    duplication: f64,
    delay_ms_max: i64,
    crash_per_tick: f64,
    partition_per_tick: f64,
    /// Chance that a page's store write fails part-way.
    store_failure: f64,
    /// Most time a page's judgement or store write takes.
    stage_ms_max: i64,
    /// How this run's nodes check signatures (both must agree).
    signature_check: SignatureCheck,
    injection_per_tick: f64,
    owner_action_per_tick: f64,
}

struct World {
    seed: u64,
    rng: StdRng,
    now_ms: i64,
    keys: BTreeMap<Party, NodeKey>,
    policy: Policy,
    kinds: KindRegistry,
    config: SyncConfig,
    nodes: Vec<Node>,
    /// In flight, by (delivery time, send order): delays reorder messages.
    network: BTreeMap<(i64, u64), Message>,
    /// Pull stages in progress, by (completion time, start order).
    stages: BTreeMap<(i64, u64), StageWork>,
    network_order: u64,
    /// Partitioned pairs (lower index first) and when each heals.
    partitions: BTreeMap<(usize, usize), i64>,
    faults: Faults,
    /// Every version an honest owner signed.
    genuine: BTreeMap<(ReportKey, u64), Report>,
    /// The owner's current version of every report.
    latest: BTreeMap<ReportKey, Report>,
    next_request: u64,
    next_report: u64,
    summary: Summary,
    /// Print every pull served (`TRILAT_SIM_TRACE=1`, for replays).
    trace: bool,
    /// When the federation converged (the quiet phase began).
    quiet_since_ms: Option<i64>,
    /// Feed entries scanned to serve each requester (node index).
    scanned_for: BTreeMap<usize, u64>,
}

fn kinds() -> KindRegistry {
    fn check_track(_kind: &str, payload: &serde_json::Value) -> Result<(), String> {
        match payload.get("n") {
            Some(n) if n.is_u64() => Ok(()),
            _ => Err("sim.track payload needs an integer \"n\"".into()),
        }
    }
    let mut kinds = KindRegistry::with_core_kinds();
    kinds.register(&["sim.track"], check_track);
    kinds
}

fn random_policy(rng: &mut StdRng, parties: &[Party]) -> Policy {
    let mut policy = Policy::trilateral_default();
    policy.groups = BTreeMap::from([
        ("PARTNERS".to_string(), parties.iter().cloned().collect()),
        ("TRILAT".to_string(), parties[..3].iter().cloned().collect()),
    ]);
    policy.agreements.clear();
    for (i, a) in parties.iter().enumerate() {
        for b in &parties[i + 1..] {
            if rng.gen_bool(0.8) {
                let kinds = ["*", "note", "sim.*"];
                policy.agreements.push(Agreement {
                    name: format!("{a}-{b}"),
                    parties: [a.clone(), b.clone()].into(),
                    level_max: LEVELS[rng.gen_range(0..LEVELS.len())].into(),
                    kinds: vec![kinds[rng.gen_range(0..kinds.len())].into()],
                });
            }
        }
    }
    policy.accreditation = parties
        .iter()
        .map(|p| {
            (
                p.clone(),
                LEVELS[rng.gen_range(1..LEVELS.len())].to_string(),
            )
        })
        .collect();
    policy.validate().expect("random policy is valid");
    policy
}

fn random_marking(rng: &mut StdRng, parties: &[Party]) -> Marking {
    let mut rel_to: Vec<String> = parties
        .iter()
        .filter(|_| rng.gen_bool(0.5))
        .map(|p| p.as_str().to_string())
        .collect();
    if rng.gen_bool(0.3) {
        rel_to.push(["PARTNERS", "TRILAT"][rng.gen_range(0..2)].into());
    }
    Marking {
        level: LEVELS[rng.gen_range(0..LEVELS.len())].into(),
        tlp: Tlp::ALL[rng.gen_range(0..Tlp::ALL.len())],
        rel_to,
        further_sharing: if rng.gen_bool(0.5) {
            FurtherSharing::WithinRelTo
        } else {
            FurtherSharing::None
        },
    }
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = StdRng::seed_from_u64(seed);
        let n_nodes = rng.gen_range(3..=PARTY_CODES.len());
        let mut codes = PARTY_CODES;
        codes[..].shuffle(&mut rng);
        let parties: Vec<Party> = codes[..n_nodes]
            .iter()
            .map(|c| Party::new(c).unwrap())
            .collect();
        let policy = random_policy(&mut rng, &parties);
        let config = SyncConfig {
            push_batch_max: rng.gen_range(1..=8),
            push_queue_max: rng.gen_range(2..=24),
            pull_page_max: rng.gen_range(1..=16),
            backoff_ms_min: rng.gen_range(10..=50),
            backoff_ms_max: rng.gen_range(200..=1_500),
            pull_interval_ms: rng.gen_range(100..=600),
            push_attempts_max: rng.gen_range(1..=4),
            pull_pages_ahead: rng.gen_range(0..=3),
        };
        let faults = Faults {
            loss: rng.gen_range(0.0..0.3),
            duplication: rng.gen_range(0.0..0.2),
            delay_ms_max: rng.gen_range(1..=150),
            crash_per_tick: rng.gen_range(0.0..0.004),
            partition_per_tick: rng.gen_range(0.0..0.01),
            store_failure: rng.gen_range(0.0..0.15),
            stage_ms_max: rng.gen_range(0..=40),
            signature_check: if rng.gen_bool(0.8) {
                SignatureCheck::Batch
            } else {
                SignatureCheck::OneByOne
            },
            injection_per_tick: rng.gen_range(0.0..0.02),
            owner_action_per_tick: rng.gen_range(0.005..0.03),
        };
        World::build(seed, rng, parties, policy, config, faults)
    }

    fn build(
        seed: u64,
        rng: StdRng,
        parties: Vec<Party>,
        policy: Policy,
        config: SyncConfig,
        faults: Faults,
    ) -> World {
        let n_nodes = parties.len();
        let keys = parties
            .iter()
            .chain([Party::new(STRANGER).unwrap()].iter())
            .enumerate()
            .map(|(i, p)| {
                let mut key_seed = [0u8; 32];
                key_seed[..8].copy_from_slice(&seed.to_le_bytes());
                key_seed[8] = i as u8;
                (p.clone(), NodeKey::from_seed(key_seed))
            })
            .collect();
        let nodes = parties
            .iter()
            .map(|party| Node {
                party: party.clone(),
                up: true,
                down_until_ms: 0,
                store: ModelStore::default(),
                push_links: BTreeMap::new(),
                pull_links: BTreeMap::new(),
                outstanding: BTreeMap::new(),
            })
            .collect();
        let mut world = World {
            seed,
            rng,
            now_ms: 0,
            keys,
            policy,
            kinds: kinds(),
            config,
            nodes,
            network: BTreeMap::new(),
            stages: BTreeMap::new(),
            network_order: 0,
            partitions: BTreeMap::new(),
            faults,
            genuine: BTreeMap::new(),
            latest: BTreeMap::new(),
            next_request: 0,
            next_report: 0,
            summary: Summary::default(),
            trace: std::env::var_os("TRILAT_SIM_TRACE").is_some(),
            quiet_since_ms: None,
            scanned_for: BTreeMap::new(),
        };
        for idx in 0..n_nodes {
            world.start_links(idx);
        }
        world.summary.nodes = n_nodes;
        world
    }

    fn run(mut self) -> Summary {
        while self.now_ms < FAULT_PHASE_MS {
            self.inject_faults();
            self.owner_acts();
            self.tick();
        }
        self.heal();
        let heal_started_ms = self.now_ms;
        while !self.converged() {
            assert!(
                self.now_ms - heal_started_ms < HEAL_PHASE_MS_MAX,
                "no convergence {HEAL_PHASE_MS_MAX} ms after faults healed: {}",
                self.divergence()
            );
            for _ in 0..10 {
                self.tick();
            }
        }
        self.summary.converged_at_ms = self.now_ms - heal_started_ms;
        self.check_quiet();
        self.summary.reports = self.latest.len();
        for idx in 0..self.nodes.len() {
            self.collect_link_stats(idx);
        }
        self.summary
    }

    /// Ticks until the federation has converged.
    fn settle(&mut self) {
        let started_ms = self.now_ms;
        while !self.converged() {
            assert!(
                self.now_ms - started_ms < HEAL_PHASE_MS_MAX,
                "no convergence: {}",
                self.divergence()
            );
            self.tick();
        }
    }

    fn party(&self, idx: usize) -> &Party {
        &self.nodes[idx].party
    }

    fn start_links(&mut self, idx: usize) {
        let n_nodes = self.nodes.len();
        for peer in (0..n_nodes).filter(|&p| p != idx) {
            let peer_party = self.party(peer).clone();
            let push = PushLink::new(peer_party.clone(), self.config.clone(), self.rng.gen());
            let mut pull = PullLink::new(peer_party, self.config.clone(), self.rng.gen());
            if let Some(cursor) = self.nodes[idx].store.cursors.get(&peer) {
                pull.restore_cursor(cursor.clone());
            }
            self.nodes[idx].push_links.insert(peer, push);
            self.nodes[idx].pull_links.insert(peer, pull);
        }
    }

    // ---- time ----

    fn tick(&mut self) {
        self.now_ms += TICK_MS;
        self.restart_due_nodes();
        self.partitions.retain(|_, until| *until > self.now_ms);
        self.deliver_due_messages();
        self.finish_due_stages();
        for idx in 0..self.nodes.len() {
            if self.nodes[idx].up {
                self.expire_requests(idx);
                self.drive_links(idx);
            }
        }
    }

    fn restart_due_nodes(&mut self) {
        for idx in 0..self.nodes.len() {
            let node = &self.nodes[idx];
            if !node.up && node.down_until_ms <= self.now_ms {
                self.nodes[idx].up = true;
                self.start_links(idx);
            }
        }
    }

    // ---- faults ----

    fn inject_faults(&mut self) {
        let n_nodes = self.nodes.len();
        if self.rng.gen_bool(self.faults.crash_per_tick) {
            let idx = self.rng.gen_range(0..n_nodes);
            if self.nodes[idx].up {
                let down_ms = self.rng.gen_range(50..=2_000);
                self.crash(idx, down_ms);
            }
        }
        if self.rng.gen_bool(self.faults.partition_per_tick) {
            let a = self.rng.gen_range(0..n_nodes);
            let b = (a + self.rng.gen_range(1..n_nodes)) % n_nodes;
            let until = self.now_ms + self.rng.gen_range(100..=3_000);
            self.partitions.insert((a.min(b), a.max(b)), until);
            self.summary.partitions += 1;
        }
        if self.rng.gen_bool(self.faults.injection_per_tick) {
            self.inject_bad_report();
        }
    }

    fn crash(&mut self, idx: usize, down_ms: i64) {
        self.collect_link_stats(idx);
        let node = &mut self.nodes[idx];
        node.up = false;
        node.down_until_ms = self.now_ms + down_ms;
        // In-memory state is lost; the store (with its cursors) survives.
        node.push_links.clear();
        node.pull_links.clear();
        node.outstanding.clear();
        self.stages.retain(|_, work| work.node() != idx);
        self.summary.restarts += 1;
    }

    fn heal(&mut self) {
        self.faults.loss = 0.0;
        self.partitions.clear();
        for idx in 0..self.nodes.len() {
            self.nodes[idx].down_until_ms = self.now_ms;
        }
        self.restart_due_nodes();
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        self.partitions.contains_key(&(a.min(b), a.max(b)))
    }

    /// The faulty actor: sends a bad report to a node, claiming to be one
    /// of the other parties (as a compromised node of that party would).
    fn inject_bad_report(&mut self) {
        let n_nodes = self.nodes.len();
        let target = self.rng.gen_range(0..n_nodes);
        let sender = (target + self.rng.gen_range(1..n_nodes)) % n_nodes;
        let genuine: Vec<Report> = self.genuine.values().cloned().collect();
        let injection = [
            Injection::Tampered,
            Injection::Forged,
            Injection::UnknownOwner,
            Injection::Replayed,
        ][self.rng.gen_range(0..4)];
        let report = match injection {
            Injection::Tampered | Injection::Replayed if genuine.is_empty() => return,
            Injection::Tampered => {
                let mut report = genuine[self.rng.gen_range(0..genuine.len())].clone();
                match self.rng.gen_range(0..3) {
                    0 => report.marking.rel_to.push(self.party(target).to_string()),
                    1 => report.revoked = !report.revoked,
                    _ => report.version += 1,
                }
                report
            }
            Injection::Forged => {
                let owner = self.rng.gen_range(0..n_nodes);
                let signer = if owner == sender {
                    (owner + 1) % n_nodes
                } else {
                    sender
                };
                let draft = self.new_draft(owner);
                draft.sign(&self.keys[self.party(signer)]).unwrap()
            }
            Injection::UnknownOwner => {
                let stranger = Party::new(STRANGER).unwrap();
                let mut draft = self.new_draft(sender);
                draft.owner = stranger.clone();
                draft.sign(&self.keys[&stranger]).unwrap()
            }
            Injection::Replayed => genuine[self.rng.gen_range(0..genuine.len())].clone(),
        };
        self.summary.injected += 1;
        self.send(
            sender,
            target,
            Body::Inject {
                report: Box::new(report),
                injection,
            },
        );
    }

    // ---- owners ----

    fn owner_acts(&mut self) {
        if !self.rng.gen_bool(self.faults.owner_action_per_tick) {
            return;
        }
        let idx = self.rng.gen_range(0..self.nodes.len());
        if !self.nodes[idx].up {
            return;
        }
        let owner = self.party(idx).clone();
        let own: Vec<Report> = self
            .latest
            .values()
            .filter(|r| r.owner == owner && !r.revoked)
            .cloned()
            .collect();
        let now = Timestamp::from_unix_ms(EPOCH_MS + self.now_ms);
        let draft = match self.rng.gen_range(0..10) {
            0..=4 if !own.is_empty() => {
                let held = &own[self.rng.gen_range(0..own.len())];
                let mut draft = held.next_version(now);
                draft.payload = self.payload(&held.kind);
                if self.rng.gen_bool(0.3) {
                    // Widen releasability.
                    let extra_idx = self.rng.gen_range(0..self.nodes.len());
                    let extra = self.party(extra_idx);
                    draft.marking.rel_to.push(extra.to_string());
                } else if self.rng.gen_bool(0.4) && !draft.marking.rel_to.is_empty() {
                    // Narrow it: whoever held the previous version and may
                    // not see this one gets a withdrawal.
                    let dropped = self.rng.gen_range(0..draft.marking.rel_to.len());
                    draft.marking.rel_to.remove(dropped);
                    self.summary.narrowings += 1;
                }
                draft
            }
            5..=6 if !own.is_empty() => {
                self.summary.revocations += 1;
                own[self.rng.gen_range(0..own.len())].revocation(now)
            }
            _ => {
                let draft = self.new_draft(idx);
                if self.rng.gen_bool(0.2) {
                    self.squat(idx, &draft);
                }
                draft
            }
        };
        self.publish(idx, draft);
    }

    /// Another party, predicting the id node `idx` is about to publish,
    /// publishes its own report under it first (and sometimes a second
    /// version of it). Both are genuine reports of their owners: the
    /// convergence check then holds that each reaches every node it is
    /// released to, so the squatter neither blocks nor replaces the true
    /// owner's report.
    fn squat(&mut self, idx: usize, victim: &ReportDraft) {
        let squatter = (idx + self.rng.gen_range(1..self.nodes.len())) % self.nodes.len();
        if !self.nodes[squatter].up {
            return;
        }
        let mut draft = self.new_draft(squatter);
        draft.id = victim.id;
        draft.created_at = victim.created_at;
        draft.modified = victim.modified;
        draft.observed_at = victim.observed_at;
        self.summary.squats += 1;
        self.publish(squatter, draft);
    }

    /// The owner at node `idx` signs and stores a version.
    fn publish(&mut self, idx: usize, draft: ReportDraft) {
        let owner = self.party(idx).clone();
        assert_eq!(draft.owner, owner);
        let report = draft.sign(&self.keys[&owner]).unwrap();
        self.genuine
            .insert((report.key(), report.version), report.clone());
        self.latest.insert(report.key(), report.clone());
        self.store(idx, report);
    }

    fn payload(&mut self, kind: &Kind) -> serde_json::Value {
        let n: u32 = self.rng.gen();
        match kind.as_str() {
            "note" => serde_json::json!({ "text": format!("contact {n}") }),
            _ => serde_json::json!({ "n": n }),
        }
    }

    /// A fresh first version owned by node `idx`, with a deterministic UUIDv7.
    fn new_draft(&mut self, idx: usize) -> ReportDraft {
        self.next_report += 1;
        let unix_ms = EPOCH_MS + self.now_ms;
        let id = format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            unix_ms >> 16,
            unix_ms & 0xffff,
            self.seed & 0xfff,
            0x8000 | (self.rng.gen::<u16>() & 0x3fff),
            self.next_report
        );
        let kind = Kind::new(["note", "sim.track"][self.rng.gen_range(0..2)]).unwrap();
        let parties: Vec<Party> = self.nodes.iter().map(|n| n.party.clone()).collect();
        let marking = random_marking(&mut self.rng, &parties);
        let payload = self.payload(&kind);
        let mut draft = ReportDraft::new(
            self.party(idx).clone(),
            kind,
            marking,
            payload,
            Timestamp::from_unix_ms(unix_ms),
        );
        draft.id = ReportId::parse(&id).unwrap();
        draft
    }

    // ---- the node: store, receive, serve ----

    /// Stores a version at node `idx` (own or received) and offers it to
    /// every link. The safety checks run here, on every store.
    fn store(&mut self, idx: usize, report: Report) {
        let me = self.party(idx);
        assert!(
            report.owner == *me || self.policy.release(&report, me).is_ok(),
            "{me} stores {} v{} which the release rule forbids it",
            report.key(),
            report.version
        );
        assert_eq!(
            self.genuine.get(&(report.key(), report.version)),
            Some(&report),
            "{me} stores {} v{} which its owner never signed",
            report.key(),
            report.version
        );
        let own = report.owner == *me;
        let seq = self.nodes[idx].store.put(report);
        self.summary.stored += 1;
        if own {
            self.offer_to_push_links(idx, seq);
        }
    }

    /// Offers node `idx`'s own new version at feed sequence `seq` to each
    /// push link, as the node does: the version, its withdrawal, or
    /// nothing. Relayed versions travel by pull only.
    fn offer_to_push_links(&mut self, idx: usize, seq: u64) {
        let parties: Vec<Party> = self.nodes.iter().map(|n| n.party.clone()).collect();
        let me = &parties[idx];
        let key = &self.keys[me];
        let node = &mut self.nodes[idx];
        let entry = node.store.feed[(seq - 1) as usize].clone();
        for (&peer, link) in node.push_links.iter_mut() {
            let peer_party = &parties[peer];
            let outgoing = match node.store.offer(&entry, me, peer_party, &self.policy, key) {
                (Some(report), None) => Outgoing::Report(Arc::new(report)),
                (None, Some(withdrawal)) => Outgoing::Withdrawal(withdrawal),
                (None, None) => continue,
                (Some(_), Some(_)) => unreachable!("a version both sent and withdrawn"),
            };
            link.offer(seq, outgoing);
        }
    }

    /// Judges a page of reports node `idx` received from `sender` with the
    /// one page judgement the node uses, against what `idx` holds now.
    fn judge(&mut self, idx: usize, sender: usize, reports: Vec<Report>) -> Vec<(Report, Verdict)> {
        let keys = &self.keys;
        let owner_keys = |p: &Party| -> Option<PublicKey> {
            // The stranger's key exists (it signs) but no node knows it.
            (p.as_str() != STRANGER)
                .then(|| keys.get(p).map(NodeKey::public_key))
                .flatten()
        };
        let rules = ReceiveRules {
            me: self.party(idx),
            policy: &self.policy,
            kinds: &self.kinds,
            owner_keys: &owner_keys,
        };
        let store = &self.nodes[idx].store;
        let judged = judge_page(
            reports,
            self.party(sender),
            &rules,
            |key| store.current.get(key),
            self.faults.signature_check,
        );
        for (_, verdict) in &judged {
            *self.summary.verdicts.entry(verdict.code()).or_default() += 1;
        }
        judged
    }

    /// Writes a judged page at node `idx`: withdrawals first (judged now),
    /// then the versions judged `Store`, each checked again against what
    /// is held now (a push or an earlier page may have brought it since it
    /// was judged), as the real store does inside its transaction. With
    /// `fail_at`, the write fails after that many versions: what was
    /// written stays, and the page is pulled and judged again.
    fn write_page(
        &mut self,
        idx: usize,
        sender: usize,
        page: JudgedPage,
        fail_at: Option<usize>,
    ) -> Result<(), String> {
        for withdrawal in page.withdrawals {
            self.receive_withdrawal(idx, sender, withdrawal);
        }
        let mut written = 0;
        for (report, verdict) in page.reports {
            if !verdict.is_store() {
                continue;
            }
            if fail_at == Some(written) {
                self.summary.store_failures += 1;
                return Err("store write failed".into());
            }
            written += 1;
            let held = self.nodes[idx].store.current.get(&report.key());
            if held.is_some_and(|held| held.version >= report.version) {
                self.summary.store_rechecked += 1;
                continue;
            }
            if report.owner != *self.party(sender) {
                self.summary.relayed += 1;
            }
            self.store(idx, report);
        }
        if fail_at.is_some() {
            // Failed at the commit, after every write.
            self.summary.store_failures += 1;
            return Err("store commit failed".into());
        }
        Ok(())
    }

    /// Judges and records a withdrawal node `idx` received from `sender`.
    /// Safety: an honest owner withdraws only from a party the previous
    /// version was released to, so the notice tells it nothing new.
    fn receive_withdrawal(&mut self, idx: usize, sender: usize, withdrawal: Withdrawal) {
        let me = self.party(idx).clone();
        let previous = &self.genuine[&(withdrawal.key(), withdrawal.version - 1)];
        assert!(
            self.policy.release(previous, &me).is_ok(),
            "{me} is told of a withdrawal of {} v{} it was never released",
            withdrawal.key(),
            previous.version
        );
        let store = &self.nodes[idx].store;
        let keys = &self.keys;
        let owner_keys = |p: &Party| keys.get(p).map(NodeKey::public_key);
        let verdict = judge_withdrawal(
            &withdrawal,
            self.party(sender),
            store.current.get(&withdrawal.key()),
            store.withdrawn.get(&withdrawal.key()).copied(),
            &owner_keys,
        );
        match verdict {
            WithdrawalVerdict::Store => {
                self.summary.withdrawals += 1;
                let store = &mut self.nodes[idx].store;
                store.withdrawn.insert(withdrawal.key(), withdrawal.version);
            }
            WithdrawalVerdict::Duplicate => self.summary.withdrawals_duplicate += 1,
            other => panic!("an honest owner's withdrawal refused by {me}: {other:?}"),
        }
    }

    /// Serves a page of node `idx`'s change feed to `peer` after `cursor`.
    /// Work is bounded by `page_max` entries, whatever the store's size.
    fn serve_pull(
        &mut self,
        idx: usize,
        peer: usize,
        cursor: Option<&str>,
        page_max: usize,
    ) -> Result<Page, String> {
        let store = &self.nodes[idx].store;
        let start: usize = match cursor {
            None => 0,
            Some(text) => text.parse().map_err(|_| format!("bad cursor {text:?}"))?,
        };
        if start > store.feed.len() {
            return Err(format!("cursor {start} is ahead of the feed"));
        }
        let end = store.feed.len().min(start + page_max);
        let me = self.party(idx);
        let key = &self.keys[me];
        let mut reports = Vec::new();
        let mut withdrawals = Vec::new();
        for entry in &store.feed[start..end] {
            let (report, withdrawal) = store.offer(entry, me, self.party(peer), &self.policy, key);
            reports.extend(report);
            withdrawals.extend(withdrawal);
        }
        self.summary.pull_entries_scanned += (end - start) as u64;
        *self.scanned_for.entry(peer).or_default() += (end - start) as u64;
        if self.trace {
            eprintln!(
                "{:>6} ms  {} serves {} entries {start}..{end} of {}",
                self.now_ms,
                self.party(idx),
                self.party(peer),
                store.feed.len()
            );
        }
        Ok(Page {
            reports,
            withdrawals,
            next_cursor: end.to_string(),
            more: end < store.feed.len(),
        })
    }

    /// Performs what each link of node `idx` asks for until all are idle,
    /// as the node's push and pull tasks do.
    fn drive_links(&mut self, idx: usize) {
        let peers: Vec<usize> = self.nodes[idx].push_links.keys().copied().collect();
        for peer in peers {
            self.drive_push(idx, peer);
            self.drive_pull(idx, peer);
        }
    }

    fn drive_push(&mut self, idx: usize, peer: usize) {
        for step in 0.. {
            assert!(step < LINK_STEPS_PER_TICK_MAX, "push link livelock");
            let link = self.nodes[idx].push_links.get_mut(&peer).unwrap();
            match link.next_action(self.now_ms) {
                PushAction::Idle { until_ms } => {
                    assert!(until_ms.is_none_or(|until_ms| until_ms > self.now_ms));
                    return;
                }
                PushAction::Send(batch) => {
                    assert!(
                        !batch.seqs.is_empty() && batch.seqs.len() <= self.config.push_batch_max
                    );
                    assert!(!batch.reports.is_empty() || !batch.withdrawals.is_empty());
                    let request = self.request(idx, peer, RequestKind::Push);
                    let reports = batch.reports.iter().map(|r| Report::clone(r)).collect();
                    let withdrawals = batch.withdrawals;
                    self.send(
                        idx,
                        peer,
                        Body::Push {
                            request,
                            reports,
                            withdrawals,
                        },
                    );
                }
            }
        }
    }

    fn drive_pull(&mut self, idx: usize, peer: usize) {
        for step in 0.. {
            assert!(step < LINK_STEPS_PER_TICK_MAX, "pull link livelock");
            let link = self.nodes[idx].pull_links.get_mut(&peer).unwrap();
            match link.next_action(self.now_ms) {
                PullAction::Idle { until_ms } => {
                    assert!(until_ms > self.now_ms);
                    return;
                }
                PullAction::Fetch { page, after } => {
                    let request = self.request(idx, peer, RequestKind::Pull(page));
                    let page_max = self.config.pull_page_max;
                    let issued_ms = self.now_ms;
                    self.send(
                        idx,
                        peer,
                        Body::PullRequest {
                            request,
                            cursor: after,
                            page_max,
                            issued_ms,
                        },
                    );
                }
                PullAction::Judge { page, fetched } => {
                    let work = StageWork::Judge {
                        node: idx,
                        peer,
                        page,
                        fetched,
                    };
                    self.start_stage(work);
                }
                PullAction::Store { page, judged } => {
                    let work = StageWork::Store {
                        node: idx,
                        peer,
                        page,
                        judged,
                    };
                    self.start_stage(work);
                }
                PullAction::ResetCursor { reason } => {
                    panic!("a simulated peer refused a cursor it served: {reason}")
                }
            }
        }
    }

    /// Starts a stage of a pulled page; it completes after a random time.
    fn start_stage(&mut self, work: StageWork) {
        let done_ms = self.now_ms + self.rng.gen_range(0..=self.faults.stage_ms_max);
        self.network_order += 1;
        self.stages.insert((done_ms, self.network_order), work);
    }

    /// Completes the pull stages due by now, in order: judges a fetched
    /// page against what its node holds now, or writes a judged page
    /// (failing part-way at the run's rate), and tells the link.
    fn finish_due_stages(&mut self) {
        while let Some(entry) = self.stages.first_entry() {
            if entry.key().0 > self.now_ms {
                break;
            }
            match entry.remove() {
                StageWork::Judge {
                    node,
                    peer,
                    page,
                    fetched,
                } => {
                    let reports = self.judge(node, peer, fetched.reports);
                    for (_, verdict) in &reports {
                        assert_honest(verdict, self.party(peer), self.party(node));
                    }
                    let judged = JudgedPage {
                        reports,
                        withdrawals: fetched.withdrawals,
                    };
                    let now_ms = self.now_ms;
                    let link = self.nodes[node].pull_links.get_mut(&peer).unwrap();
                    link.judged(now_ms, page, Ok(judged));
                }
                StageWork::Store {
                    node,
                    peer,
                    page,
                    judged,
                } => {
                    let n_reports = judged.reports.len();
                    let fail_at = self
                        .rng
                        .gen_bool(self.faults.store_failure)
                        .then(|| self.rng.gen_range(0..=n_reports));
                    let res = self.write_page(node, peer, judged, fail_at);
                    let now_ms = self.now_ms;
                    let link = self.nodes[node].pull_links.get_mut(&peer).unwrap();
                    link.stored(now_ms, page, res.clone());
                    if res.is_ok() {
                        let cursor = link.cursor().expect("a stored page moves the cursor");
                        let cursor = cursor.to_string();
                        self.nodes[node].store.cursors.insert(peer, cursor);
                    }
                }
            }
        }
    }

    fn request(&mut self, idx: usize, peer: usize, kind: RequestKind) -> u64 {
        self.next_request += 1;
        let outstanding = Outstanding {
            peer,
            kind,
            deadline_ms: self.now_ms + REQUEST_TIMEOUT_MS,
        };
        self.nodes[idx]
            .outstanding
            .insert(self.next_request, outstanding);
        self.next_request
    }

    fn expire_requests(&mut self, idx: usize) {
        let now_ms = self.now_ms;
        let node = &mut self.nodes[idx];
        let expired: Vec<u64> = node
            .outstanding
            .iter()
            .filter(|(_, o)| o.deadline_ms <= now_ms)
            .map(|(request, _)| *request)
            .collect();
        for request in expired {
            let outstanding = node.outstanding.remove(&request).unwrap();
            let peer = outstanding.peer;
            match outstanding.kind {
                RequestKind::Push => {
                    let link = node.push_links.get_mut(&peer).unwrap();
                    link.push_done(now_ms, Err("timeout".into()));
                }
                RequestKind::Pull(page) => {
                    let link = node.pull_links.get_mut(&peer).unwrap();
                    link.fetched(now_ms, page, Err(FetchError::Failed("timeout".into())));
                }
            }
            self.summary.timeouts += 1;
        }
    }

    // ---- the network ----

    fn send(&mut self, from: usize, to: usize, body: Body) {
        let message = Message { from, to, body };
        if self.partitioned(from, to) || self.rng.gen_bool(self.faults.loss) {
            self.summary.lost += 1;
            return;
        }
        let copies = if self.rng.gen_bool(self.faults.duplication) {
            self.summary.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let deliver_at = self.now_ms + self.rng.gen_range(1..=self.faults.delay_ms_max);
            self.network_order += 1;
            self.network
                .insert((deliver_at, self.network_order), message.clone());
        }
    }

    fn deliver_due_messages(&mut self) {
        while let Some(entry) = self.network.first_entry() {
            if entry.key().0 > self.now_ms {
                break;
            }
            let message = entry.remove();
            if !self.nodes[message.to].up || self.partitioned(message.from, message.to) {
                self.summary.lost += 1;
                continue;
            }
            self.handle(message);
        }
    }

    fn handle(&mut self, message: Message) {
        let (from, to) = (message.from, message.to);
        match message.body {
            Body::Push {
                request,
                reports,
                withdrawals,
            } => {
                // Judged and written at once, as the node's push endpoint
                // does; a failed write goes unanswered (the pusher retries,
                // or the receiver's pull brings it).
                let reports = self.judge(to, from, reports);
                for (_, verdict) in &reports {
                    assert_honest(verdict, self.party(from), self.party(to));
                }
                let fail_at = self
                    .rng
                    .gen_bool(self.faults.store_failure)
                    .then(|| self.rng.gen_range(0..=reports.len()));
                let page = JudgedPage {
                    reports,
                    withdrawals,
                };
                if self.write_page(to, from, page, fail_at).is_ok() {
                    self.send(to, from, Body::PushAck { request });
                }
            }
            Body::PushAck { request } => {
                if self.take_outstanding(to, request, from, RequestKind::Push) {
                    let now_ms = self.now_ms;
                    let link = self.nodes[to].push_links.get_mut(&from).unwrap();
                    link.push_done(now_ms, Ok(()));
                }
            }
            Body::PullRequest {
                request,
                cursor,
                page_max,
                issued_ms,
            } => {
                let scanned_before = self.summary.pull_entries_scanned;
                let page = self.serve_pull(to, from, cursor.as_deref(), page_max);
                if self.quiet_since_ms.is_some_and(|quiet| issued_ms >= quiet) {
                    self.summary.quiet_entries_scanned +=
                        self.summary.pull_entries_scanned - scanned_before;
                }
                self.send(to, from, Body::PullResponse { request, page });
            }
            Body::PullResponse { request, page } => {
                let kind = match self.nodes[to].outstanding.get(&request) {
                    Some(outstanding) => outstanding.kind,
                    None => return, // Timed out, or a duplicate answer.
                };
                if self.take_outstanding(to, request, from, kind) {
                    let RequestKind::Pull(page_id) = kind else {
                        panic!("a pull answered a push");
                    };
                    self.fetched(to, from, page_id, page);
                }
            }
            Body::Inject { report, injection } => {
                let judged = self.judge(to, from, vec![*report]);
                let verdict = &judged[0].1;
                if injection != Injection::Replayed {
                    assert!(
                        matches!(verdict, Verdict::Refuse(_)),
                        "{injection:?} report was not refused: {verdict:?}"
                    );
                }
                let page = JudgedPage {
                    reports: judged,
                    withdrawals: Vec::new(),
                };
                self.write_page(to, from, page, None)
                    .expect("a write without a fault succeeds");
            }
        }
    }

    /// Whether `request` is still awaited (not timed out, not a duplicate).
    fn take_outstanding(
        &mut self,
        idx: usize,
        request: u64,
        peer: usize,
        kind: RequestKind,
    ) -> bool {
        let node = &mut self.nodes[idx];
        match node.outstanding.get(&request) {
            Some(o) if o.peer == peer && o.kind == kind => {
                node.outstanding.remove(&request);
                true
            }
            _ => false,
        }
    }

    /// A pulled page arrived (or its fetch failed): the link takes it, and
    /// asks for it to be judged and stored in later ticks.
    fn fetched(&mut self, idx: usize, peer: usize, page: PageId, fetched: Result<Page, String>) {
        let now_ms = self.now_ms;
        let result = fetched.map_err(FetchError::Failed).map(|fetched| {
            assert!(fetched.reports.len() <= self.config.pull_page_max);
            let head = PageHead {
                next_cursor: fetched.next_cursor.clone(),
                received: fetched.reports.len(),
                more: fetched.more,
            };
            (head, fetched)
        });
        let link = self.nodes[idx].pull_links.get_mut(&peer).unwrap();
        link.fetched(now_ms, page, result);
    }

    // ---- liveness ----

    /// What node `idx` should hold of report `latest` once sync is done.
    fn expected<'a>(&self, idx: usize, latest: &'a Report) -> Option<&'a Report> {
        let me = self.party(idx);
        (latest.owner == *me || self.policy.release(latest, me).is_ok()).then_some(latest)
    }

    fn converged(&self) -> bool {
        self.divergence().is_empty()
    }

    /// Why the federation has not converged (empty when it has).
    fn divergence(&self) -> String {
        let mut problems = Vec::new();
        for (idx, node) in self.nodes.iter().enumerate() {
            for latest in self.latest.values() {
                let held = node.store.current.get(&latest.key());
                let expected = self.expected(idx, latest);
                if expected.is_none() && held.is_some() {
                    // Not releasable now, held from before: withdrawn.
                    if !node.store.is_withdrawn(&latest.key()) {
                        problems.push(format!(
                            "{} holds v{} of {} (owner {}) not withdrawn, current v{} not for it",
                            node.party,
                            held.map_or(0, |r| r.version),
                            latest.key(),
                            latest.owner,
                            latest.version
                        ));
                    }
                    continue;
                }
                if expected.is_some() && node.store.is_withdrawn(&latest.key()) {
                    problems.push(format!(
                        "{} holds the current {} withdrawn",
                        node.party,
                        latest.key()
                    ));
                }
                if held != expected {
                    problems.push(format!(
                        "{} holds {:?} of {} (owner {}, current v{})",
                        node.party,
                        held.map(|r| r.version),
                        latest.key(),
                        latest.owner,
                        latest.version
                    ));
                }
            }
            assert!(
                node.store
                    .current
                    .keys()
                    .all(|id| self.latest.contains_key(id)),
                "{} holds a report no owner issued",
                node.party
            );
            for (peer, peer_node) in self.nodes.iter().enumerate().filter(|(p, _)| *p != idx) {
                let cursor = node.store.cursors.get(&peer).map(String::as_str);
                let end = peer_node.store.feed.len().to_string();
                if cursor != Some(end.as_str()) && !peer_node.store.feed.is_empty() {
                    problems.push(format!(
                        "{}'s cursor into {}'s feed is {cursor:?}, feed end {end}",
                        node.party, peer_node.party
                    ));
                }
            }
        }
        problems.truncate(8);
        problems.join("; ")
    }

    /// After convergence nothing changes, and the periodic pulls cost
    /// nothing: a pull issued after convergence scans no change-feed entry
    /// (sync is incremental). Requests issued earlier may still be in
    /// flight, delayed or duplicated, and scan what they asked for.
    fn check_quiet(&mut self) {
        let stored = self.summary.stored;
        let pulls_before: u64 = self.pulls_ok();
        self.quiet_since_ms = Some(self.now_ms);
        let quiet_end = self.now_ms + QUIET_PHASE_MS;
        while self.now_ms < quiet_end {
            self.tick();
        }
        assert_eq!(self.summary.stored, stored, "stores after convergence");
        assert_eq!(
            self.summary.quiet_entries_scanned, 0,
            "pulls issued after convergence scanned the change feed"
        );
        assert!(self.pulls_ok() > pulls_before, "links stopped pulling");
        assert!(self.converged(), "{}", self.divergence());
    }

    fn pulls_ok(&self) -> u64 {
        let mut total = 0;
        for node in &self.nodes {
            for link in node.pull_links.values() {
                total += link.stats().pages_stored;
            }
        }
        total
    }

    /// Keeps a link's counters before its state is lost.
    fn collect_link_stats(&mut self, idx: usize) {
        for link in self.nodes[idx].push_links.values() {
            self.summary.push_queue_overflows += link.stats().queue_overflows;
        }
        for link in self.nodes[idx].pull_links.values() {
            self.summary.pages_ahead += link.stats().pages_ahead;
            self.summary.pages_dropped += link.stats().pages_dropped;
        }
    }
}

/// A scripted run without faults: KOR is down while USA issues 50 reports
/// on top of 100 everyone already holds. When KOR comes back, its pulls
/// scan exactly the 50 new entries of USA's feed and the 50 of JPN's (JPN
/// stored them too), not the 150 reports in each store: the cost of
/// catching up is what changed. Nothing is missing and nothing duplicated.
#[test]
fn catch_up_scans_only_what_changed() {
    let parties: Vec<Party> = ["USA", "JPN", "KOR"]
        .iter()
        .map(|code| Party::new(code).unwrap())
        .collect();
    let config = SyncConfig {
        push_batch_max: 8,
        push_queue_max: 64,
        pull_page_max: 16,
        backoff_ms_min: 10,
        backoff_ms_max: 200,
        pull_interval_ms: 100,
        push_attempts_max: 2,
        pull_pages_ahead: 2,
    };
    let no_faults = Faults {
        loss: 0.0,
        duplication: 0.0,
        delay_ms_max: 5,
        crash_per_tick: 0.0,
        partition_per_tick: 0.0,
        store_failure: 0.0,
        stage_ms_max: 5,
        signature_check: SignatureCheck::Batch,
        injection_per_tick: 0.0,
        owner_action_per_tick: 0.0,
    };
    let (usa, kor) = (0, 2);
    let mut world = World::build(
        1,
        StdRng::seed_from_u64(1),
        parties,
        Policy::trilateral_default(),
        config,
        no_faults,
    );
    let issue = |world: &mut World, n: usize| {
        for _ in 0..n {
            let mut draft = world.new_draft(usa);
            draft.marking = Marking::new("SECRET", Tlp::Amber, ["TRILAT"]);
            world.publish(usa, draft);
            world.tick();
        }
    };
    issue(&mut world, 100);
    world.settle();
    world.crash(kor, i64::MAX / 4);
    issue(&mut world, 50);
    for _ in 0..400 {
        world.tick();
    }
    let scanned_before = world.scanned_for.get(&kor).copied().unwrap_or(0);
    let stored_before = world.nodes[kor].store.feed.len();
    world.nodes[kor].down_until_ms = world.now_ms;
    world.settle();
    assert_eq!(world.scanned_for[&kor] - scanned_before, 100);
    assert_eq!(world.nodes[kor].store.feed.len() - stored_before, 50);
    for node in &world.nodes {
        assert_eq!(node.store.current.len(), 150, "{}", node.party);
        assert_eq!(node.store.feed.len(), 150, "{}", node.party);
    }
}
