//! The last sequence number admitted per device, in memory for the check and in
//! `DATA/iot/sequences.redb` so that replay protection survives a restart.
//!
//! Invariant: a number is recorded only after the message's events are stored, so a crash in
//! between makes the device's re-sent message a duplicate in the store, never a lost one.

use std::path::Path;
use std::sync::{Arc, Mutex};

use borderlink_iot::admission::{Refused, Sequences};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::NodeError;

const LAST: TableDefinition<&str, u64> = TableDefinition::new("iot_last_sequence");

/// The sequence numbers, checked in memory and persisted.
#[derive(Debug, Clone)]
pub(crate) struct SequenceBook {
    memory: Arc<Mutex<Sequences>>,
    db: Option<Arc<Database>>,
}

impl SequenceBook {
    /// Opens (or creates) the file at `path` and reads every device's number.
    pub(crate) async fn open(path: &Path) -> Result<Self, NodeError> {
        let path = path.to_owned();
        let shown = path.display().to_string();
        let storage = move |e: String| NodeError::Storage(format!("{shown}: {e}"));
        let (db, sequences) = tokio::task::spawn_blocking(move || -> Result<_, String> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            let db = Database::create(&path).map_err(|e| e.to_string())?;
            let w = db.begin_write().map_err(|e| e.to_string())?;
            w.open_table(LAST).map_err(|e| e.to_string())?;
            w.commit().map_err(|e| e.to_string())?;
            let mut sequences = Sequences::new();
            let r = db.begin_read().map_err(|e| e.to_string())?;
            let table = r.open_table(LAST).map_err(|e| e.to_string())?;
            for entry in table.iter().map_err(|e| e.to_string())? {
                let (device, seq) = entry.map_err(|e| e.to_string())?;
                sequences.restore(device.value(), seq.value());
            }
            Ok((db, sequences))
        })
        .await
        .map_err(|e| storage(e.to_string()))?
        .map_err(storage)?;
        Ok(Self { memory: Arc::new(Mutex::new(sequences)), db: Some(Arc::new(db)) })
    }

    /// A book kept in memory only (tests).
    #[cfg(test)]
    pub(crate) fn in_memory() -> Self {
        Self { memory: Arc::new(Mutex::new(Sequences::new())), db: None }
    }

    /// Checks that `seq` is above the last number admitted from `device`.
    pub(crate) fn check(&self, device: &str, seq: u64) -> Result<(), Refused> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).check(device, seq)
    }

    /// Records `seq` as admitted, in memory at once and then on disk.
    pub(crate) async fn admit(&self, device: &str, seq: u64) -> Result<(), String> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).admit(device, seq);
        let Some(db) = self.db.clone() else { return Ok(()) };
        let device = device.to_owned();
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            let w = db.begin_write().map_err(|e| e.to_string())?;
            {
                let mut table = w.open_table(LAST).map_err(|e| e.to_string())?;
                let last = table.get(device.as_str()).map_err(|e| e.to_string())?.map(|v| v.value());
                table.insert(device.as_str(), last.map_or(seq, |l| l.max(seq))).map_err(|e| e.to_string())?;
            }
            w.commit().map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}
