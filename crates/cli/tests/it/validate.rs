use serde_json::Value;

use crate::{TempDir, borderlink, sample, stdout};

#[test]
fn samples_are_valid_and_exit_zero() {
    let o = borderlink(&[
        "validate",
        &sample("declaration.json"),
        &sample("aeo-authorisation.json"),
        &sample("transport-movement.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert_eq!(out.matches(": valid ").count(), 3, "{out}");
    assert!(out.contains("valid declaration (JSON)"), "{out}");
    assert!(out.contains("valid aeo-authorization (JSON)"), "{out}");
}

#[test]
fn a_broken_copy_exits_one_with_paths_and_rules() {
    let dir = TempDir::new("broken");
    let text = std::fs::read_to_string(sample("declaration.json")).unwrap().replace("MSKU1234565", "MSKU1234566");
    let bad = dir.0.join("bad.json");
    std::fs::write(&bad, text).unwrap();
    let o = borderlink(&["validate", "--format", "json", bad.to_str().unwrap(), &sample("declaration.json")]);
    assert_eq!(o.status.code(), Some(1));
    let reports: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let first = &reports[0];
    assert_eq!(first["valid"], false);
    assert_eq!(first["file"], bad.to_str().unwrap());
    assert_eq!(first["errors"][0]["path"], "$.Declaration.GoodsShipment.Consignment.TransportEquipment[0].ID");
    assert_eq!(first["errors"][0]["rule"], "container.check_digit");
    assert_eq!(reports[1]["valid"], true);
    // Human output names the same place.
    let o = borderlink(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o)
            .contains("$.Declaration.GoodsShipment.Consignment.TransportEquipment[0].ID  [container.check_digit]")
    );
}

#[test]
fn xml_declarations_are_validated() {
    let xml = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/tests/data/declaration.xml");
    let o = borderlink(&["validate", xml]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("valid declaration (XML)"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(borderlink(&["validate"]).status.code(), Some(2));
    let o = borderlink(&["validate", "--type", "banana", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown record type"));
}

#[test]
fn unreadable_files_exit_three() {
    let o = borderlink(&["validate", "/nonexistent/declaration.json"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read /nonexistent/declaration.json"));
}

#[test]
fn a_200_mb_file_is_refused_without_reading_it_all() {
    let dir = TempDir::new("big");
    let big = dir.0.join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    let o = borderlink(&["validate", "--format", "json", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let reports: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(reports[0]["errors"][0]["rule"], "document.too_large");
}

#[test]
fn standard_input_is_read_with_dash() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_borderlink"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{\"Declaration\": 5}").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("$.Declaration  [type.object]"), "{}", stdout(&o));
}

const WRAPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/tests/data/declaration-wrapped.xml");
const GB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/profiles/gb.toml");

#[test]
fn a_wrapped_xml_declaration_is_valid_and_its_category_named() {
    let o = borderlink(&["validate", WRAPPED]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("valid declaration (XML), standard IMA"), "{}", stdout(&o));
    let o = borderlink(&["validate", "--format", "json", WRAPPED]);
    let reports: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(reports[0]["profile"], "core");
    assert_eq!(reports[0]["category"]["category"], "standard");
}

#[test]
fn a_profile_file_turns_an_error_into_a_warning() {
    let dir = TempDir::new("profile");
    let doc = std::fs::read_to_string(WRAPPED).unwrap().replace("<ID>85176200</ID>", "<ID>85171200</ID>");
    let file = dir.0.join("hs2017.xml");
    std::fs::write(&file, doc).unwrap();
    let o = borderlink(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("[hs.earlier_edition]") && out.contains("8517.13 or 8517.14"), "{out}");
    let profile = dir.0.join("lenient.toml");
    std::fs::write(&profile, "name = \"lenient\"\n[rules]\n\"hs.earlier_edition\" = \"warning\"\n").unwrap();
    let o = borderlink(&["validate", "--profile", profile.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("profile lenient") && out.contains("warning") && out.contains("[hs.earlier_edition]"),
        "{out}"
    );
    // The shipped GB profile validates the sample as core does.
    let o = borderlink(&["validate", "--profile", GB, WRAPPED, &sample("declaration.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).matches("profile gb").count(), 2);
}

#[test]
fn a_profile_that_cannot_be_used_exits_three() {
    let dir = TempDir::new("badprofile");
    let profile = dir.0.join("bad.toml");
    std::fs::write(&profile, "name = \"bad\"\n[rules]\n\"no.such_rule\" = \"off\"\n").unwrap();
    let o = borderlink(&["validate", "--profile", profile.to_str().unwrap(), &sample("declaration.json")]);
    assert_eq!(o.status.code(), Some(3));
    assert!(crate::stderr(&o).contains("no.such_rule"), "{}", crate::stderr(&o));
    let o = borderlink(&["validate", "--profile", "/nonexistent/profile.toml", &sample("declaration.json")]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn rules_lists_every_rule_and_its_markdown_is_the_committed_document() {
    let o = borderlink(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for rule in [
        "dates.order",
        "hs.unknown_subheading",
        "hs.earlier_edition",
        "datetime.format_code",
        "wrapper.declaration_count",
    ] {
        assert!(out.contains(rule), "{rule} in {out}");
    }
    let o = borderlink(&["rules", "--markdown"]);
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/validation-rules.md"))
        .expect("docs/validation-rules.md");
    assert_eq!(
        stdout(&o),
        committed,
        "docs/validation-rules.md is out of date: run `borderlink rules --markdown > docs/validation-rules.md`"
    );
}
