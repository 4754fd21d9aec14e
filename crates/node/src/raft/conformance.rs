//! openraft's storage conformance suite (`openraft::testing::Suite`), run as openraft's own
//! stores run it, against the stores a node really uses: the Raft log on redb ([`LogStore`]) and
//! the ledger as state machine ([`StateMachine`]). Each case gets a fresh consortium, a fresh
//! ledger and a fresh log in its own temporary folder.
//!
//! Every case of openraft 0.9.25's suite applies to these stores and runs (`Suite::test_all`):
//! the suite only ever writes blank and membership entries, which the ledger applies by moving
//! its Raft position (no block), so no case needs application data that cannot be a valid
//! ledger batch. What the suite does not reach, because openraft cannot build a `Batch`: applying
//! a normal entry (a block) and a snapshot that carries blocks; the cluster tests of the CLI
//! (`crates/cli/tests/it/cluster.rs`) cover those.

use std::sync::Arc;

use borderlink_ledger::Ledger;
use borderlink_ledger::consortium::{self, OrgSpec};
use borderlink_ledger::identity::{MemberKeys, Role};
use openraft::StorageError;
use openraft::testing::{StoreBuilder, Suite};
use tempfile::TempDir;
use tokio::sync::broadcast;

use super::cluster::Faults;
use super::log_store::LogStore;
use super::state_machine::StateMachine;
use super::{NodeId, TypeConfig};

/// Builds the stores of a new node of a one-member consortium; the folder is the guard the suite
/// keeps until the case ends.
struct FreshNode;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for FreshNode {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError<NodeId>> {
        let dir = tempfile::tempdir().expect("temporary folder");
        let orgs =
            [OrgSpec { name: "Suite Customs".into(), role: Role::Customs, country: "GB".into(), trader_ids: vec![] }];
        let created =
            consortium::create(&dir.path().join("net"), "Suite", &orgs, "2026-11-26T00:00:00Z").expect("consortium");
        let key = MemberKeys::load(&created.key_files[0].1).expect("member key");
        let ledger = Ledger::open(&dir.path().join("data/ledger"), created.genesis, Some(key)).expect("ledger");
        let log = LogStore::open(&dir.path().join("data/raft"), "test").expect("raft log");
        let (events, _) = broadcast::channel(16);
        let sm = StateMachine::new(Arc::new(ledger), events, Arc::new(Faults::default())).expect("state machine");
        Ok((dir, log, sm))
    }
}

#[test]
fn raft_stores_pass_openraft_storage_suite() -> Result<(), StorageError<NodeId>> {
    Suite::test_all(FreshNode)
}
