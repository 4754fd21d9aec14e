//! `borderlink user add|list|disable|reset-password` against a running node (signed by its own
//! member) and offline on a stopped node's data folder; the accounts log in over HTTP.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::net::{DemoNode, http_builder};
use crate::{TempDir, borderlink, s, stderr, stdout};

/// `borderlink ARGS` with `input` on standard input.
pub(crate) fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_borderlink"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the borderlink binary runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write the password");
    child.wait_with_output().expect("output")
}

/// `POST /login` with a username and password: the status (303 with a session on success).
fn login(url: &str, username: &str, password: &str) -> u16 {
    let client =
        http_builder(Duration::from_secs(30)).redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let body = format!("username={username}&password={}", password.replace(' ', "+"));
    let r = client
        .post(format!("{}/login", url.trim_end_matches('/')))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .expect("login");
    r.status().as_u16()
}

fn shown_password(o: &Output) -> String {
    let out = stdout(o);
    let line = out.lines().find_map(|l| l.strip_prefix("password (shown once): ")).unwrap_or_else(|| panic!("{out}"));
    line.trim().to_owned()
}

#[test]
fn user_commands_manage_accounts_on_a_running_node_and_offline() {
    let dir = TempDir::new("user");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    let key = node.key("gb-customs");
    let target = ["--node", node.url.as_str(), "--key", s(&key)];

    let mut args =
        vec!["user", "add", "--username", "amina", "--role", "officer", "--role", "auditor", "--password-stdin"];
    args.extend(target);
    let o = with_stdin(&args, "correct horse battery staple\n");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("password (shown once)"), "a given password is not printed: {}", stdout(&o));
    assert_eq!(login(&node.url, "amina", "correct horse battery staple"), 303);

    let mut args = vec!["user", "add", "--username", "root.admin", "--role", "administrator", "--totp"];
    args.extend(target);
    let o = borderlink(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let generated = shown_password(&o);
    assert!(generated.len() >= 12);
    assert!(stdout(&o).contains("otpauth://totp/"), "{}", stdout(&o));

    // Refusals: a weak password, a taken name, an unknown role; another member's key.
    let mut args = vec!["user", "add", "--username", "weak", "--role", "officer", "--password-stdin"];
    args.extend(target);
    let o = with_stdin(&args, "short\n");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid_account") && stderr(&o).contains("12"), "{}", stderr(&o));
    let mut args = vec!["user", "add", "--username", "amina", "--role", "officer"];
    args.extend(target);
    let o = borderlink(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("account_exists"), "{}", stderr(&o));
    let mut args = vec!["user", "add", "--username", "bob", "--role", "root"];
    args.extend(target);
    assert_eq!(borderlink(&args).status.code(), Some(1));
    let aeo = node.key("gb-aeo");
    let o = borderlink(&["user", "list", "--node", &node.url, "--key", s(&aeo)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("forbidden"), "{}", stderr(&o));

    let mut args = vec!["user", "list"];
    args.extend(target);
    let o = borderlink(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = stdout(&o);
    assert!(
        listed.contains("amina") && listed.contains("officer, auditor") && listed.contains("root.admin"),
        "{listed}"
    );
    assert!(listed.contains("2 account(s)") && !listed.contains("argon2"), "{listed}");

    let mut args = vec!["user", "reset-password", "--username", "amina"];
    args.extend(target);
    let o = borderlink(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reset = shown_password(&o);
    assert_eq!(login(&node.url, "amina", "correct horse battery staple"), 401);
    assert_eq!(login(&node.url, "amina", &reset), 303);

    let mut args = vec!["user", "disable", "--username", "amina"];
    args.extend(target);
    assert_eq!(borderlink(&args).status.code(), Some(0));
    assert_eq!(login(&node.url, "amina", &reset), 401);
    let mut args = vec!["user", "disable", "--username", "nobody"];
    args.extend(target);
    let o = borderlink(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("account_not_found"), "{}", stderr(&o));

    // While the node runs, its accounts file is its own.
    let o = borderlink(&["user", "list", "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stderr(&o).contains("--node"), "{}", stderr(&o));

    // Offline, on the stopped node's data folder.
    node.stop();
    let o = with_stdin(
        &[
            "user",
            "add",
            "--data",
            s(&data),
            "--username",
            "offline.officer",
            "--role",
            "risk-officer",
            "--password-stdin",
        ],
        "offline password 2026\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("of gb-customs"), "the organisation of the accounts there: {}", stdout(&o));
    let o = borderlink(&["user", "reset-password", "--data", s(&data), "--username", "root.admin"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = borderlink(&["user", "list", "--data", s(&data)]);
    let listed = stdout(&o);
    assert!(
        listed.contains("offline.officer") && listed.contains("disabled") && listed.contains("3 account(s)"),
        "{listed}"
    );
    let o = borderlink(&["user", "list", "--data", s(&dir.0)]);
    assert_eq!(o.status.code(), Some(3), "a folder without a node: {}", stdout(&o));
    let o = borderlink(&["user", "list"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));

    let node = DemoNode::start(&data);
    assert_eq!(login(&node.url, "offline.officer", "offline password 2026"), 303);
}
