//! The content-addressed blob store for large objects kept off-chain (scans, documents): the
//! ledger holds each object's SHA-256, the bytes live in `blobs/sha256/ab/cdef…` and are checked
//! against the hash whenever they are read.
//!
//! Each member has a quota: the bytes of the objects it stored first (an object already present
//! costs nothing again) are counted in `blobs/usage.json`, written atomically with every object,
//! so that one member cannot fill the node's disk.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Hash, LedgerError};

/// A folder of objects named by their SHA-256.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    usage_path: PathBuf,
    /// Bytes stored per member; the lock also serialises quota checks with writes.
    usage: Mutex<BTreeMap<String, u64>>,
}

/// Distinguishes the temporary files of concurrent writes.
static TMP_SERIAL: AtomicU64 = AtomicU64::new(0);

impl BlobStore {
    /// A store under `dir/blobs`.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        let root = dir.join("blobs").join("sha256");
        std::fs::create_dir_all(&root)
            .map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", root.display())))?;
        let usage_path = dir.join("blobs").join("usage.json");
        let usage = match std::fs::read(&usage_path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| LedgerError::Corrupt { height: None, detail: format!("{}: {e}", usage_path.display()) })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(LedgerError::Io(format!("cannot read {}: {e}", usage_path.display()))),
        };
        Ok(Self { root, usage_path, usage: Mutex::new(usage) })
    }

    /// The bytes `member` has stored.
    pub fn used_by(&self, member: &str) -> u64 {
        self.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(member).copied().unwrap_or(0)
    }

    /// Stores bytes for `member` within its quota of `quota` bytes; returns their hash. An
    /// object already stored (by anyone) costs nothing. Over the quota: `QuotaExceeded`, and
    /// nothing is written.
    pub fn put_for(&self, member: &str, bytes: &[u8], quota: u64) -> Result<Hash, LedgerError> {
        let h = Hash::of(bytes);
        let mut usage = self.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.path(&h).exists() {
            return Ok(h);
        }
        let used = usage.get(member).copied().unwrap_or(0);
        let size = bytes.len() as u64;
        if used.saturating_add(size) > quota {
            return Err(LedgerError::QuotaExceeded { member: member.to_owned(), used, size, quota });
        }
        self.put(bytes)?;
        usage.insert(member.to_owned(), used + size);
        let json = serde_json::to_vec(&*usage).map_err(|e| LedgerError::Io(e.to_string()))?;
        let tmp = self.usage_path.with_extension(format!("{}.tmp", TMP_SERIAL.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, &self.usage_path))
            .map_err(|e| LedgerError::Io(format!("cannot record blob usage: {e}")))?;
        Ok(h)
    }

    fn path(&self, h: &Hash) -> PathBuf {
        let hex = h.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..])
    }

    /// Stores bytes; returns their hash. Written to a temporary file, synced, then renamed, so a
    /// crash never leaves a partial object under its final name.
    pub fn put(&self, bytes: &[u8]) -> Result<Hash, LedgerError> {
        let h = Hash::of(bytes);
        let path = self.path(&h);
        if path.exists() {
            return Ok(h);
        }
        let dir = path.parent().ok_or_else(|| LedgerError::Io("blob path has no parent".into()))?;
        std::fs::create_dir_all(dir).map_err(|e| LedgerError::Io(e.to_string()))?;
        // A name of its own per write: two objects stored at once may share a folder.
        let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), TMP_SERIAL.fetch_add(1, Ordering::Relaxed)));
        let mut f = std::fs::File::create(&tmp).map_err(|e| LedgerError::Io(e.to_string()))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| LedgerError::Io(e.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|e| LedgerError::Io(e.to_string()))?;
        Ok(h)
    }

    /// Reads an object, checking it against its hash.
    pub fn get(&self, h: &Hash) -> Result<Option<Vec<u8>>, LedgerError> {
        let path = self.path(h);
        match std::fs::read(&path) {
            Ok(b) if Hash::of(&b) == *h => Ok(Some(b)),
            Ok(_) => Err(LedgerError::Corrupt { height: None, detail: format!("blob {h} does not match its hash") }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LedgerError::Io(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_over_its_quota_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = BlobStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let a = store.put_for("gb-aeo", &[1u8; 600], 1000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.used_by("gb-aeo"), 600);
        match store.put_for("gb-aeo", &[2u8; 600], 1000) {
            Err(LedgerError::QuotaExceeded { used: 600, size: 600, quota: 1000, .. }) => {}
            other => panic!("expected QuotaExceeded, got {other:?}"),
        }
        assert!(store.get(&Hash::of(&[2u8; 600])).unwrap_or_else(|e| panic!("{e}")).is_none());
        // The same object again costs nothing; another member has its own quota.
        assert_eq!(store.put_for("gb-aeo", &[1u8; 600], 1000).ok(), Some(a));
        assert!(store.put_for("nl-dou", &[2u8; 600], 1000).is_ok());
        // The usage survives a restart.
        let again = BlobStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((again.used_by("gb-aeo"), again.used_by("nl-dou")), (600, 600));
    }
}
