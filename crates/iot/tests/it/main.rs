//! The iot crate's integration tests: one binary.

mod postgres;
