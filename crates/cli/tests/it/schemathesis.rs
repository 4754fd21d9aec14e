//! Schemathesis (v4, `--checks all`) against a demo node: every operation of
//! `/api/openapi.json` answers as the document says — documented statuses, content types and
//! body shapes, schema-valid requests accepted, schema-violating ones refused, authentication
//! enforced. The configuration and the login hook are `scripts/schemathesis/`.
//!
//! Schemathesis is a Python tool: `scripts/test.sh` installs a pinned version into
//! `target/st-venv` and names its `st` in `BORDERLINK_SCHEMATHESIS`. Without it this test fails,
//! it never skips.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::TempDir;
use crate::net::DemoNode;

/// Examples per operation and phase: enough to reach every documented answer, few enough that
/// the run ends in about two minutes on two cores.
const MAX_EXAMPLES: &str = "5";

/// The run is stopped (and the test fails) past this.
const DEADLINE: Duration = Duration::from_secs(6 * 60);

/// Fixed, so that a failure is found again by running the test again.
const SEED: &str = "20260312";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `st` from `BORDERLINK_SCHEMATHESIS`, else the one scripts/test.sh installs.
fn schemathesis() -> PathBuf {
    let st = std::env::var_os("BORDERLINK_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/st-venv/bin/st"));
    assert!(
        st.is_file(),
        "schemathesis is missing: no {}; run scripts/test.sh (it installs it into target/st-venv) or set \
         BORDERLINK_SCHEMATHESIS to its `st`",
        st.display()
    );
    st
}

#[test]
#[ignore = "slow (about two minutes): scripts/test.sh runs it"]
fn attack_every_operation_answers_as_its_openapi_document_says() {
    let st = schemathesis();
    let dir = TempDir::new("schemathesis");
    let data = dir.0.join("data");
    let mut node = DemoNode::start(&data);
    let out = dir.0.join("st.out");
    let mut child = Command::new(&st)
        .args(["run", &format!("{}api/openapi.json", node.url), "--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED, "--workers", "2", "--no-color"])
        .current_dir(workspace().join("scripts/schemathesis"))
        .env("BORDERLINK_CONSOLE_TOKEN_FILE", data.join("console.token"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("output file"))
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", st.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let report = std::fs::read_to_string(&out).unwrap_or_default();
    node.stop();
    let Some(status) = status else {
        panic!("schemathesis did not finish within {DEADLINE:?}:\n{report}");
    };
    assert!(status.success(), "schemathesis found failures or errors ({status}):\n{report}");
    assert!(report.contains("No issues found") || report.contains(" passed"), "{report}");
    println!("{}", report.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"));
}
