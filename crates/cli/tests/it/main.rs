//! End-to-end tests of the `borderlink` binary: exit codes, reports and schemas as a user sees them.

mod audit;
mod cluster;
mod corruption;
mod crash;
mod demo;
mod device;
mod epcis;
mod export;
mod hints;
mod https;
mod ledger;
mod mra;
mod net;
mod readme;
mod risk;
mod schema;
mod schemathesis;
mod secrets;
mod sim;
mod user;
mod validate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn borderlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_borderlink")).args(args).output().expect("the borderlink binary runs")
}

pub(crate) fn sample(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/samples").join(name);
    assert!(p.exists(), "shared sample missing: {}", p.display());
    p.display().to_string()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A path as a command-line argument.
pub(crate) fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A fresh temporary folder, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "borderlink-cli-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
