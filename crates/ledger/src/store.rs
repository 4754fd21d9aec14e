//! Opening a redb file as untrusted input: the ledger's own file, and the node's Raft log.
//!
//! A file can be damaged outside redb (a failing disk, a copy cut short, a hand edit). redb
//! trusts a file that was closed cleanly, and reading one altered since can panic inside redb: a
//! `&str` key that is not UTF-8 (`Utf8Error`), a page of an unknown type, a malformed allocator
//! state, an index past the end of a page. So, here:
//! - every open verifies the checksum of every page of the committed trees
//!   (`set_check_integrity_on_open`): what is decoded afterwards is exactly what redb wrote, and a
//!   damaged file is refused with redb's `Corrupted` before any of it is decoded. redb's last
//!   commit before a clean close is a two-phase one, so a damaged newest commit is refused, not
//!   silently rolled back; only after a crash does redb fall back to the commit before, as it
//!   always did (the newest one was then never acknowledged);
//! - an existing file is opened, never initialised: a file emptied by damage is refused instead
//!   of becoming a new, empty database;
//! - the open runs behind `catch_unwind` ([`contained`]), and so do the ledger's reads at opening
//!   and its full check: a panic redb still raises on a damaged file (its debug builds assert
//!   where release builds return `Corrupted`) becomes [`LedgerError::Corrupt`], unprinted (a
//!   process-wide panic hook, installed once, stays quiet for these and passes every other panic
//!   to the hook before it);
//! - a file refused as damaged is then read once more, read-only and without the checksums,
//!   behind `contained`, only to tell at which block the chain first breaks
//!   (`Ledger::open`): the height an operator needs, when the damage is in block data.
//!
//! Why the `&str`-keyed tables are not read through `&[u8]` keys instead: the bytes on disk would
//! be the same, but redb records each table's key and value type names and refuses to open a
//! `&str` table as a `&[u8]` one (`TableTypeMismatch`), so every existing file would need a
//! migration; with the checksums verified first, a stored `&str` is the UTF-8 redb was given.
//!
//! The cost: one read of the whole file per open (checksums are XXH3, so the disk sets the pace),
//! paid once at node start and by `ledger verify`, which reads everything anyway.
//!
//! An allocation-size abort cannot come from here: redb bounds its page reads by the file's
//! layout, and the ledger's decoders take lengths from slices they have already bounded
//! ([`crate::codec::Reader`]).

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Once;

use redb::{Database, DatabaseError};

use crate::LedgerError;

/// Opens the redb file at `path`, verifying every page; creates it only when it does not exist.
/// The file is readable and writable by its owner only (mode 0600, as the keys): a new one is
/// created so, an existing one is tightened. A refusal does not name the file: the caller says
/// which file it is.
pub fn open_verified(path: &Path) -> Result<Database, LedgerError> {
    let mut builder = Database::builder();
    builder.set_check_integrity_on_open(true);
    let exists = path.try_exists().map_err(|e| LedgerError::Io(format!("{}: {e}", path.display())))?;
    // A new file is made empty with mode 0600 first; redb initialises an empty file it creates.
    crate::identity::private_file(path)?;
    contained(&format!("opening {}", path.display()), || {
        let opened = if exists { builder.open(path) } else { builder.create(path) };
        opened.map_err(|e| match e {
            // An empty or foreign file: `open` refuses what `create` would have initialised.
            DatabaseError::Storage(redb::StorageError::Io(io)) if io.kind() == std::io::ErrorKind::InvalidData => {
                LedgerError::Corrupt { height: None, detail: format!("not a redb database: {io}") }
            }
            e => storage(e),
        })
    })
}

/// A redb error as a ledger error: the corruption redb detects (checksums, structure) is
/// [`LedgerError::Corrupt`], so that a node refuses the file with that message and `ledger verify`
/// reports it as a finding; anything else (I/O, locking) is [`LedgerError::Storage`].
pub fn storage<E: Into<redb::Error>>(e: E) -> LedgerError {
    match e.into() {
        redb::Error::Corrupted(detail) => {
            LedgerError::Corrupt { height: None, detail: format!("the storage layer found the file damaged: {detail}") }
        }
        e => LedgerError::Storage(e.to_string()),
    }
}

/// Runs `f`, which reads a file that may be damaged, turning a panic into
/// [`LedgerError::Corrupt`] naming `what` was being done, the panic's message and where it was
/// raised. The panic is not printed: it is the error's to tell (a user of `ledger verify` reads a
/// finding, not a panic).
///
/// `AssertUnwindSafe`: on a panic, everything `f` was building is dropped with the error, and
/// the locks a reader takes recover from poisoning (`unwrap_or_else(PoisonError::into_inner)`).
pub fn contained<T>(what: &str, f: impl FnOnce() -> Result<T, LedgerError>) -> Result<T, LedgerError> {
    quiet_hook();
    let depth = Containing::enter();
    let result = catch_unwind(AssertUnwindSafe(f));
    drop(depth);
    result.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        let at = LAST_PANIC.with(|l| l.borrow_mut().take()).map(|l| format!(" at {l}")).unwrap_or_default();
        Err(LedgerError::Corrupt {
            height: None,
            detail: format!("the storage layer failed {what} (the file is damaged): {message}{at}"),
        })
    })
}

thread_local! {
    /// How many [`contained`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where the last contained panic of this thread was raised.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// This thread is inside [`contained`] while it lives (also when a panic unwinds through it).
struct Containing;

impl Containing {
    fn enter() -> Self {
        DEPTH.with(|d| d.set(d.get() + 1));
        Containing
    }
}

impl Drop for Containing {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Installs, once per process, a panic hook that keeps quiet about the panics [`contained`]
/// catches (recording where they were raised) and hands every other panic to the hook that was
/// there before, unchanged.
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) == 0 {
                previous(info);
            } else {
                LAST_PANIC.with(|l| *l.borrow_mut() = info.location().map(ToString::to_string));
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_reading_becomes_a_corruption_error() {
        let r: Result<(), _> = contained("reading blocks", || panic!("Invalid page type byte 0"));
        let e = r.unwrap_err();
        assert!(matches!(e, LedgerError::Corrupt { height: None, .. }), "{e:?}");
        assert!(e.to_string().contains("reading blocks") && e.to_string().contains("Invalid page type byte 0"), "{e}");
        assert!(e.to_string().contains("store.rs:"), "where it was raised: {e}");
    }

    #[test]
    fn an_emptied_file_is_refused_not_initialised() {
        let dir = std::env::temp_dir().join(format!("bl-store-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.redb");
        std::fs::write(&path, b"").unwrap();
        let e = open_verified(&path).unwrap_err();
        assert!(matches!(e, LedgerError::Corrupt { .. }), "{e:?}");
        std::fs::remove_file(&path).unwrap();
        open_verified(&path).expect("a missing file is created");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
