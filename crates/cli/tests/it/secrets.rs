//! Secrets never reach the node's log or an export: after logins with a password and with the
//! console token, a pseudonymized export and a refused login, the log (at `info`, more than an
//! operator runs) and the exported file hold no password, password hash, session id, console
//! token or pseudonym key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::net::{DemoNode, http_builder};
use crate::user::with_stdin;
use crate::{TempDir, borderlink, s, stderr};

/// Every file named `name`, or ending in `suffix` under a folder named `under`, below `dir`.
fn files(dir: &Path, pick: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, pick, out);
        } else if pick(&p) {
            out.push(p);
        }
    }
}

/// `POST /login` with a form body: the session id set, if any.
fn session(url: &str, body: &str) -> Option<String> {
    let client =
        http_builder(Duration::from_secs(30)).redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = client
        .post(format!("{}/login", url.trim_end_matches('/')))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .expect("login");
    let cookie = r.headers().get("set-cookie")?.to_str().ok()?.to_owned();
    cookie.split(';').next()?.strip_prefix("borderlink_session=").map(str::to_owned)
}

#[test]
fn no_secret_reaches_the_log_or_an_export() {
    let dir = TempDir::new("secrets");
    let data = dir.0.join("data");
    let mut node = DemoNode::start_logging(&data, "info,openraft=warn");
    let key = node.key("gb-customs");
    let password = "correct horse battery staple";
    let args = [
        "user",
        "add",
        "--username",
        "amina",
        "--role",
        "analyst",
        "--password-stdin",
        "--node",
        &node.url,
        "--key",
        s(&key),
    ];
    let o = with_stdin(&args, &format!("{password}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let person = session(&node.url, &format!("username=amina&password={}", password.replace(' ', "+"))).expect("login");
    assert!(session(&node.url, "username=amina&password=wrong+password+here").is_none());
    let mut tokens = Vec::new();
    files(&data, &|p| p.file_name().is_some_and(|n| n == "console.token"), &mut tokens);
    let tokens: Vec<String> = tokens.iter().map(|p| std::fs::read_to_string(p).unwrap().trim().to_owned()).collect();
    assert!(!tokens.is_empty(), "the demo's nodes keep console tokens");
    // One of them is this node's (the others are its consortium partners' nodes).
    let operator =
        tokens.iter().find_map(|t| session(&node.url, &format!("token={t}"))).expect("this node's token logs in");

    let out = dir.0.join("out");
    let o = borderlink(&[
        "export",
        "--node",
        &node.url,
        "--key",
        s(&key),
        "--purpose",
        "statistics",
        "--type",
        "declaration",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut keys = Vec::new();
    files(
        &data,
        &|p| p.extension().is_some_and(|e| e == "key") && p.parent().is_some_and(|d| d.ends_with("pseudonym-keys")),
        &mut keys,
    );
    let keys: Vec<String> = keys.iter().map(|p| std::fs::read_to_string(p).unwrap().trim().to_owned()).collect();
    assert!(!keys.is_empty(), "the export made its scope's key");
    let mut exported = Vec::new();
    files(&out, &|p| p.extension().is_some_and(|e| e == "parquet"), &mut exported);
    let export = std::fs::read(&exported[0]).unwrap();
    node.stop();

    let log = std::fs::read_to_string(data.with_extension("log")).unwrap();
    assert!(log.contains("login"), "the log records logins (at info): {log}");
    let mut secrets: Vec<(&str, String)> = vec![
        ("the password", password.to_owned()),
        ("a password hash", "$argon2id$".to_owned()),
        ("the person's session id", person),
        ("the operator's session id", operator),
    ];
    secrets.extend(tokens.iter().map(|t| ("a console token", t.clone())));
    secrets.extend(keys.iter().map(|k| ("a pseudonym key", k.clone())));
    let export = String::from_utf8_lossy(&export);
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "{what} is in the node's log");
        assert!(!export.contains(secret.as_str()), "{what} is in the export");
    }
}
