//! The `ledger` capability: the consortium's permissioned ledger as this node keeps it —
//! signed transactions in, records, history, blocks and offline-verifiable proofs out, commits
//! live as Server-Sent Events, off-chain objects by hash, the Raft group's state, a search
//! across the records (`search`: an index kept as a projection of the ledger) — and the
//! console's explorer, record documents and diffs, search, AEO status and network pages.
//!
//! The engine it serves (`crate::ordering`: solo or Raft ordering; `crate::raft`; `crate::peer`)
//! is the node's spine: every other capability reads the ledger through the projection driver
//! (`crate::projection`), never through this module.

mod api;
mod cluster;
mod console;
mod document;
mod endorse;
mod network_page;
mod open;
pub(crate) mod paging;
mod record_page;
mod retention;
mod search;
mod search_api;
mod search_page;
mod views;

use std::sync::Arc;

use axum::routing::get;
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, OpenFuture, Startup};
use crate::console::Section;
use crate::error::NodeError;
use crate::openapi::guarded;
use crate::principal::{OperateNode, Public, ReadLedger, StoreBlobs};

pub(crate) use console::enc;

/// The explorer's navigation section.
pub(crate) const LEDGER: Section = Section("ledger");
/// The network page's navigation section.
pub(crate) const NETWORK: Section = Section("network");
/// The AEO status page's navigation section.
pub(crate) const AEO: Section = Section("aeo");

pub(crate) const CAPABILITY: Capability = Capability {
    name: "ledger",
    open,
    api: || {
        vec![
            guarded::<Public>(routes!(api::submit)),
            guarded::<ReadLedger>(routes!(endorse::endorse)),
            guarded::<Public>(routes!(api::node)),
            guarded::<ReadLedger>(routes!(api::network)),
            guarded::<ReadLedger>(routes!(api::list)),
            guarded::<ReadLedger>(routes!(search_api::search)),
            guarded::<ReadLedger>(routes!(api::record)),
            guarded::<ReadLedger>(routes!(api::history)),
            guarded::<ReadLedger>(routes!(api::private)),
            guarded::<ReadLedger>(routes!(api::block)),
            guarded::<ReadLedger>(routes!(api::proof)),
            guarded::<ReadLedger>(routes!(api::events)),
            guarded::<StoreBlobs>(routes!(api::put_blob)),
            guarded::<ReadLedger>(routes!(api::get_blob)),
            guarded::<ReadLedger>(routes!(cluster::status)),
            guarded::<OperateNode>(routes!(retention::review)),
            guarded::<OperateNode>(routes!(retention::apply)),
            guarded::<OperateNode>(routes!(cluster::faults)),
        ]
    },
    console: || {
        vec![
            ("/ledger", get(console::explorer)),
            ("/ledger/blocks/{height}", get(console::block)),
            ("/ledger/records/{id}", get(record_page::record)),
            ("/ledger/records/{id}/diff", get(record_page::diff)),
            ("/search", get(search_page::page)),
            ("/aeo", get(console::aeo)),
            ("/network", get(network_page::page)),
        ]
    },
    nav: &[
        NavEntry { section: LEDGER, href: "/ledger", label: "Ledger" },
        NavEntry { section: NETWORK, href: "/network", label: "Network" },
        NavEntry { section: AEO, href: "/aeo", label: "AEO status" },
    ],
    tags: &[
        ("ledger", "The shared ledger: transactions, records, blocks, proofs, events, off-chain objects"),
        ("replication", "The consortium's Raft group as this node sees it"),
    ],
};

/// Opens the ledger of a member node (with its blob store); a node without `[ledger]` has none.
fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        let Some(lc) = &startup.config.ledger else { return Ok(()) };
        let (service, console) = open::open_ledger(startup.config, lc).await?;
        let blobs = borderlink_ledger::blobs::BlobStore::open(&startup.config.data_dir).map_err(NodeError::Ledger)?;
        startup.services.insert(Arc::new(blobs));
        // The search index: rebuilt from the ledger by the projection driver as the node opens,
        // then kept up to date as blocks commit.
        let index = Arc::new(search::SearchIndex::default());
        startup.services.insert(Arc::clone(&index));
        startup.projections.push(index);
        startup.ledger = Some(service);
        startup.console = Some(Arc::new(console));
        Ok(())
    })
}
