//! `borderlink console rotate-token --data DIR`: a new console token for a node, written to
//! `DIR/console.token` (mode 0600). A running node keeps the token it started with until its next
//! start; to rotate live (and end every console session at once), its operator calls
//! `POST /api/v1/node/console-token`.

use std::path::{Path, PathBuf};

use crate::{ExitCode, Failed, Outcome};

/// Options of `borderlink console`.
#[derive(clap::Args)]
pub(crate) struct ConsoleArgs {
    #[command(subcommand)]
    command: ConsoleCommand,
}

#[derive(clap::Subcommand)]
enum ConsoleCommand {
    /// Write a new console token to the node's data folder; it takes effect at the node's next
    /// start (the old token then no longer opens the console).
    RotateToken {
        /// The node's data folder (its `data_dir`).
        #[arg(long)]
        data: PathBuf,
    },
}

pub(crate) fn run(args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ConsoleCommand::RotateToken { data } => crate::finish(rotate_token(&data)),
    }
}

/// A folder that holds no node is the user's input error (exit 3).
fn rotate_token(data: &Path) -> Outcome<ExitCode> {
    let path = borderlink_node::rotate_console_token(data).map_err(|e| Failed::new(ExitCode::Input, e))?;
    // The token itself is not printed: it stays in its 0600 file, out of terminal logs.
    println!("a new console token is in {}; it takes effect when the node next starts", path.display());
    Ok(ExitCode::Ok)
}
