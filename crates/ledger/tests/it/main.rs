//! Integration tests of the ledger through its public API.

mod corruption;
mod fixtures;
mod formats;
mod integrity;
mod policy;
mod private;
mod proofs;
mod rejections;
