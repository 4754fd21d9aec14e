//! The progress display of long-running commands (training, signing, benchmark loads): on
//! standard error, so that standard output keeps only the results, and only on a terminal — in
//! a pipe, a file or CI the command prints its one-line summaries and nothing else.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress is drawn: standard error when it is a terminal (and `TERM` is not `dumb`),
/// else nowhere.
fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

/// A bar of `len` steps labelled `what`, with the time spent and the time left.
pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    counted(len, what, "")
}

/// A bar of `len` `unit`s (e.g. `trees`) in the phase `what`, with the time spent and the time
/// left.
pub(crate) fn counted(len: u64, what: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target());
    let template = format!("{{msg:>10}} [{{bar:30}}] {{pos}}/{{len}}{} ({{elapsed}}, ETA {{eta}})", unit_suffix(unit));
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A phase of unknown length (reading files, computing features): its name, a spinner and the
/// time spent.
pub(crate) fn phase(what: &str) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.set_message(what.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}

fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() { String::new() } else { format!(" {unit}") }
}
