//! The exercise clock: exercise time as a function of wall-clock time, at
//! a speed factor, paused and resumed by whoever drives it. It reads no
//! clock itself: every call takes the wall-clock time (ms since the Unix
//! epoch), so the runner and the tests drive it alike.

/// Fastest speed factor: beyond it a scenario's waits fall below the
/// granularity of a node's timestamps (1 ms).
pub const SPEED_MAX: f64 = 1_000.0;
/// Slowest speed factor: real time.
pub const SPEED_MIN: f64 = 1.0;

/// Exercise time at a speed factor, with pause and resume.
#[derive(Clone, Debug, PartialEq)]
pub struct ExerciseClock {
    speed: f64,
    /// Exercise ms at `since_real_ms`.
    exercise_ms: f64,
    /// Wall-clock ms when the current running stretch began.
    since_real_ms: i64,
    paused: bool,
}

/// A speed factor outside [`SPEED_MIN`]..=[`SPEED_MAX`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("speed {0}: expected {SPEED_MIN} (real time) to {SPEED_MAX}")]
pub struct SpeedError(pub f64);

impl ExerciseClock {
    /// A clock at exercise time 0 at `start_real_ms`, running.
    pub fn start(speed: f64, start_real_ms: i64) -> Result<ExerciseClock, SpeedError> {
        if !(SPEED_MIN..=SPEED_MAX).contains(&speed) {
            return Err(SpeedError(speed));
        }
        Ok(ExerciseClock {
            speed,
            exercise_ms: 0.0,
            since_real_ms: start_real_ms,
            paused: false,
        })
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Whether the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Exercise ms at wall-clock `real_ms` (never before the last pause or
    /// resume).
    pub fn exercise_ms(&self, real_ms: i64) -> f64 {
        if self.paused {
            return self.exercise_ms;
        }
        let elapsed_ms = (real_ms - self.since_real_ms).max(0) as f64;
        self.exercise_ms + elapsed_ms * self.speed
    }

    /// How many wall-clock ms from `real_ms` until exercise time
    /// `exercise_ms` comes; `None` while paused (it does not come).
    pub fn wait_ms(&self, exercise_ms: f64, real_ms: i64) -> Option<u64> {
        if self.paused {
            return None;
        }
        let ahead_ms = exercise_ms - self.exercise_ms(real_ms);
        Some((ahead_ms / self.speed).ceil().max(0.0) as u64)
    }

    /// Stops exercise time at `real_ms`; pausing a paused clock does nothing.
    pub fn pause(&mut self, real_ms: i64) {
        if self.paused {
            return;
        }
        self.exercise_ms = self.exercise_ms(real_ms);
        self.since_real_ms = real_ms;
        self.paused = true;
        assert!(self.exercise_ms >= 0.0);
    }

    /// Starts exercise time again at `real_ms`, from where it stopped.
    pub fn resume(&mut self, real_ms: i64) {
        if !self.paused {
            return;
        }
        self.since_real_ms = real_ms;
        self.paused = false;
        assert_eq!(self.exercise_ms(real_ms), self.exercise_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_at_its_speed_and_stands_still_while_paused() {
        let mut clock = ExerciseClock::start(10.0, 1_000).unwrap();
        assert_eq!(clock.exercise_ms(1_000), 0.0);
        assert_eq!(clock.exercise_ms(1_500), 5_000.0);
        assert_eq!(clock.wait_ms(10_000.0, 1_500), Some(500));
        clock.pause(2_000);
        assert_eq!(clock.exercise_ms(9_000), 10_000.0);
        assert_eq!(clock.wait_ms(20_000.0, 9_000), None);
        clock.resume(10_000);
        assert_eq!(clock.exercise_ms(10_000), 10_000.0);
        assert_eq!(clock.exercise_ms(10_100), 11_000.0);
        assert_eq!(clock.wait_ms(5_000.0, 10_100), Some(0), "already past");
    }

    #[test]
    fn a_speed_out_of_range_is_refused() {
        assert_eq!(ExerciseClock::start(0.5, 0), Err(SpeedError(0.5)));
        assert!(ExerciseClock::start(f64::NAN, 0).is_err());
        assert!(ExerciseClock::start(SPEED_MAX + 1.0, 0).is_err());
        assert!(ExerciseClock::start(1.0, 0).is_ok());
    }
}
