//! The Raft log and vote on redb (`DATA/raft/log.redb`): entries by index, and the vote, the
//! committed position and the last purged position under fixed keys. Every write is a durable
//! redb commit before openraft is told it happened.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

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
        borderlink_ledger::identity::private_file(&path).map_err(|e| e.to_string())?;
        let db = Database::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
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
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_raft_log_is_readable_by_the_node_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("log.redb");
        // A log left world-readable by an earlier release is tightened too.
        std::fs::write(&path, b"").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap_or_else(|e| panic!("{e}"));
        let _store = LogStore::open(dir.path(), "gb-hmrc").unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{e}")).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
