use serde_json::Value;

use crate::borderlink;

#[test]
fn schema_prints_json_schema_for_every_type() {
    for t in ["declaration", "aeo-authorization", "transport-movement", "inspection-result", "aeo-consent"] {
        let o = borderlink(&["schema", t]);
        assert_eq!(o.status.code(), Some(0));
        let s: Value = serde_json::from_slice(&o.stdout).expect("schema is JSON");
        assert!(s["$id"].as_str().unwrap().contains(t), "{t}");
    }
    assert_eq!(borderlink(&["schema", "passport"]).status.code(), Some(2));
}

/// `borderlink ARGS` writing into a pipe whose reader is already gone (`… | head` after head
/// exited): every write fails with a broken pipe.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_borderlink"))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("the borderlink binary runs")
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    for args in [&["schema", "declaration"][..], &["rules"], &["rules", "--markdown"]] {
        let o = into_closed_pipe(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}
