//! The Borderlink node: the composition root that serves the HTTP API and the web console, and
//! the only crate that knows HTTP. It maps requests to the pure services of the other crates
//! (today: validation and JSON Schemas from `borderlink-model`) and every failure to one table
//! of stable error codes ([`error::Code`]), so that every error body is
//! `{"code", "type", "message"}`.
//!
//! Main entry points: [`Config`] (what to listen on, where the data lives), [`bind`] which
//! returns a [`Node`] that knows its real address, [`Node::serve`] with graceful shutdown, and
//! [`serve`] which does both. [`router`] gives the bare axum router for in-process use.
//!
//! Routes: `POST /api/v1/validate`, `GET /api/v1/schemas[/{type}]`, `GET /api/openapi.json`,
//! `GET /healthz`; the console at `/`, `/validate`, `/schemas`, `/api` with its assets under
//! `/assets/`.

mod api;
mod config;
mod console;
pub mod error;
mod metrics;
pub mod ordering;
pub mod peer;
pub mod raft;
mod record_types;
mod server;
mod session;
mod validation;

pub use config::{ClusterSection, Config, DEFAULT_MAX_BODY_BYTES, LedgerConfig};
pub use error::{ErrorCode, NodeError};
pub use ordering::{CommitEvent, LedgerService, Ordering, SoloOrderer};
pub use server::{Node, bind, router, serve};
