//! The generated documentation is the committed one.

/// `docs/validation-rules.md` is the rule table's Markdown; regenerate it with
/// `borderlink rules --markdown > docs/validation-rules.md`.
#[test]
fn the_rules_document_is_generated_from_the_rule_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/validation-rules.md");
    let committed = std::fs::read_to_string(path).expect("docs/validation-rules.md");
    assert!(
        committed == borderlink_model::rulebook::markdown(),
        "docs/validation-rules.md differs from the rule table: run `borderlink rules --markdown > docs/validation-rules.md`"
    );
}
