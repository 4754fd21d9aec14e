//! Validation: bytes in (JSON or WCO DM XML), a [`Report`] out.
//!
//! The pipeline, and why it is shaped so:
//! 1. document checks: size limit, UTF-8, syntax (with line and column), nesting depth;
//! 2. **fast path**: typed deserialization straight from the bytes. Valid documents (the bulk
//!    of traffic) never build an intermediate tree;
//! 3. **slow path**, only when typed deserialization fails: the document is parsed into a
//!    tree and walked against the record's JSON Schema ([`crate::structure`]) so that *every*
//!    structural error is reported (unknown fields, wrong types, missing elements), not just
//!    the first one serde meets. The walk removes what it reported, and the repaired tree is
//!    deserialized again so that format and business rules still run on the rest;
//! 4. format checks (generated from the WCO formats), code lists and cross-field rules;
//! 5. data quality.

use serde::{Deserialize, Serialize};

use crate::check::{Checker, Issue, Severity};
use crate::quality::{self, Quality};
use crate::records::{
    AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, Record, RecordType, TransportMovementRecord,
};
use crate::{rules, structure, xml};

/// The default largest document accepted (8 MiB: a 999-item declaration is about 2 MiB).
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// The deepest nesting accepted; the deepest WCO DM path is 8 levels.
pub const MAX_DEPTH: usize = 64;

/// What to validate and how.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The expected record type; detected from the document when `None`.
    pub record_type: Option<RecordType>,
    /// Documents larger than this are refused without being parsed.
    pub max_bytes: usize,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self { record_type: None, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// The syntax a document was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// JSON with WCO tag names as keys.
    Json,
    /// WCO DM XML (`urn:wco:datamodel:WCO:DEC-DMS:2`).
    Xml,
}

/// The outcome of validating one document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Whether the document is a valid record (no errors; warnings allowed).
    pub valid: bool,
    /// The record type, when it could be told.
    pub record_type: Option<RecordType>,
    /// The syntax of the document.
    pub format: InputFormat,
    /// Every error found.
    pub errors: Vec<Issue>,
    /// Every warning found.
    pub warnings: Vec<Issue>,
    /// Data quality: completeness of the optional elements risk analysis uses.
    pub quality: Option<Quality>,
    /// The record, in canonical form, when the document is valid.
    #[serde(skip)]
    #[schemars(skip)]
    pub record: Option<Record>,
}

impl Report {
    fn document_error(format: InputFormat, record_type: Option<RecordType>, rule: &str, message: String) -> Self {
        Self {
            valid: false,
            record_type,
            format,
            errors: vec![Issue { path: "$".into(), rule: rule.into(), message, severity: Severity::Error }],
            warnings: Vec::new(),
            quality: None,
            record: None,
        }
    }
}

/// Validates a document (JSON, or WCO DM XML when it starts with `<`).
pub fn validate(bytes: &[u8], opts: &ValidateOptions) -> Report {
    let format = sniff(bytes);
    if bytes.len() > opts.max_bytes {
        return Report::document_error(
            format,
            opts.record_type,
            "document.too_large",
            format!("the document is {} bytes; at most {} bytes are accepted", bytes.len(), opts.max_bytes),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let (line, col) = line_col(&bytes[..at]);
            return Report::document_error(
                format,
                opts.record_type,
                "document.encoding",
                format!(
                    "the document is not valid UTF-8: invalid byte at line {line}, column {col} (byte offset {at})"
                ),
            );
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        InputFormat::Json => validate_json(text, opts),
        InputFormat::Xml => match xml::declaration_from_xml(text) {
            Ok(value) => {
                let mut report = validate_value(value, opts, InputFormat::Xml);
                for issue in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
                    issue.path = xml::json_path_to_xml(&issue.path);
                }
                report
            }
            Err(errors) => Report {
                valid: false,
                record_type: Some(RecordType::Declaration),
                format,
                errors,
                warnings: Vec::new(),
                quality: None,
                record: None,
            },
        },
    }
}

/// Parses and validates a document into a canonical [`Record`], or returns the report of why not.
pub fn parse_record(bytes: &[u8], opts: &ValidateOptions) -> Result<(Record, Report), Report> {
    let mut report = validate(bytes, opts);
    match report.record.take() {
        Some(r) if report.valid => Ok((r, report)),
        _ => Err(report),
    }
}

fn sniff(bytes: &[u8]) -> InputFormat {
    let first = bytes.iter().copied().find(|b| !(b.is_ascii_whitespace() || *b == 0xEF || *b == 0xBB || *b == 0xBF));
    if first == Some(b'<') { InputFormat::Xml } else { InputFormat::Json }
}

