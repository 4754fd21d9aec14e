//! Console sessions: a person logs in with their account (the `access` capability checks the
//! password and second factor), or the bootstrap operator with the node's console token (the
//! bootstrap secret, printed at start, kept in `DATA/console.token` with mode 0600), and gets a
//! **session id** — a fresh random 256-bit value in an HttpOnly, SameSite=Strict cookie (and
//! `Secure` when the node serves HTTPS). A session knows who holds it ([`Holder`]) and carries
//! its own CSRF token, which every console form posts back (`access/csrf.rs`).
//!
//! The token itself never travels in a cookie: a session leaked from a browser ends (absolute
//! and idle expiry, logout, rotation), the token does not leak with it. Rotating the token
//! (`POST /api/v1/node/console-token`, or `borderlink console rotate-token` for the next start)
//! replaces the file and, live, ends every session.
//!
//! Invariant: sessions live in memory only (a restart ends them all), at most [`MAX_SESSIONS`];
//! a session is valid only while younger than [`ABSOLUTE_MS`] and used within [`IDLE_MS`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::http::HeaderMap;
use borderlink_ledger::LedgerError;
use rand_core::{OsRng, RngCore};

/// The cookie that carries the session id.
pub(crate) const COOKIE: &str = "borderlink_session";

/// The console token's file in the data directory.
pub(crate) const TOKEN_FILE: &str = "console.token";

/// A session ends this long after login, used or not: 12 hours (an officer's shift).
pub(crate) const ABSOLUTE_MS: i64 = 12 * 60 * 60 * 1000;

/// A session ends after this long without a request: 30 minutes.
pub(crate) const IDLE_MS: i64 = 30 * 60 * 1000;

/// The most sessions kept at once; a login beyond it ends the least recently used one.
pub(crate) const MAX_SESSIONS: usize = 1024;

/// A fresh random secret (256 bits, hex): a console token or a session id.
pub(crate) fn new_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Compares in constant time.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session id of a request, from its cookie.
pub(crate) fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The `Set-Cookie` value that gives the browser a session: `Secure` when the node serves HTTPS
/// (a browser then never sends it in clear).
pub(crate) fn cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", ABSOLUTE_MS / 1000)
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

/// Reads the console token of `data_dir`, creating it (mode 0600) when missing or too short.
pub(crate) fn read_or_create_token(data_dir: &Path) -> Result<String, LedgerError> {
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if t.trim().len() >= 32 => Ok(t.trim().to_owned()),
        _ => write_new_token(&path),
    }
}

/// Writes a new console token to `path` (mode 0600) and returns it.
pub(crate) fn write_new_token(path: &Path) -> Result<String, LedgerError> {
    let token = new_token();
    borderlink_ledger::identity::write_secret(path, token.as_bytes())?;
    Ok(token)
}

/// Who holds a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    /// The bootstrap operator, by the console token.
    Operator,
    /// A person, by their account; the roles are those the account had at login (disabling
    /// the account or resetting its password ends its sessions).
    Person {
        /// The account's username.
        username: String,
        /// The account's organisation (member id).
        organisation: String,
        /// The account's roles.
        roles: Vec<borderlink_access::Role>,
    },
}

/// A live session as the request sees it.
#[derive(Debug, Clone)]
pub(crate) struct SessionView {
    /// Who holds it.
    pub(crate) holder: Holder,
    /// The token its console forms carry.
    pub(crate) csrf: String,
    /// The purpose its holder declared for their reads (a purpose's name).
    pub(crate) purpose: Option<String>,
}

#[derive(Debug, Clone)]
struct Session {
    created_ms: i64,
    seen_ms: i64,
    holder: Holder,
    csrf: String,
    purpose: Option<String>,
}

impl Session {
    fn live(&self, now_ms: i64) -> bool {
        now_ms - self.created_ms < ABSOLUTE_MS && now_ms - self.seen_ms < IDLE_MS
    }
}

