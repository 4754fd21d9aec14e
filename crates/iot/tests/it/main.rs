//! Integration tests of borderlink-iot, one binary (linking is the slow part).

mod hash_rules;
mod hash_vectors;
mod mapping;
mod oracle;
mod postgres;
mod query_params;
mod robustness;
mod write_roundtrip;
