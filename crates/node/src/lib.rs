//! The Borderlink node: the composition root that serves the HTTP API and the web console, and
//! the only crate that knows HTTP. It maps requests to the pure services of the other crates and
//! every failure to one table of stable error codes ([`error::Code`]), so that every error body
//! is `{"code", "type", "message"}`.
//!
//! The node is composed of **capabilities** (`capability.rs`): `operations` (health, metrics,
//! the OpenAPI document and its interactive reference), `dataset` (validation, JSON Schemas
//! and the data-quality dashboard), `ledger` (transactions, records, blocks, proofs, blobs, the
//! network), `risk` (scores, lanes, the queue, criteria, the model). Each is one folder with its
//! service, API routes (registered with their OpenAPI paths), console pages and navigation
//! entries. Who calls is one [`Principal`]; the permission a route needs is in its handler's
//! signature (`Require<P>`).
//!
//! Main entry points: [`Config`] (what to listen on, where the data lives), [`bind`] which
//! returns a [`Node`] that knows its real address and its routes, [`Node::serve`] with graceful
//! shutdown, and [`serve`] which does both.

mod access;
mod capability;
pub mod clock;
mod config;
mod connections;
mod console;
mod dataset;
pub mod error;
mod https;
mod iot;
mod ledger;
mod limits;
mod metrics;
mod mra;
mod openapi;
mod operations;
pub mod ordering;
pub mod peer;
mod principal;
mod projection;
pub mod raft;
mod record_types;
mod risk;
mod server;
mod session;
mod submission;
mod validation;

pub use config::{
    ClusterSection, Config, DEFAULT_BLOB_QUOTA_BYTES, DEFAULT_MAX_BODY_BYTES, IotBroker, IotSection, IotStore,
    LedgerConfig, Limits, Secret, TlsSection, ValidationSection,
};
pub use error::{ErrorCode, NodeError};
pub use ordering::{CommitEvent, LedgerService, Ordering, SoloOrderer};
pub use principal::Principal;
pub use server::{Node, RouteEntry, bind, serve};

/// Writes a new console token (mode 0600) for the node whose data directory is `data_dir` and
/// returns the file's path. A running node keeps the token it started with until it restarts;
/// `POST /api/v1/node/console-token` rotates it live and ends every console session.
pub fn rotate_console_token(data_dir: &std::path::Path) -> Result<std::path::PathBuf, borderlink_ledger::LedgerError> {
    if !data_dir.join("ledger").is_dir() {
        return Err(borderlink_ledger::LedgerError::Usage(format!(
            "{} holds no node's ledger: give the node's data folder (its `data_dir`)",
            data_dir.display()
        )));
    }
    let path = data_dir.join(session::TOKEN_FILE);
    session::write_new_token(&path)?;
    Ok(path)
}
