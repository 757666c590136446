//! Deterministic simulation (placeholder; being built).
