//! How many refused peer handshakes are audited one by one.
//!
//! Anyone who can reach the peer listener can fail a TLS handshake, as
//! often as they like. Each refusal over a certificate is worth an audit
//! entry, but the audit log must not grow at an attacker's pace: the first
//! [`REFUSALS_AUDITED_PER_WINDOW`] refusals of each [`REFUSAL_WINDOW`] are
//! audited one by one, and the rest are counted and audited as one summary
//! entry when the window ends (which addresses, how many). The log so grows
//! by at most `REFUSALS_AUDITED_PER_WINDOW + 1` entries a window, and an
//! auditor still sees that the flood happened.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Refused handshakes audited one by one in each window.
pub const REFUSALS_AUDITED_PER_WINDOW: u32 = 20;
/// The window over which [`REFUSALS_AUDITED_PER_WINDOW`] applies.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(60);
/// Source addresses a summary names; beyond them it says "and others".
const SOURCES_NAMED_MAX: usize = 8;

/// What to do with one refused handshake.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    /// Audit it on its own.
    Audit,
    /// Count it into the window's summary.
    Count {
        /// The first counted since the last summary was taken: the caller
        /// then arranges for [`RefusalBudget::take_summary`] at `flush_at`.
        first: bool,
        /// When the window ends.
        flush_at: Instant,
    },
}

/// The refusals counted but not audited one by one since the last summary.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    /// How many.
    pub refused: u64,
    /// Up to [`SOURCES_NAMED_MAX`] of their source addresses, in order.
    pub sources: Vec<IpAddr>,
    /// Whether more sources than those named sent them.
    pub more_sources: bool,
}

impl Summary {
    /// The audit entry's detail.
    pub fn detail(&self) -> String {
        let sources: Vec<String> = self.sources.iter().map(IpAddr::to_string).collect();
        let others = if self.more_sources { " and others" } else { "" };
        format!(
            "{} more peer TLS handshakes refused in {} s, not audited one by one \
             (at most {REFUSALS_AUDITED_PER_WINDOW} a window are), from {}{others}",
            self.refused,
            REFUSAL_WINDOW.as_secs(),
            sources.join(", "),
        )
    }
}

/// The count of one listener's refusals in the current window.
#[derive(Debug, Default)]
pub struct RefusalBudget {
    window_end: Option<Instant>,
    audited: u32,
    counted: u64,
    sources: BTreeSet<IpAddr>,
    more_sources: bool,
}

impl RefusalBudget {
    /// Decides for one refusal from `source` at `now`.
    pub fn admit(&mut self, now: Instant, source: IpAddr) -> Admit {
        let window_end = match self.window_end {
            Some(end) if now < end => end,
            _ => {
                self.audited = 0;
                *self.window_end.insert(now + REFUSAL_WINDOW)
            }
        };
        if self.audited < REFUSALS_AUDITED_PER_WINDOW {
            self.audited += 1;
            return Admit::Audit;
        }
        let first = self.counted == 0;
        self.counted += 1;
        if self.sources.len() < SOURCES_NAMED_MAX {
            self.sources.insert(source);
        } else if !self.sources.contains(&source) {
            self.more_sources = true;
        }
        Admit::Count {
            first,
            flush_at: window_end,
        }
    }

    /// The refusals counted since the last summary, if any; starts a new
    /// count.
    pub fn take_summary(&mut self) -> Option<Summary> {
        if self.counted == 0 {
            return None;
        }
        let summary = Summary {
            refused: self.counted,
            sources: std::mem::take(&mut self.sources).into_iter().collect(),
            more_sources: self.more_sources,
        };
        self.counted = 0;
        self.more_sources = false;
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn a_flood_is_audited_up_to_the_bound_then_summarised() {
        let mut budget = RefusalBudget::default();
        let start = Instant::now();
        for _ in 0..REFUSALS_AUDITED_PER_WINDOW {
            assert_eq!(budget.admit(start, ip(1)), Admit::Audit);
        }
        let flush_at = start + REFUSAL_WINDOW;
        assert_eq!(
            budget.admit(start, ip(2)),
            Admit::Count {
                first: true,
                flush_at
            }
        );
        for n in 0..20 {
            assert_eq!(
                budget.admit(start + Duration::from_secs(1), ip(n)),
                Admit::Count {
                    first: false,
                    flush_at
                }
            );
        }
        let summary = budget.take_summary().unwrap();
        assert_eq!(summary.refused, 21);
        assert_eq!(summary.sources.len(), SOURCES_NAMED_MAX);
        assert!(summary.more_sources);
        assert!(summary
            .detail()
            .starts_with("21 more peer TLS handshakes refused"));
        assert_eq!(budget.take_summary(), None);

        // Still in the window: counted again, and the next count is a first.
        assert!(matches!(
            budget.admit(start + Duration::from_secs(2), ip(3)),
            Admit::Count { first: true, .. }
        ));
        // A new window audits again.
        assert_eq!(budget.admit(flush_at, ip(4)), Admit::Audit);
        let late = budget.take_summary().unwrap();
        assert_eq!(
            (late.refused, late.sources, late.more_sources),
            (1, vec![ip(3)], false)
        );
    }
}
