//! What the command line tells a user to type exists: every `--flag` named in the CLI's sources
//! (error messages, hints, help texts) is a flag of some `borderlink` command.

use std::collections::BTreeSet;
use std::path::Path;

use crate::{borderlink, stdout};

/// Flags of other programs that the CLI's texts name (`curl --cert …`, `cargo run --release`).
const FOREIGN: [&str; 3] = ["--release", "--cert", "--cacert"];

/// The subcommands listed under `Commands:` in a help text.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// Every long flag of `path` and of the commands below it.
fn flags(path: &mut Vec<String>, found: &mut BTreeSet<String>) {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = stdout(&borderlink(&args));
    for word in help.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[' || c == ']') {
        if let Some(name) = word.strip_prefix("--")
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        {
            found.insert(format!("--{}", name.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())));
        }
    }
    for sub in subcommands(&help) {
        path.push(sub);
        flags(path, found);
        path.pop();
    }
}

fn named_in(dir: &Path, named: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("source folder").map(|e| e.expect("entry").path()) {
        if entry.is_dir() {
            named_in(&entry, named);
            continue;
        }
        let text = std::fs::read_to_string(&entry).expect("source file");
        for (at, _) in text.match_indices("--") {
            let rest = &text[at + 2..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            let before = text[..at].chars().next_back();
            if name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && before.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-')
            {
                let file = entry.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                named.insert((format!("--{}", name.trim_end_matches('-')), file));
            }
        }
    }
}

#[test]
fn every_flag_a_message_or_help_names_exists() {
    let mut known = BTreeSet::new();
    flags(&mut Vec::new(), &mut known);
    assert!(known.contains("--genesis") && known.contains("--log-format"), "{known:?}");
    let mut named = BTreeSet::new();
    named_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut named);
    let missing: Vec<String> = named
        .iter()
        .filter(|(flag, _)| !known.contains(flag) && !FOREIGN.contains(&flag.as_str()))
        .map(|(flag, file)| format!("{flag} (in {file})"))
        .collect();
    assert!(missing.is_empty(), "flags named but no command has them: {missing:?}");
}
