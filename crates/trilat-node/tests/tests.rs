//! Integration tests of the node: real nodes on loopback.
