//! The README's commands, pasted in order as a new user pastes them on a fresh clone: every
//! ```` ```sh ```` block of README.md runs, each command must exit 0.
//!
//! How it runs them:
//! - in a fresh temporary folder laid out like the repository (its `crates`, `docs` and
//!   `scripts` linked in), with the built `borderlink` first on `PATH`;
//! - the demo (`cargo run --release -- demo`) is started by the test itself, in that folder
//!   (`borderlink demo --data borderlink-data`), since the README's ledger commands run against
//!   it; `scripts/test.sh` (the whole suite) is not run from within it;
//! - the README's fixed ports are moved, consistently, to free ones: the demo's 8080–8085 and the
//!   consortium's 7400–7409 each to a run of free ports, so that the test cannot collide with
//!   another test or a demo a developer runs;
//! - all blocks are one `bash` script (a variable set in one line is seen by the next), each
//!   command wrapped so that a failure names it; a command the README puts in the background
//!   (`… &`) runs so, and every process the script started is ended with its process group.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::TempDir;
use crate::net::{Process, free_base_port};

/// Lines of the README's blocks that a test cannot run: the demo (started by the test instead)
/// and the whole test suite.
const NOT_HERE: [&str; 2] = ["cargo run --release -- demo", "scripts/test.sh"];

/// The commands of every ```` ```sh ```` block, in order: continuation lines joined, comment-only
/// lines dropped.
fn commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if !in_sh {
            in_sh = line.trim_end() == "```sh";
            continue;
        }
        if line.trim_end() == "```" {
            in_sh = false;
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => {
                pending.push_str(start);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                let command = std::mem::take(&mut pending);
                let trimmed = command.trim();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    commands.push(trimmed.to_owned());
                }
            }
        }
    }
    commands
}

/// `text` with each port of `from..from + count` moved to the same offset from `to`.
fn move_ports(text: &str, from: u16, count: u16, to: u16) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..at]);
        let digits: String = rest[at..].chars().take_while(char::is_ascii_digit).collect();
        let port = digits.parse::<u16>().ok().filter(|p| (from..from + count).contains(p));
        match port {
            Some(p) => out.push_str(&(to + (p - from)).to_string()),
            None => out.push_str(&digits),
        }
        rest = &rest[at + digits.len()..];
    }
    out.push_str(rest);
    out
}

/// Whether a command is run in the background (`… &`, before any comment).
fn background(command: &str) -> bool {
    let code = command.split(" #").next().unwrap_or(command);
    code.trim_end().ends_with('&') && !code.trim_end().ends_with("&&")
}

/// The script: each command wrapped so that its failure stops the script, naming it.
fn script(commands: &[String]) -> String {
    let mut script = String::from(
        "fail() { echo \"README command $1 failed with exit code $2\" >&2; exit 1; }\n\
         echo \"borderlink is $(command -v borderlink)\"\n",
    );
    for (i, c) in commands.iter().enumerate() {
        script.push_str(&format!("echo '--- {i}'\n"));
        if background(c) {
            script.push_str(c);
            script.push('\n');
        } else {
            // On lines of their own: a comment ending the command must not swallow the wrapper.
            script.push_str(&format!("{{\n{c}\n}} || fail {i} $?\n"));
        }
    }
    script
}

#[test]
fn readme_blocks_parse_into_commands() {
    let text = "intro\n```sh\nborderlink a \\\n    --b c   # note\n# only a comment\nborderlink up &  # bg\n```\n```toml\nx = 1\n```\n";
    assert_eq!(commands(text), ["borderlink a      --b c   # note", "borderlink up &  # bg"]);
    assert!(background("borderlink up &  # bg") && !background("a && b"));
    assert_eq!(
        move_ports("http://127.0.0.1:7400 7407 17400 8080", 7400, 10, 12000),
        "http://127.0.0.1:12000 12007 17400 8080"
    );
}

#[test]
fn every_readme_command_runs_when_pasted_in_order() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let all = commands(&readme);
    for skipped in NOT_HERE {
        assert!(all.iter().any(|c| c.starts_with(skipped)), "the README no longer says {skipped:?}: update the test");
    }
    let demo_ports = free_base_port();
    let net_ports = free_base_port();
    let runnable: Vec<String> = all
        .iter()
        .filter(|c| !NOT_HERE.iter().any(|n| c.starts_with(n)))
        .map(|c| move_ports(&move_ports(c, 8080, 6, demo_ports), 7400, 10, net_ports))
        .collect();

    let dir = TempDir::new("readme");
    for linked in ["crates", "docs", "scripts"] {
        std::os::unix::fs::symlink(repo.join(linked).canonicalize().expect("repository folder"), dir.0.join(linked))
            .expect("link");
    }
    // The demo, where the README's first block starts it (the data folder is its default).
    let port = demo_ports.to_string();
    let mut demo = Process::spawn("the demo", &["demo", "--port", &port], |c| {
        c.current_dir(&dir.0).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(Stdio::null())
    });
    let lines = demo.lines();
    let started = lines.until(Duration::from_secs(120), |l| l.starts_with("Borderlink console: "));
    assert!(started.is_ok(), "the demo did not start: {started:?}");

    let bin = Path::new(env!("CARGO_BIN_EXE_borderlink")).parent().expect("the binary's folder");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let script_path = dir.0.join("readme.sh");
    std::fs::write(&script_path, script(&runnable)).expect("script");
    let out_path = dir.0.join("readme.out");
    let out = std::fs::File::create(&out_path).expect("output file");
    let mut bash = {
        use std::os::unix::process::CommandExt;
        Command::new("bash")
            .arg(&script_path)
            .current_dir(&dir.0)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("output file"))
            .stderr(out)
            // Its own process group: whatever it leaves running is ended with it.
            .process_group(0)
            .spawn()
            .expect("bash runs")
    };
    let group = format!("-{}", bash.id());
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = bash.try_wait().expect("try_wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
    if status.is_none() {
        let _ = bash.kill();
        let _ = bash.wait();
    }
    let demo_stopped = demo.stop("-INT");
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let listing: String = runnable.iter().enumerate().map(|(i, c)| format!("{i}: {c}\n")).collect();
    assert!(status.is_some(), "the README's commands did not finish in 600 s:\n{listing}\n{output}");
    assert!(status.is_some_and(|s| s.success()), "a README command failed:\n{listing}\n{output}");
    assert!(demo_stopped.success(), "the demo stops cleanly after the README's commands");
    // What the ledger commands left behind is what the README says they write.
    for written in ["p.json", "a.json", "net/genesis.json"] {
        assert!(dir.0.join(written).is_file(), "{written} was written:\n{output}");
    }
}