fn line_col(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// The top-level keys of a JSON object, read without building the tree.
fn top_level_keys(text: &str) -> Option<Vec<String>> {
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = m.next_key::<String>()? {
                        m.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(text).ok().map(|k| k.0)
}

fn syntax_error(e: &serde_json::Error, opts: &ValidateOptions) -> Report {
    let (rule, what) = match e.classify() {
        serde_json::error::Category::Eof => ("document.truncated", "the document ends too early (truncated?)"),
        _ if e.to_string().contains("recursion limit") => ("document.too_deep", "the document is nested too deeply"),
        serde_json::error::Category::Syntax => ("document.syntax", "the document is not valid JSON"),
        _ => ("document.syntax", "the document is not a JSON object"),
    };
    let msg = e.to_string();
    let detail = msg.split(" at line").next().unwrap_or(&msg);
    Report::document_error(
        InputFormat::Json,
        opts.record_type,
        rule,
        format!("{what}: {detail} at line {}, column {}", e.line(), e.column()),
    )
}

fn validate_json(text: &str, opts: &ValidateOptions) -> Report {
    // Fast path for the bulk of traffic: a valid record of the expected type (declarations when
    // no type is given) is read in one pass, without first reading its keys.
    let first_guess = opts.record_type.unwrap_or(RecordType::Declaration);
    if let Ok(record) = deserialize_str(text, first_guess) {
        return finish(record, Vec::new(), InputFormat::Json);
    }
    let keys = match top_level_keys(text) {
        Some(k) => k,
        None => {
            // Not an object: say exactly why, with line and column.
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Err(e) => syntax_error(&e, opts),
                Ok(_) => Report::document_error(
                    InputFormat::Json,
                    opts.record_type,
                    "document.not_object",
                    "the document must be a JSON object with the record's WCO elements as keys".into(),
                ),
            };
        }
    };
    let record_type = match resolve_type(&keys, opts) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if record_type != first_guess
        && let Ok(record) = deserialize_str(text, record_type)
    {
        return finish(record, Vec::new(), InputFormat::Json);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => validate_typed_value(v, record_type, InputFormat::Json),
        Err(e) => syntax_error(&e, opts),
    }
}

fn resolve_type(keys: &[String], opts: &ValidateOptions) -> Result<RecordType, Report> {
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    match (opts.record_type, RecordType::detect(&refs)) {
        (Some(t), _) => Ok(t),
        (None, Some(t)) => Ok(t),
        (None, None) => Err(Report::document_error(
            InputFormat::Json,
            None,
            "document.unknown_type",
            format!(
                "cannot tell the record type from the top-level elements ({}); expected Declaration (declaration), \
                 AuthorisationHolder (aeo-authorization), Consignment (transport-movement) or Inspection (inspection-result)",
                if refs.is_empty() { "none".to_owned() } else { refs.join(", ") }
            ),
        )),
    }
}

fn validate_value(value: serde_json::Value, opts: &ValidateOptions, format: InputFormat) -> Report {
    let keys: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let record_type = match resolve_type(&keys, opts) {
        Ok(t) => t,
        Err(mut r) => {
            r.format = format;
            return r;
        }
    };
    validate_typed_value(value, record_type, format)
}

fn validate_typed_value(mut value: serde_json::Value, record_type: RecordType, format: InputFormat) -> Report {
    let mut issues = structure::check_structure(&mut value, record_type);
    let structural_errors = issues.iter().any(|i| i.severity == Severity::Error);
    match deserialize_value(value, record_type) {
        Ok(record) => {
            let mut report = finish(record, std::mem::take(&mut issues), format);
            if structural_errors {
                report.valid = false;
                report.record = None;
            }
            report
        }
        Err(e) => {
            if !structural_errors {
                issues.push(Issue {
                    path: "$".into(),
                    rule: "document.structure".into(),
                    message: format!("the document does not have the shape of a {record_type}: {e}"),
                    severity: Severity::Error,
                });
            }
            let (errors, warnings) = split(issues);
            Report {
                valid: false,
                record_type: Some(record_type),
                format,
                errors,
                warnings,
                quality: None,
                record: None,
            }
        }
    }
}

fn deserialize_str(text: &str, t: RecordType) -> Result<Record, serde_json::Error> {
    Ok(match t {
        RecordType::Declaration => Record::Declaration(Box::new(serde_json::from_str::<DeclarationRecord>(text)?)),
        RecordType::AeoAuthorization => {
            Record::AeoAuthorization(Box::new(serde_json::from_str::<AeoAuthorizationRecord>(text)?))
        }
        RecordType::TransportMovement => {
            Record::TransportMovement(Box::new(serde_json::from_str::<TransportMovementRecord>(text)?))
        }
        RecordType::InspectionResult => {
            Record::InspectionResult(Box::new(serde_json::from_str::<InspectionResultRecord>(text)?))
        }
    })
}

fn deserialize_value(v: serde_json::Value, t: RecordType) -> Result<Record, serde_json::Error> {
    Ok(match t {
        RecordType::Declaration => Record::Declaration(Box::new(serde_json::from_value::<DeclarationRecord>(v)?)),
        RecordType::AeoAuthorization => {
            Record::AeoAuthorization(Box::new(serde_json::from_value::<AeoAuthorizationRecord>(v)?))
        }
        RecordType::TransportMovement => {
            Record::TransportMovement(Box::new(serde_json::from_value::<TransportMovementRecord>(v)?))
        }
        RecordType::InspectionResult => {
            Record::InspectionResult(Box::new(serde_json::from_value::<InspectionResultRecord>(v)?))
        }
    })
}

/// Runs the typed checks on a record and assembles the report.
fn finish(mut record: Record, mut issues: Vec<Issue>, format: InputFormat) -> Report {
    let mut cx = Checker::new();
    rules::check_record(&record, &mut cx);
    issues.extend(cx.into_issues());
    let quality = quality::assess(&record);
    let (errors, warnings) = split(issues);
    let valid = errors.is_empty();
    record.normalize();
    Report {
        valid,
        record_type: Some(record.record_type()),
        format,
        errors,
        warnings,
        quality: Some(quality),
        record: valid.then_some(record),
    }
}

fn split(issues: Vec<Issue>) -> (Vec<Issue>, Vec<Issue>) {
    issues.into_iter().partition(|i| i.severity == Severity::Error)
}
