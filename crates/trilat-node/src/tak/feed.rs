//! The release to one TAK destination: every new current report on the
//! node's live channel, and every few seconds the vessels heard since, go
//! through the destination's release rule ([`trilat_tak::release_report`],
//! [`trilat_tak::release_feed`]); what passes is audited (fail closed: no
//! entry, nothing queued), turned into CoT and queued for the link.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, Notify};
use trilat_core::{Report, ReportKey};
use trilat_store::{AuditAction, AuditEvent};
use trilat_tak::{Affiliation, CotEvent, CourseMemory, Destination};

use super::config::TakEndpoint;
use super::link::Queue;
use crate::{now, AppState};

/// Sanctioned MMSIs remembered for vessels' affiliation at most.
const SANCTIONED_MAX: usize = 10_000;
/// Vessels sent in one round at most (the most recently heard first).
const VESSELS_PER_ROUND_MAX: usize = 2_000;
/// Events drawn at a destination remembered at most (to delete them when
/// a later version is withdrawn from it).
const DRAWN_MAX: usize = 10_000;
/// How many MMSIs one vessel round's audit entry lists.
const AUDIT_MMSIS_MAX: usize = 40;

/// One destination's feed.
pub(super) struct Feed {
    state: AppState,
    endpoint: TakEndpoint,
    destination: Destination,
    queue: Arc<Queue>,
    reconnected: Arc<Notify>,
    courses: CourseMemory,
    /// MMSIs of sanctioned-vessel reports released to this destination:
    /// those vessels are drawn as suspect.
    sanctioned: HashSet<u32>,
    sanctioned_order: VecDeque<u32>,
    /// The last event sent for each report uid still drawn there.
    drawn: HashMap<String, CotEvent>,
    drawn_order: VecDeque<String>,
    n_dropped: u64,
}

impl Feed {
    pub(super) fn new(
        state: AppState,
        endpoint: TakEndpoint,
        queue: Arc<Queue>,
        reconnected: Arc<Notify>,
    ) -> Feed {
        Feed {
            destination: endpoint.destination(),
            state,
            endpoint,
            queue,
            reconnected,
            courses: CourseMemory::default(),
            sanctioned: HashSet::new(),
            sanctioned_order: VecDeque::new(),
            drawn: HashMap::new(),
            drawn_order: VecDeque::new(),
            n_dropped: 0,
        }
    }

    fn actor(&self) -> String {
        format!("tak:{}", self.endpoint.name)
    }

