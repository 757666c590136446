//! The one integration-test binary of trilat-sync: the deterministic
//! simulation of a federation under network faults and restarts.

mod sim;