/// The operator's console access on a ledger node: the bootstrap token and the open sessions.
#[derive(Debug)]
pub(crate) struct Console {
    token: Mutex<String>,
    token_path: PathBuf,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Console {
    /// The console of the node whose data directory is `data_dir`, its token read or created.
    pub(crate) fn open(data_dir: &Path) -> Result<Self, LedgerError> {
        let token = read_or_create_token(data_dir)?;
        Ok(Self { token: Mutex::new(token), token_path: data_dir.join(TOKEN_FILE), sessions: Mutex::default() })
    }

    /// The console token in force.
    pub(crate) fn token(&self) -> String {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Opens a session for whoever presents the token: its new id, or `None` for a wrong token.
    pub(crate) fn login(&self, presented: &str, now_ms: i64) -> Option<String> {
        if !same(presented.trim(), &self.token()) {
            return None;
        }
        Some(self.open_session_for(Holder::Operator, Some("clearance".to_owned()), now_ms))
    }

    /// Opens a session for `holder`, already authenticated, with no purpose declared: its new id.
    #[cfg(test)]
    pub(crate) fn open_session(&self, holder: Holder, now_ms: i64) -> String {
        self.open_session_for(holder, None, now_ms)
    }

    /// Opens a session for `holder` reading for `purpose` (a purpose's name).
    pub(crate) fn open_session_for(&self, holder: Holder, purpose: Option<String>, now_ms: i64) -> String {
        let id = new_token();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, s| s.live(now_ms));
        }
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.seen_ms).map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions
            .insert(id.clone(), Session { created_ms: now_ms, seen_ms: now_ms, holder, csrf: new_token(), purpose });
        id
    }

    /// The live session `id`, if any; using it postpones its idle expiry. An expired one is
    /// removed.
    pub(crate) fn session(&self, id: &str, now_ms: i64) -> Option<SessionView> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        match sessions.get_mut(id) {
            Some(s) if s.live(now_ms) => {
                s.seen_ms = now_ms;
                Some(SessionView { holder: s.holder.clone(), csrf: s.csrf.clone(), purpose: s.purpose.clone() })
            }
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends every session of the account `username` (disabled, or its password reset).
    pub(crate) fn end_sessions_of(&self, username: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, s| !matches!(&s.holder, Holder::Person { username: u, .. } if u == username));
    }

    /// Changes the purpose session `id` declares; false when there is no such live session.
    pub(crate) fn set_purpose(&self, id: &str, purpose: &str) -> bool {
        match self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            Some(s) => {
                s.purpose = Some(purpose.to_owned());
                true
            }
            None => false,
        }
    }

    /// Ends one session.
    pub(crate) fn logout(&self, id: &str) {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Replaces the token (in its file, mode 0600, and in force now) and ends every session.
    /// Returns the new token.
    pub(crate) fn rotate(&self) -> Result<String, LedgerError> {
        let mut token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        let new = write_new_token(&self.token_path)?;
        *token = new.clone();
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).clear();
        tracing::info!("console token rotated; every console session ended");
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console() -> (tempfile::TempDir, Console) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let console = Console::open(dir.path()).expect("console");
        (dir, console)
    }

    #[test]
    fn a_session_id_is_not_the_token_and_opens_only_with_the_token() {
        let (_dir, c) = console();
        assert_eq!(c.login("wrong", 0), None);
        let id = c.login(&c.token(), 0).expect("a session");
        assert_ne!(id, c.token());
        assert_eq!(id.len(), 64);
        assert!(c.session(&id, 1).is_some());
        assert!(c.session(&c.token(), 1).is_none(), "the token is no session");
        assert!(c.session("not-a-session", 1).is_none());
    }

    #[test]
    fn sessions_expire_when_idle_and_after_their_absolute_lifetime() {
        let (_dir, c) = console();
        let idle = c.login(&c.token(), 0).expect("a session");
        assert!(c.session(&idle, IDLE_MS).is_none(), "unused for the idle time");
        assert!(c.session(&idle, 1).is_none(), "an expired session is gone");
        let busy = c.login(&c.token(), 0).expect("a session");
        let mut t = 0;
        while t + IDLE_MS / 2 < ABSOLUTE_MS {
            t += IDLE_MS / 2;
            assert!(c.session(&busy, t).is_some(), "used every 15 minutes, at {t}");
        }
        assert!(c.session(&busy, ABSOLUTE_MS).is_none(), "however often it is used");
    }

    #[test]
    fn logout_and_rotation_end_sessions_and_rotation_replaces_the_token() {
        let (dir, c) = console();
        let (a, b) = (c.login(&c.token(), 0).expect("a"), c.login(&c.token(), 0).expect("b"));
        c.logout(&a);
        assert!(c.session(&a, 1).is_none() && c.session(&b, 1).is_some());
        let old = c.token();
        let new = c.rotate().expect("rotate");
        assert_ne!(old, new);
        assert!(c.session(&b, 2).is_none(), "rotation ends every session");
        assert_eq!(c.login(&old, 3), None, "the old token no longer opens the console");
        assert!(c.login(&new, 3).is_some());
        assert_eq!(std::fs::read_to_string(dir.path().join(TOKEN_FILE)).expect("file"), new);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKEN_FILE)).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_session_knows_its_holder_and_has_its_own_csrf_token() {
        let (_dir, c) = console();
        let person = Holder::Person {
            username: "amina".into(),
            organisation: "gb-hmrc".into(),
            roles: vec![borderlink_access::Role::Officer],
        };
        let (a, b) = (c.open_session(person.clone(), 0), c.open_session(person.clone(), 0));
        let operator = c.login(&c.token(), 0).expect("operator");
        let (va, vb) = (c.session(&a, 1).expect("a"), c.session(&b, 1).expect("b"));
        assert_eq!(va.holder, person);
        assert_ne!(va.csrf, vb.csrf);
        assert_ne!(va.csrf, a, "the CSRF token is not the session id");
        c.end_sessions_of("amina");
        assert!(c.session(&a, 2).is_none() && c.session(&b, 2).is_none());
        assert_eq!(c.session(&operator, 2).expect("operator").holder, Holder::Operator);
    }

    #[test]
    fn the_session_table_is_bounded() {
        let (_dir, c) = console();
        let first = c.login(&c.token(), 0).expect("first");
        for t in 1..=MAX_SESSIONS as i64 {
            c.login(&c.token(), t).expect("a session");
        }
        assert_eq!(c.sessions.lock().expect("lock").len(), MAX_SESSIONS);
        assert!(c.session(&first, MAX_SESSIONS as i64 + 1).is_none(), "the least recently used session made room");
    }

    #[test]
    fn the_cookie_is_secure_over_https() {
        let plain = cookie("abc", false);
        assert!(plain.starts_with("borderlink_session=abc; HttpOnly; SameSite=Strict; Path=/"), "{plain}");
        assert!(!plain.contains("Secure"));
        assert!(cookie("abc", true).ends_with("; Secure"));
        assert!(clear_cookie(true).contains("Max-Age=0") && clear_cookie(true).contains("Secure"));
    }
}
