//! Integration tests of the node: in-process API checks and real nodes on
//! loopback (tokio tasks, real HTTP, SQLite in temp dirs).

mod ais_feeds;
mod api;
mod audit;
mod bus;
mod bus_tls;
mod cluster_backend;
mod cluster_hygiene;
mod common;
mod console;
mod console_api;
mod demo;
mod engines;
mod exercise;
mod exercise_start;
mod federation;
mod lease_failover;
mod link_outage;
mod partitions;
mod peer_tls;
mod release_property;
mod sanctions_ids;
mod seismic;
mod stream_withdrawn;
mod supply;
mod taxii;
mod withdraw;
