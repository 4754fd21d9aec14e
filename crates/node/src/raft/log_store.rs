//! The Raft log and vote on redb (`DATA/raft/log.redb`): entries by index, and the vote, the
//! committed position and the last purged position under fixed keys. Every write is a durable
//! redb commit before openraft is told it happened.
//!
//! The file is opened as untrusted input ([`borderlink_ledger::store::open_verified`]): every
//! page's checksum is verified before an entry is decoded, so a damaged log is refused at start
//! with redb's corruption message instead of panicking inside redb later, and an emptied file is
//! refused rather than taken for a new, empty log (which would forget the node's vote).

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

use borderlink_ledger::LedgerError;
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{Entry, LogId, LogState, RaftLogId, RaftLogReader, StorageError, StorageIOError, Vote};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{NodeId, TypeConfig, decode, encode};

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
const STORE: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_store");

/// The Raft log of one node. Cheap to clone (one shared database).
#[derive(Debug, Clone)]
pub(crate) struct LogStore {
    db: Arc<Database>,
    /// This node's `node` label on its metrics.
    node: Arc<str>,
}

fn read_err(e: impl ToString) -> StorageError<NodeId> {
    StorageIOError::read_logs(openraft::AnyError::error(e.to_string())).into()
}

fn write_err(e: impl ToString) -> StorageError<NodeId> {
    StorageIOError::write_logs(openraft::AnyError::error(e.to_string())).into()
}

impl LogStore {
    /// Opens (or creates) the log in `dir` of the node whose member is `node`.
    pub(crate) fn open(dir: &Path, node: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join("log.redb");
        let db = borderlink_ledger::store::open_verified(&path).map_err(|e| match e {
            LedgerError::Corrupt { detail, .. } => format!("the Raft log {} is damaged: {detail}", path.display()),
            e => format!("{}: {e}", path.display()),
        })?;
        let w = db.begin_write().map_err(|e| e.to_string())?;
        w.open_table(LOG).map_err(|e| e.to_string())?;
        w.open_table(STORE).map_err(|e| e.to_string())?;
        w.commit().map_err(|e| e.to_string())?;
        Ok(Self { db: Arc::new(db), node: Arc::from(node) })
    }

