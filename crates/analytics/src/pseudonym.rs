//! Keyed pseudonyms.
//!
//! A pseudonym is `"ps_" + hex(HMAC-SHA-256(key, class ‖ 0x00 ‖ value))[..32]` (128 bits): the same
//! value gives the same pseudonym throughout one export scope (so a trader's history can still be
//! analysed), another scope has another key (so files of two scopes cannot be joined on it), and
//! without the key a pseudonym reveals nothing (no dictionary attack on the small space of
//! trader ids, as a plain hash would allow). Re-identification recomputes the pseudonyms of
//! candidate identifiers under the scope's key: only the node that holds the key can do it.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

use crate::ExportError;

/// Makes pseudonyms under one scope's key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
    scope: String,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Pseudonymizer").field("scope", &self.scope).finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer with the given key.
    pub fn new(scope: &str, key: [u8; 32]) -> Self {
        Self { key, scope: scope.to_owned() }
    }

    /// The scope whose key this is.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The pseudonym of `value` of class `class` (e.g. `party`, `declaration`).
    pub fn pseudonym(&self, class: &str, value: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC takes a key of any length");
        };
        mac.update(class.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("ps_{}", hex::encode(&tag[..16]))
    }

    /// The candidates whose pseudonym is `pseudonym` (re-identification).
    pub fn reidentify<'a>(
        &self,
        class: &str,
        pseudonym: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Vec<&'a str> {
        candidates.into_iter().filter(|c| self.pseudonym(class, c) == pseudonym).collect()
    }
}

/// The keys of export scopes, one file each (`DIR/{scope}.key`, 32 random bytes in hex, mode
/// 0600), kept apart from the exported data.
#[derive(Debug, Clone)]
pub struct ScopeKeys {
    dir: PathBuf,
}

fn valid_scope(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !s.starts_with('.')
}

impl ScopeKeys {
    /// The key folder `dir` (created on first use).
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// The pseudonymizer of `scope`, creating its key when the scope is new.
    pub fn open_or_create(&self, scope: &str) -> Result<Pseudonymizer, ExportError> {
        if !valid_scope(scope) {
            return Err(ExportError::Scope(scope.to_owned()));
        }
        let path = self.dir.join(format!("{scope}.key"));
        if let Some(p) = self.read(&path, scope)? {
            return Ok(p);
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| ExportError::Io(format!("cannot create {}: {e}", self.dir.display())))?;
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        write_secret(&path, &hex::encode(key))?;
        Ok(Pseudonymizer::new(scope, key))
    }

    /// The pseudonymizer of an existing scope (`None` when the scope has no key).
    pub fn open(&self, scope: &str) -> Result<Option<Pseudonymizer>, ExportError> {
        if !valid_scope(scope) {
            return Err(ExportError::Scope(scope.to_owned()));
        }
        self.read(&self.dir.join(format!("{scope}.key")), scope)
    }

    fn read(&self, path: &Path, scope: &str) -> Result<Option<Pseudonymizer>, ExportError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut key = [0u8; 32];
                hex::decode_to_slice(text.trim(), &mut key)
                    .map_err(|_| ExportError::Io(format!("{} is not a 32-byte hex key", path.display())))?;
                Ok(Some(Pseudonymizer::new(scope, key)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ExportError::Io(format!("cannot read {}: {e}", path.display()))),
        }
    }
}

fn write_secret(path: &Path, text: &str) -> Result<(), ExportError> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| ExportError::Io(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| ExportError::Io(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_in_a_scope_and_differ_across_scopes() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ScopeKeys::new(dir.path());
        let a = keys.open_or_create("statistics-2026").unwrap();
        let again = keys.open_or_create("statistics-2026").unwrap();
        let b = keys.open_or_create("statistics-2027").unwrap();
        let p = a.pseudonym("party", "GB553202734852");
        assert_eq!(p, again.pseudonym("party", "GB553202734852"));
        assert_ne!(p, b.pseudonym("party", "GB553202734852"), "another scope, another key");
        assert_ne!(p, a.pseudonym("declaration", "GB553202734852"), "the class is part of the input");
        assert!(p.starts_with("ps_") && p.len() == 35 && !p.contains("GB553202734852"));
        assert_eq!(a.reidentify("party", &p, ["NL123456789", "GB553202734852"]), ["GB553202734852"]);
        assert!(a.reidentify("party", "ps_00", ["GB553202734852"]).is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("statistics-2026.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(keys.open("statistics-2028").unwrap().is_none());
        assert!(matches!(keys.open_or_create("../etc/passwd"), Err(ExportError::Scope(_))));
        let key = std::fs::read_to_string(dir.path().join("statistics-2026.key")).unwrap();
        assert!(!format!("{a:?}").contains(key.trim()), "Debug never shows the key");
    }
}
