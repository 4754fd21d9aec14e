//! `borderlink user add|list|disable|reset-password`: the accounts of a node's organisation.
//!
//! Against a running node (`--node URL --key KEY`): requests signed by the node's own member
//! (the member administering its own node) to `/api/v1/users…`. Offline, on a stopped node's
//! data folder (`--data DIR`): the accounts file itself (`DIR/access/accounts.redb`; a running
//! node holds it locked).
//!
//! A password is read from standard input (`--password-stdin`) or generated, and a generated
//! password or a TOTP enrolment URI is printed once, on standard output.

use std::io::Read;
use std::path::PathBuf;

use borderlink_access::{AccessError, Accounts, Role};
use borderlink_ledger::identity::MemberKeys;
use serde_json::{Value, json};

use crate::node_client::{NodeClient, Transport};
use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink user`.
#[derive(clap::Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

/// Where the accounts are: a running node, or a stopped node's data folder.
#[derive(clap::Args)]
struct Target {
    /// The running node's URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long, value_name = "URL", conflicts_with = "data", requires = "key")]
    node: Option<String>,
    /// The node's own member key file, which signs the requests.
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// A stopped node's data folder (its `data_dir`).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// With `--data`: the organisation (the node's member id) of a first account; later ones
    /// take the organisation of the accounts already there.
    #[arg(long, value_name = "ID", requires = "data")]
    organisation: Option<String>,
}

#[derive(clap::Subcommand)]
enum UserCommand {
    /// Add an account; prints a generated password (and a TOTP URI) once.
    Add {
        #[command(flatten)]
        target: Target,
        /// The login name: 3 to 32 lower-case letters, digits, `.`, `_` or `-`.
        #[arg(long)]
        username: String,
        /// A role (repeatable): officer, analyst, risk-officer, auditor, trader-user, administrator.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
        /// Read the password from standard input (at least 12 characters) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Enrol a TOTP second factor and print its otpauth:// URI once.
        #[arg(long)]
        totp: bool,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Disable an account: it can no longer log in (a running node ends its sessions).
    Disable {
        #[command(flatten)]
        target: Target,
        /// The account.
        #[arg(long)]
        username: String,
    },
    /// Set a new password (generated and printed once, or read with --password-stdin); lifts a lock.
    ResetPassword {
        #[command(flatten)]
        target: Target,
        /// The account.
        #[arg(long)]
        username: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub(crate) fn run(args: UserArgs) -> anyhow::Result<ExitCode> {
    crate::finish(match args.command {
        UserCommand::Add { target, username, roles, password_stdin, totp } => {
            add(&target, &username, &roles, password_stdin, totp)
        }
        UserCommand::List { target } => list(&target),
        UserCommand::Disable { target, username } => disable(&target, &username),
        UserCommand::ResetPassword { target, username, password_stdin } => {
            reset_password(&target, &username, password_stdin)
        }
    })
}

/// The accounts, where `target` says.
enum Store {
    Node(Box<NodeClient>),
    Data(Accounts, Option<String>),
}

fn open(target: &Target) -> Outcome<Store> {
    match (&target.node, &target.key, &target.data) {
        (Some(node), Some(key), None) => {
            let keys =
                MemberKeys::load(key).map_err(|e| Failed::new(ExitCode::Input, format!("{}: {e}", key.display())))?;
            Ok(Store::Node(Box::new(NodeClient::connect(node, Some(keys), Transport::LEDGER)?)))
        }
        (None, _, Some(data)) => {
            if !data.join("ledger").is_dir() {
                return Err(Failed::new(
                    ExitCode::Input,
                    format!("{} holds no node's ledger: give the node's data folder (its `data_dir`)", data.display()),
                ));
            }
            let path = data.join("access").join("accounts.redb");
            let accounts = Accounts::open(&path).map_err(|e| {
                Failed::new(ExitCode::Input, format!("{e} (is the node running? stop it, or use --node URL --key KEY)"))
            })?;
            Ok(Store::Data(accounts, target.organisation.clone()))
        }
        _ => Err(Failed::new(
            ExitCode::Input,
            "give --node URL --key KEY (a running node) or --data DIR (a stopped one)",
        )),
    }
}

fn refused(e: AccessError) -> Failed {
    match e {
        AccessError::Storage(_) => Failed::new(ExitCode::Failure, e),
        e => Failed::new(ExitCode::Invalid, e),
    }
}

fn read_password(from_stdin: bool) -> Outcome<Option<String>> {
    if !from_stdin {
        return Ok(None);
    }
    let mut text = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|e| Failed::new(ExitCode::Input, format!("cannot read the password from standard input: {e}")))?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
}

fn now_ms() -> i64 {
    borderlink_node::ordering::now_ms()
}

/// Posts `body` to `path` and returns the JSON answer, or the node's refusal.
fn call(node: &NodeClient, method: reqwest::Method, path: &str, body: Option<Value>) -> Outcome<Value> {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let reply = node.send(method, path, bytes)?;
    if !reply.status.is_success() {
        return Err(reply.refused());
    }
    reply.json("users")
}

fn print_secrets(password: Option<&str>, totp_uri: Option<&str>) {
    if let Some(p) = password {
        println!("password (shown once): {p}");
    }
    if let Some(u) = totp_uri {
        println!("second factor (shown once; add it to an authenticator app): {u}");
    }
}

fn add(target: &Target, username: &str, roles: &[String], password_stdin: bool, totp: bool) -> Outcome<ExitCode> {
    let password = read_password(password_stdin)?;
    match open(target)? {
        Store::Node(node) => {
            let body = json!({"username": username, "roles": roles, "password": password, "totp": totp});
            let added = call(&node, reqwest::Method::POST, "api/v1/users", Some(body))?;
            println!("added {username} ({}) on {}", names(&added["user"]["roles"]), node.base());
            print_secrets(added["password"].as_str(), added["totpUri"].as_str());
        }
        Store::Data(accounts, organisation) => {
            let roles: Vec<Role> = borderlink_access::parse_roles(roles).map_err(refused)?;
            let organisation = match organisation {
                Some(o) => o,
                None => accounts.list().map_err(refused)?.first().map(|a| a.organisation.clone()).ok_or_else(|| {
                    Failed::new(ExitCode::Input, "the first account needs --organisation ID (the node's member id)")
                })?,
            };
            let generated = password.is_none().then(borderlink_access::password::generate);
            let chosen = password.or_else(|| generated.clone()).unwrap_or_default();
            let account = accounts.add(username, &organisation, &roles, &chosen, now_ms()).map_err(refused)?;
            let uri = if totp { Some(accounts.enroll_totp(username).map_err(refused)?.uri) } else { None };
            let roles: Vec<&str> = account.roles.iter().map(|r| r.name()).collect();
            println!("added {username} ({}) of {organisation}", roles.join(", "));
            print_secrets(generated.as_deref(), uri.as_deref());
        }
    }
    Ok(ExitCode::Ok)
}

fn names(roles: &Value) -> String {
    roles.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()
}

fn list(target: &Target) -> Outcome<ExitCode> {
    let rows: Vec<(String, String, String, String, bool)> = match open(target)? {
        Store::Node(node) => {
            let users = call(&node, reqwest::Method::GET, "api/v1/users", None)?;
            users
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| {
                    let status = if u["disabled"] == true {
                        "disabled"
                    } else if u["lockedUntilMs"].is_number() {
                        "locked"
                    } else {
                        "active"
                    };
                    (
                        u["username"].as_str().unwrap_or_default().to_owned(),
                        u["organisation"].as_str().unwrap_or_default().to_owned(),
                        names(&u["roles"]),
                        status.to_owned(),
                        u["totp"] == true,
                    )
                })
                .collect()
        }
        Store::Data(accounts, _) => accounts
            .list()
            .map_err(refused)?
            .into_iter()
            .map(|a| {
                let status = if a.disabled {
                    "disabled"
                } else if a.locked_until_ms.is_some() {
                    "locked"
                } else {
                    "active"
                };
                let roles: Vec<&str> = a.roles.iter().map(|r| r.name()).collect();
                (a.username.clone(), a.organisation.clone(), roles.join(", "), status.to_owned(), a.has_totp())
            })
            .collect(),
    };
    println!("{:<24} {:<16} {:<9} {:<5} roles", "username", "organisation", "status", "totp");
    for (username, organisation, roles, status, totp) in &rows {
        println!("{username:<24} {organisation:<16} {status:<9} {:<5} {roles}", if *totp { "yes" } else { "no" });
    }
    println!("{} account(s)", rows.len());
    Ok(ExitCode::Ok)
}

fn disable(target: &Target, username: &str) -> Outcome<ExitCode> {
    // A name is also a path segment of the request: only a valid one goes out.
    borderlink_access::validate_username(username).map_err(refused)?;
    match open(target)? {
        Store::Node(node) => {
            call(&node, reqwest::Method::POST, &format!("api/v1/users/{username}/disable"), None)?;
            println!("disabled {username} on {}; its sessions ended", node.base());
        }
        Store::Data(accounts, _) => {
            accounts.disable(username).map_err(refused)?;
            println!("disabled {username}");
        }
    }
    Ok(ExitCode::Ok)
}

fn reset_password(target: &Target, username: &str, password_stdin: bool) -> Outcome<ExitCode> {
    borderlink_access::validate_username(username).map_err(refused)?;
    let password = read_password(password_stdin)?;
    match open(target)? {
        Store::Node(node) => {
            let path = format!("api/v1/users/{username}/password");
            let answer = call(&node, reqwest::Method::POST, &path, Some(json!({"password": password})))?;
            println!("new password set for {username} on {}; its sessions ended", node.base());
            print_secrets(answer["password"].as_str(), None);
        }
        Store::Data(accounts, _) => {
            let generated = password.is_none().then(borderlink_access::password::generate);
            let chosen = password.or_else(|| generated.clone()).unwrap_or_default();
            accounts.set_password(username, &chosen).map_err(refused)?;
            println!("new password set for {username}");
            print_secrets(generated.as_deref(), None);
        }
    }
    Ok(ExitCode::Ok)
}
