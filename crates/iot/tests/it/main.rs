//! Integration tests of borderlink-iot, one binary (linking is the slow part).

mod hash_rules;
mod hash_vectors;
mod oracle;
mod postgres;
mod robustness;
