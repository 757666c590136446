//! Integration tests of trilat-missile: accuracy against simulated truth, salvos, EEZ calls,
//! bad input, the engine's events and payloads, and a published-launch subset.
mod accuracy;
mod gaps;
mod input;
mod published;
mod shipped_zones;