    /// Runs until the node's live channel closes.
    pub(super) async fn run(mut self) {
        let mut live = self.state.live.subscribe();
        let mut vessel_tick =
            tokio::time::interval(Duration::from_secs(self.endpoint.vessel_interval_s));
        vessel_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heard_since_ms = i64::MIN;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(report) => self.offer_report(&report).await,
                    Err(broadcast::error::RecvError::Lagged(n_missed)) => {
                        tracing::warn!(tak = %self.endpoint.name, n_missed, "TAK feed fell behind the live reports; those were not sent");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = vessel_tick.tick(), if self.endpoint.vessels => {
                    heard_since_ms = self.offer_vessels(heard_since_ms).await;
                }
                _ = self.reconnected.notified() => {
                    // A restarted server lost the picture: draw it again, the
                    // vessels with the next round.
                    self.redraw().await;
                    heard_since_ms = i64::MIN;
                }
            }
        }
    }

    /// Releases `report` to the destination if the rule allows it.
    async fn offer_report(&mut self, report: &Report) {
        let policy = &self.state.policy;
        if let Err(refusal) =
            trilat_tak::release_report(policy, &self.state.party, &self.destination, report)
        {
            tracing::debug!(tak = %self.endpoint.name, report = %report.id, %refusal, "not for this TAK destination");
            self.withdraw(report).await;
            return;
        }
        let cot = match trilat_tak::report_event(report, now(), &mut self.courses) {
            Ok(Some(cot)) => cot,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(tak = %self.endpoint.name, %e, "report not sent to TAK");
                return;
            }
        };
        if report.kind.as_str() == "maritime.sanctioned-vessel" {
            if let Some(mmsi) = report.payload.get("mmsi").and_then(|m| m.as_u64()) {
                self.remember_sanctioned(mmsi as u32);
            }
        }
        let audit = AuditEvent {
            at: now(),
            actor: self.actor(),
            action: AuditAction::Release,
            report_id: Some(report.id),
            report_owner: Some(report.owner.clone()),
            counterparty: Some(self.destination.party.clone()),
            detail: format!(
                "TAK {}: version {}, CoT {} {}",
                self.endpoint.name, report.version, cot.cot_type, cot.uid
            ),
        };
        if let Err(e) = self.state.audit(audit).await {
            tracing::error!(tak = %self.endpoint.name, %e, "audit failed; nothing sent to TAK");
            return;
        }
        self.enqueue(cot.to_xml());
        self.remember_drawn(cot);
    }

    /// Sends again every event still drawn and not stale, as one audited
    /// release (the parts of [`crate::audit::release_events`]).
    async fn redraw(&mut self) {
        let at = now();
        let mut events: Vec<CotEvent> = self
            .drawn
            .values()
            .filter(|cot| cot.stale > at)
            .cloned()
            .collect();
        events.sort_by_key(|cot| cot.time);
        let released: Vec<crate::audit::Released> = events
            .iter()
            .filter_map(|cot| {
                let (id, version) = cot.source.report?;
                Some((ReportKey::new(cot.source.owner.clone(), id), version))
            })
            .collect();
        let template = AuditEvent::new(at, self.actor(), AuditAction::Release)
            .counterparty(self.destination.party.clone());
        let what = format!("TAK {} redrawn after reconnecting", self.endpoint.name);
        let audit = crate::audit::release_events(template, &what, &released);
        if let Err(e) = self.state.audit_all(audit).await {
            tracing::error!(tak = %self.endpoint.name, %e, "audit failed; picture not redrawn");
            return;
        }
        for mut cot in events {
            cot.time = at;
            self.enqueue(cot.to_xml());
        }
    }

    /// A version the destination may not see replaces one it was sent: the
    /// marker there is deleted. The delete is built from the event the
    /// destination already holds (its marking, its callsign), never from
    /// the new version.
    async fn withdraw(&mut self, report: &Report) {
        // The uid only: a scratch course memory, so a refused position
        // never feeds a course sent later.
        let Ok(Some(refused)) =
            trilat_tak::report_event(report, now(), &mut CourseMemory::default())
        else {
            return;
        };
        let Some(drawn) = self.drawn.remove(&refused.uid) else {
            return;
        };
        let delete = drawn.delete_of(now());
        let audit = AuditEvent {
            at: now(),
            actor: self.actor(),
            action: AuditAction::Withdraw,
            report_id: Some(report.id),
            report_owner: Some(report.owner.clone()),
            counterparty: Some(self.destination.party.clone()),
            detail: format!(
                "TAK {}: version {} not releasable here; CoT delete of {}",
                self.endpoint.name, report.version, drawn.uid
            ),
        };
        if let Err(e) = self.state.audit(audit).await {
            tracing::error!(tak = %self.endpoint.name, %e, "audit failed; delete not sent to TAK");
            return;
        }
        self.enqueue(delete.to_xml());
    }

    /// Keeps the event last sent under its uid (a delete forgets it); bounded.
    fn remember_drawn(&mut self, cot: CotEvent) {
        if let Some((uid, _)) = &cot.link {
            self.drawn.remove(uid);
            return;
        }
        if self.drawn.insert(cot.uid.clone(), cot.clone()).is_none() {
            self.drawn_order.push_back(cot.uid);
        }
        while self.drawn_order.len() > DRAWN_MAX {
            let oldest = self.drawn_order.pop_front().expect("over the bound");
            self.drawn.remove(&oldest);
        }
        assert!(self.drawn.len() <= DRAWN_MAX);
    }

    /// Sends the vessels heard since `since_ms`; the new `since`.
    async fn offer_vessels(&mut self, since_ms: i64) -> i64 {
        let Ok(engines) = self.state.engines.get() else {
            return since_ms;
        };
        let exercise = engines.config.exercise;
        let marking = engines.marking.clone();
        let policy = &self.state.policy;
        if let Err(refusal) = trilat_tak::release_feed(
            policy,
            &self.state.party,
            &self.destination,
            &marking,
            exercise,
        ) {
            tracing::debug!(tak = %self.endpoint.name, %refusal, "vessels not for this TAK destination");
            return since_ms;
        }
        let mut vessels = engines.maritime.with_tracker(|tracker| {
            let mut heard: Vec<_> = tracker
                .summaries()
                .into_iter()
                .filter(|v| v.last_seen_unix_ms > since_ms)
                .collect();
            heard.sort_by_key(|v| std::cmp::Reverse(v.last_seen_unix_ms));
            heard
        });
        let Some(newest_ms) = vessels.first().map(|v| v.last_seen_unix_ms) else {
            return since_ms;
        };
        vessels.truncate(VESSELS_PER_ROUND_MAX);
        let mmsis: Vec<String> = vessels
            .iter()
            .take(AUDIT_MMSIS_MAX)
            .map(|v| v.mmsi.to_string())
            .collect();
        let audit = AuditEvent {
            at: now(),
            actor: self.actor(),
            action: AuditAction::Release,
            report_id: None,
            report_owner: None,
            counterparty: Some(self.destination.party.clone()),
            detail: format!(
                "TAK {}: {} vessel positions ({}), MMSI {}{}",
                self.endpoint.name,
                vessels.len(),
                marking.banner(),
                mmsis.join(" "),
                if vessels.len() > mmsis.len() {
                    " …"
                } else {
                    ""
                }
            ),
        };
        if let Err(e) = self.state.audit(audit).await {
            tracing::error!(tak = %self.endpoint.name, %e, "audit failed; no vessels sent to TAK");
            return since_ms;
        }
        let at = now();
        for vessel in &vessels {
            let affiliation = if self.sanctioned.contains(&vessel.mmsi) {
                Affiliation::Suspect
            } else {
                Affiliation::Unknown
            };
            let cot = trilat_tak::vessel_event(
                vessel,
                affiliation,
                &self.state.party,
                &marking,
                exercise,
                at,
            );
            self.enqueue(cot.to_xml());
        }
        newest_ms
    }

    fn enqueue(&mut self, xml: String) {
        if self.queue.push(xml) {
            self.n_dropped += 1;
            if self.n_dropped.is_power_of_two() {
                tracing::warn!(tak = %self.endpoint.name, n_dropped = self.n_dropped, "TAK queue full: oldest events dropped");
            }
        }
    }

    fn remember_sanctioned(&mut self, mmsi: u32) {
        if self.sanctioned.insert(mmsi) {
            self.sanctioned_order.push_back(mmsi);
            if self.sanctioned_order.len() > SANCTIONED_MAX {
                let oldest = self.sanctioned_order.pop_front().expect("over the bound");
                self.sanctioned.remove(&oldest);
            }
        }
        assert!(self.sanctioned.len() <= SANCTIONED_MAX);
    }
}
