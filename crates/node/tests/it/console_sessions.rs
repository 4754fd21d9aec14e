//! The console token opens a session but is never the session, never appears in the log, and
//! can be rotated; sessions end (logout, rotation, unknown ids are refused).

use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::ledger::{csrf_of, login, login_person, no_redirect, start};
use crate::test_node::client;

/// The lines about logins that the nodes of this test process log (at INFO), kept in memory.
static LOGIN_LOG: Mutex<String> = Mutex::new(String::new());

/// Writes each log line that mentions a login into [`LOGIN_LOG`] (`fmt` writes one line per
/// call), so that the log of every test can be captured without growing without bound.
struct LoginLines;

impl std::io::Write for LoginLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        if line.contains("login") {
            LOGIN_LOG.lock().unwrap().push_str(&line);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber as the process's default, once. (A global default rather
/// than a scoped one: the node's request spans are created on runtime threads, and a callsite's
/// cached interest must not depend on which test's thread reached it first.)
fn capture_logins() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| LoginLines)
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
}

/// The status of a GET of `path` with `cookie`.
async fn status_with_cookie(base: &str, path: &str, cookie: &str) -> u16 {
    no_redirect().get(format!("{base}{path}")).header("cookie", cookie).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_log_of_a_login_carries_no_token() {
    capture_logins();
    let n = start().await;
    let r = no_redirect().get(format!("{}/login?token={}", n.base, n.token)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let session = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let text = LOGIN_LOG.lock().unwrap().clone();
    assert!(text.contains("request{method=GET") && text.contains("/login"), "the login request is logged:\n{text}");
    assert!(!text.contains(&n.token), "the console token is in the log:\n{text}");
    assert!(!text.contains(&n.session), "a session id is in the log:\n{text}");
    assert!(!text.contains(session.split(';').next().unwrap()), "a session id is in the log:\n{text}");
}

#[tokio::test]
async fn the_session_cookie_is_not_the_token_and_the_token_is_no_session() {
    let n = start().await;
    let r = no_redirect().get(format!("{}/login?token={}", n.base, n.token)).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "a node serving plain HTTP cannot set a Secure cookie: {cookie}");
    assert!(!cookie.contains(&n.token), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(status_with_cookie(&n.base, "/api/v1/network", &session).await, 200);
    // The token itself, presented as the session cookie (what it used to be), opens nothing.
    let token_cookie = format!("borderlink_session={}", n.token);
    assert_eq!(status_with_cookie(&n.base, "/api/v1/network", &token_cookie).await, 401);
    assert_eq!(status_with_cookie(&n.base, "/ledger", &token_cookie).await, 303);
}

#[tokio::test]
async fn an_unknown_or_ended_session_is_refused() {
    let n = start().await;
    let unknown = format!("borderlink_session={}", "ab".repeat(32));
    let r = client().get(format!("{}/api/v1/network", n.base)).header("cookie", &unknown).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated", "{body}");
    assert_eq!(status_with_cookie(&n.base, "/ledger", &unknown).await, 303, "the console sends it to /login");
    // Logging out ends the session and removes its cookie.
    assert_eq!(status_with_cookie(&n.base, "/ledger", &n.cookie()).await, 200);
    let r = no_redirect().post(format!("{}/logout", n.base)).header("cookie", n.cookie()).send().await.unwrap();
    assert_eq!(r.status(), 403, "a logout form without the session's CSRF token is refused");
    let csrf = csrf_of(&n.base, &n.cookie()).await;
    let r = no_redirect()
        .post(format!("{}/logout", n.base))
        .header("cookie", n.cookie())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(status_with_cookie(&n.base, "/ledger", &n.cookie()).await, 303);
    assert_eq!(status_with_cookie(&n.base, "/api/v1/network", &n.cookie()).await, 401);
}

#[tokio::test]
async fn rotating_the_token_invalidates_the_old_token_and_every_session() {
    let n = start().await;
    let other = login(&n.base, &n.token).await.expect("a second session");
    let r = client()
        .post(format!("{}/api/v1/node/console-token", n.base))
        .header("cookie", n.cookie())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    let new = body["token"].as_str().expect("the new token").to_owned();
    assert_ne!(new, n.token);
    assert_eq!(std::fs::read_to_string(n._dir.path().join("data/console.token")).unwrap(), new);
    // Every session ended, this one too; the old token opens nothing, the new one does.
    assert_eq!(status_with_cookie(&n.base, "/api/v1/network", &n.cookie()).await, 401);
    assert_eq!(status_with_cookie(&n.base, "/api/v1/network", &format!("borderlink_session={other}")).await, 401);
    assert_eq!(login(&n.base, &n.token).await, None);
    let session = login(&n.base, &new).await.expect("the new token opens a session");
    assert_eq!(status_with_cookie(&n.base, "/api/v1/network", &format!("borderlink_session={session}")).await, 200);
    // Another member may not rotate this node's token.
    let auth = n.auth(1, "POST", "/api/v1/node/console-token", b"");
    let r = client().post(format!("{}/api/v1/node/console-token", n.base)).header("authorization", auth).send();
    assert_eq!(r.await.unwrap().status(), 403);
}

#[tokio::test]
async fn the_log_of_a_password_login_carries_no_password_hash_session_or_csrf_token() {
    capture_logins();
    let n = start().await;
    let password = "correct horse battery staple";
    assert_eq!(n.add_user("lena.logs", &["officer"], password, false).await.0, 201);
    assert!(login_person(&n.base, "lena.logs", "a wrong password!", None).await.is_err());
    let session = login_person(&n.base, "lena.logs", password, None).await.expect("a session");
    let cookie = format!("borderlink_session={session}");
    let csrf = csrf_of(&n.base, &cookie).await;
    let text = LOGIN_LOG.lock().unwrap().clone();
    assert!(text.contains("login refused") && text.contains("lena.logs"), "logins are logged:\n{text}");
    for secret in [password, "a wrong password!", "$argon2id$", session.as_str(), csrf.as_str(), n.token.as_str()] {
        assert!(!text.contains(secret), "{secret} is in the log:\n{text}");
    }
}