    fn get_store<T: for<'de> serde::Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, StorageError<NodeId>> {
        let r = self.db.begin_read().map_err(read_err)?;
        let t = r.open_table(STORE).map_err(read_err)?;
        match t.get(key).map_err(read_err)? {
            Some(v) => Ok(Some(decode(v.value()).map_err(read_err)?)),
            None => Ok(None),
        }
    }

    fn put_store<T: serde::Serialize>(&self, key: &str, v: &T) -> Result<(), StorageError<NodeId>> {
        let bytes = encode(v).map_err(write_err)?;
        let w = self.db.begin_write().map_err(write_err)?;
        w.open_table(STORE).map_err(write_err)?.insert(key, bytes.as_slice()).map_err(write_err)?;
        w.commit().map_err(write_err)
    }

    /// Number of entries held (for metrics).
    pub(crate) fn len(&self) -> u64 {
        self.db.begin_read().ok().and_then(|r| r.open_table(LOG).ok()).and_then(|t| t.len().ok()).unwrap_or(0)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let start = match range.start_bound() {
            Bound::Included(s) => *s,
            Bound::Excluded(s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(e) => Some(e.saturating_add(1)),
            Bound::Excluded(e) => Some(*e),
            Bound::Unbounded => None,
        };
        let r = self.db.begin_read().map_err(read_err)?;
        let t = r.open_table(LOG).map_err(read_err)?;
        let iter = match end {
            Some(e) if e <= start => return Ok(Vec::new()),
            Some(e) => t.range(start..e).map_err(read_err)?,
            None => t.range(start..).map_err(read_err)?,
        };
        let mut out = Vec::new();
        for row in iter {
            let (_, v) = row.map_err(read_err)?;
            out.push(decode::<Entry<TypeConfig>>(v.value()).map_err(read_err)?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let last_purged: Option<LogId<NodeId>> = self.get_store("last_purged")?;
        let r = self.db.begin_read().map_err(read_err)?;
        let t = r.open_table(LOG).map_err(read_err)?;
        let last = match t.last().map_err(read_err)? {
            Some((_, v)) => Some(*decode::<Entry<TypeConfig>>(v.value()).map_err(read_err)?.get_log_id()),
            None => last_purged,
        };
        Ok(LogState { last_purged_log_id: last_purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        self.put_store("vote", vote)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        self.get_store("vote")
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<(), StorageError<NodeId>> {
        self.put_store("committed", &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self.get_store::<Option<LogId<NodeId>>>("committed")?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let w = self.db.begin_write().map_err(write_err)?;
        {
            let mut t = w.open_table(LOG).map_err(write_err)?;
            for e in entries {
                let bytes = encode(&e).map_err(write_err)?;
                t.insert(e.get_log_id().index, bytes.as_slice()).map_err(write_err)?;
            }
        }
        let res = w.commit().map_err(|e| std::io::Error::other(e.to_string()));
        let failed = res.as_ref().err().map(ToString::to_string);
        callback.log_io_completed(res);
        match failed {
            Some(e) => Err(write_err(e)),
            None => Ok(()),
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let w = self.db.begin_write().map_err(write_err)?;
        {
            let mut t = w.open_table(LOG).map_err(write_err)?;
            t.retain_in(log_id.index.., |_, _| false).map_err(write_err)?;
        }
        w.commit().map_err(write_err)
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let bytes = encode(&log_id).map_err(write_err)?;
        let w = self.db.begin_write().map_err(write_err)?;
        {
            w.open_table(STORE).map_err(write_err)?.insert("last_purged", bytes.as_slice()).map_err(write_err)?;
            let mut t = w.open_table(LOG).map_err(write_err)?;
            t.retain_in(..=log_id.index, |_, _| false).map_err(write_err)?;
        }
        w.commit().map_err(write_err)?;
        metrics::gauge!("borderlink_raft_log_entries", crate::metrics::NODE => self.node.to_string())
            .set(self.len() as f64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! A damaged log file is refused or read, never a crash: copies of a real log with bytes
    //! changed, a block zeroed or the end cut off are opened and read as openraft reads them at
    //! start, in child processes that catch a panic, an abort or a hang with its seed.

    use std::collections::{BTreeMap, BTreeSet};
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::path::Path;

    use borderlink_faults::{crashes, damaged_copy, trials};
    use openraft::{CommittedLeaderId, EntryPayload, Membership};

    use super::*;
    use crate::raft::{Batch, PeerNode, RaftTx};

    fn log_id(index: u64) -> LogId<NodeId> {
        LogId::new(CommittedLeaderId::new(1, 1), index)
    }

    /// A log as a node leaves it: a membership entry, blocks and blank entries, a vote and a
    /// committed position. The entries are written as `append` writes them (encoded, keyed by
    /// index), without the flush callback only openraft can make.
    fn write_log(dir: &Path) {
        let store = LogStore::open(dir, "gb-customs").expect("a new log");
        let w = store.db.begin_write().expect("write");
        {
            let mut t = w.open_table(LOG).expect("log table");
            let node = PeerNode {
                member: "gb-customs".into(),
                peer_addr: "127.0.0.1:7001".into(),
                api_url: "http://127.0.0.1:8001/".into(),
            };
            for index in 1..=40u64 {
                let payload = match index {
                    1 => EntryPayload::Membership(Membership::new(
                        vec![BTreeSet::from([1])],
                        BTreeMap::from([(1, node.clone())]),
                    )),
                    i if i % 5 == 0 => EntryPayload::Blank,
                    i => EntryPayload::Normal(Batch {
                        timestamp_ms: 1_772_444_000_000 + i as i64,
                        proposer: "gb-customs".into(),
                        txs: vec![RaftTx {
                            body: vec![i as u8; 200],
                            signature: vec![7; 64],
                            payload: format!("{{\"FunctionalReferenceID\":\"LOG-{i}\"}}").into_bytes(),
                            wrapped: Vec::new(),
                        }],
                    }),
                };
                let entry = Entry::<TypeConfig> { log_id: log_id(index), payload };
                t.insert(index, encode(&entry).expect("encode").as_slice()).expect("insert");
            }
        }
        w.commit().expect("commit");
        store.put_store("vote", &Vote::<NodeId>::new_committed(1, 1)).expect("vote");
        store.put_store("committed", &Some(log_id(38))).expect("committed");
    }

    /// Opens the log in `dir` and reads what openraft reads at start: one line, the same for the
    /// same contents.
    fn read_log(dir: &Path) -> String {
        let mut store = match LogStore::open(dir, "gb-customs") {
            Ok(s) => s,
            Err(e) => return format!("refused: {e}"),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(async {
            let read = async {
                let state = store.get_log_state().await?;
                let entries = store.try_get_log_entries(..).await?;
                let vote = store.read_vote().await?;
                let committed = store.read_committed().await?;
                Ok::<_, StorageError<NodeId>>((state, entries, vote, committed))
            };
            match read.await {
                Ok((state, entries, vote, committed)) => {
                    let mut h = DefaultHasher::new();
                    format!("{entries:?}").hash(&mut h);
                    format!(
                        "read: last {:?}, {} entries (digest {:x}), vote {vote:?}, committed {committed:?}",
                        state.last_log_id,
                        entries.len(),
                        h.finish()
                    )
                }
                Err(e) => format!("reported: {e}"),
            }
        })
    }

    fn check_damaged_copy(fixture: &Path, seed: u64) -> String {
        let dir = fixture.join(format!("trial-{seed}"));
        std::fs::create_dir_all(&dir).expect("trial folder");
        let what = damaged_copy(&fixture.join("raft/log.redb"), &dir.join("log.redb"), seed).expect("damaged copy");
        let found = read_log(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        format!("{found} [{what}]")
    }

    #[test]
    fn damaged_raft_log_copies_are_refused_or_read_never_a_crash() {
        let mut original = String::new();
        let done = trials(
            "raft::log_store::tests::damaged_raft_log_copies_are_refused_or_read_never_a_crash",
            0..300,
            || {
                let dir = tempfile::tempdir().expect("temporary folder");
                write_log(&dir.path().join("raft"));
                original = read_log(&dir.path().join("raft"));
                dir
            },
            check_damaged_copy,
        );
        assert!(original.starts_with("read: last Some("), "{original}");
        assert_eq!(crashes(&done), Vec::<String>::new(), "a damaged copy crashed the log store");
        let wrong: Vec<String> = done
            .iter()
            .filter(|t| {
                let line = t.outcome.as_deref().unwrap_or_default();
                // Read back, it must be the original log: damage that changes it is refused.
                !line.starts_with("refused: the Raft log ") && !line.starts_with(&format!("{original} ["))
            })
            .map(ToString::to_string)
            .collect();
        assert!(wrong.is_empty(), "neither refused as damaged nor read unchanged:\n{}", wrong.join("\n"));
    }

    #[test]
    fn an_emptied_log_file_is_refused_not_taken_for_a_new_log() {
        let dir = tempfile::tempdir().expect("temporary folder");
        write_log(dir.path());
        std::fs::write(dir.path().join("log.redb"), b"").expect("empty the file");
        let e = LogStore::open(dir.path(), "gb-customs").expect_err("an empty file is not a log");
        assert!(e.contains("is damaged") && e.contains("not a redb database"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn the_raft_log_is_readable_by_the_node_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("log.redb");
        drop(LogStore::open(dir.path(), "gb-customs").expect("a new log"));
        let mode = || std::fs::metadata(&path).expect("the log").permissions().mode() & 0o777;
        assert_eq!(mode(), 0o600, "created private");
        // A log left world-readable by an earlier release is tightened when opened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("widen");
        drop(LogStore::open(dir.path(), "gb-customs").expect("the log again"));
        assert_eq!(mode(), 0o600, "tightened");
    }
}
