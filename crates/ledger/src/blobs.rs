//! The content-addressed blob store for large objects kept off-chain (scans, documents): the
//! ledger holds each object's SHA-256, the bytes live in `blobs/sha256/ab/cdef…` and are checked
//! against the hash whenever they are read.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Hash, LedgerError};

/// A folder of objects named by their SHA-256.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// A store under `dir/blobs`.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        let root = dir.join("blobs").join("sha256");
        std::fs::create_dir_all(&root)
            .map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", root.display())))?;
        Ok(Self { root })
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
        let tmp = dir.join(format!(".{}.tmp", std::process::id()));
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
