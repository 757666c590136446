//! The streaming analyser the node and the CLI drive: NMEA lines in,
//! events out, bounded memory (the decoder's and the tracker's bounds).

use crate::track::{Event, TrackError, Tracker};
use crate::{Decoder, Error};

/// Why a line was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The line did not decode (counted; keep feeding).
    #[error(transparent)]
    Decode(#[from] Error),
    /// A tracker bound was hit.
    #[error(transparent)]
    Track(#[from] TrackError),
}

/// Decoder + tracker.
#[derive(Debug)]
pub struct Analyser {
    decoder: Decoder,
    tracker: Tracker,
    clock_unix_ms: Option<i64>,
}

impl Analyser {
    /// An analyser around a configured tracker.
    pub fn new(tracker: Tracker) -> Analyser {
        Analyser {
            decoder: Decoder::new(),
            tracker,
            clock_unix_ms: None,
        }
    }

    /// Feeds one line. A message's time is its tag block's or receiver's
    /// time, else `receive_time_unix_ms` (the node's clock), else the last
    /// time seen in the stream (files without times). Events go to `events`.
    pub fn feed_line(
        &mut self,
        line: &[u8],
        receive_time_unix_ms: Option<i64>,
        events: &mut Vec<Event>,
    ) -> Result<(), FeedError> {
        let Some(msg) = self.decoder.decode_line(line)? else {
            return Ok(());
        };
        let time = msg
            .meta()
            .time_unix_ms
            .or(receive_time_unix_ms)
            .or(self.clock_unix_ms)
            .unwrap_or(0);
        self.clock_unix_ms = Some(self.clock_unix_ms.map_or(time, |c| c.max(time)));
        let (mmsi, line_no) = (msg.mmsi(), msg.meta().line);
        if let Some(pos) = msg.position() {
            self.tracker.position(mmsi, &pos, time, line_no, events)?;
        }
        if let Some(data) = msg.static_data() {
            self.tracker.static_data(mmsi, &data, time, line_no, events);
        }
        Ok(())
    }

    /// Closes open encounters, stays and gaps (end of a file).
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        self.tracker.finish(events);
    }

    /// Decoder counts.
    pub fn decode_stats(&self) -> &crate::DecodeStats {
        self.decoder.stats()
    }

    /// Multi-sentence groups awaiting fragments (see [`Decoder::pending_groups`]).
    pub fn pending_groups(&self) -> usize {
        self.decoder.pending_groups()
    }

    /// The tracker (summaries, stats).
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }
}
