//! Validation: bytes in (JSON or WCO DM XML), a [`Report`] out.
//!
//! The pipeline, and why it is shaped so:
//! 1. document checks: size limit, UTF-8, syntax (with line and column), nesting depth; a
//!    DocumentMetaData wrapper is opened (XML, or its JSON mirror `{"MetaData": {…,
//!    "Declaration": …}}`) and its fields become the record's `MetaData` envelope;
//! 2. **fast path**: typed deserialization straight from the bytes. Valid documents (the bulk
//!    of traffic) never build an intermediate tree;
//! 3. **slow path**, only when typed deserialization fails: the document is parsed into a
//!    tree and walked against the record's JSON Schema ([`crate::structure`]) so that *every*
//!    structural error is reported (unknown fields, wrong types, missing elements), not just
//!    the first one serde meets. The walk removes what it reported, and the repaired tree is
//!    deserialized again so that format and business rules still run on the rest;
//!    Before the walk, WCO DM `DateTimeString` dates (UN/EDIFACT 2379 format codes) are
//!    normalised to ISO 8601, each unreadable one reported at its path;
//! 4. format checks (generated from the WCO formats), code lists, the declaration category's
//!    requirements and cross-field rules;
//! 5. the validation [`Profile`]: each issue gets the severity the profile sets for its rule
//!    (the [rule table](crate::rulebook) default otherwise), national code lists are applied;
//! 6. data quality.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::category::{self, AppliedCategory};
use crate::check::{Checker, Issue, Severity};
use crate::profile::Profile;
use crate::quality::{self, Quality};
use crate::records::{
    AeoAuthorizationRecord, DeclarationRecord, InspectionResultRecord, Record, RecordType, TransportMovementRecord,
};
use crate::{datetime, rules, structure, xml};

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
    /// The validation profile: the severity of each rule, national code lists (the core
    /// profile by default).
    pub profile: Arc<Profile>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self { record_type: None, max_bytes: DEFAULT_MAX_BYTES, profile: Arc::clone(Profile::core()) }
    }
}

/// The syntax a document was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// JSON with WCO tag names as keys.
    Json,
    /// WCO DM XML (`urn:wco:datamodel:WCO:DEC-DMS:2`), bare or in a DocumentMetaData wrapper.
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
    /// The validation profile applied (`core`, or a national profile's name).
    pub profile: String,
    /// For a declaration: the category its `TypeCode` gives, whose requirements were applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Box<AppliedCategory>>,
    /// Every error found.
    pub errors: Vec<Issue>,
    /// Every warning found.
    pub warnings: Vec<Issue>,
    /// Data quality: completeness of the optional elements risk analysis uses.
    pub quality: Option<Box<Quality>>,
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
            profile: String::new(),
            category: None,
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
    let mut report = match format {
        InputFormat::Json => validate_json(text, opts),
        InputFormat::Xml => match xml::read_declaration(text) {
            Ok(doc) => {
                let mut report = validate_value(doc.value, opts, InputFormat::Xml);
                for issue in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
                    issue.path = xml::json_path_to_xml(&issue.path, doc.wrapped);
                }
                if !doc.issues.is_empty() {
                    report.errors.splice(0..0, doc.issues);
                    report.valid = false;
                    report.record = None;
                }
                report
            }
            Err(errors) => Report {
                valid: false,
                record_type: Some(RecordType::Declaration),
                format,
                profile: String::new(),
                category: None,
                errors,
                warnings: Vec::new(),
                quality: None,
                record: None,
            },
        },
    };
    report.profile.clone_from(&opts.profile.name);
    report
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
    if !misplaced_array(text, first_guess)
        && let Ok(record) = deserialize_str(text, first_guess)
    {
        return finish(record, Vec::new(), InputFormat::Json, &opts.profile);
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
    // The JSON mirror of a DocumentMetaData wrapper: {"MetaData": {…, "Declaration": …}}.
    if keys.iter().any(|k| k == "MetaData") && !keys.iter().any(|k| k == "Declaration") {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut v) => match unwrap_json_metadata(&mut v) {
                Ok(()) => validate_typed_value(v, RecordType::Declaration, InputFormat::Json, &opts.profile),
                Err(issue) => Report {
                    valid: false,
                    record_type: Some(RecordType::Declaration),
                    format: InputFormat::Json,
                    profile: String::new(),
                    category: None,
                    errors: vec![issue],
                    warnings: Vec::new(),
                    quality: None,
                    record: None,
                },
            },
            Err(e) => syntax_error(&e, opts),
        };
    }
    let record_type = match resolve_type(&keys, opts) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if record_type != first_guess
        && !misplaced_array(text, record_type)
        && let Ok(record) = deserialize_str(text, record_type)
    {
        return finish(record, Vec::new(), InputFormat::Json, &opts.profile);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => validate_typed_value(v, record_type, InputFormat::Json, &opts.profile),
        Err(e) => syntax_error(&e, opts),
    }
}

/// The element names that the record type's schema allows to be arrays (repeated elements),
/// anywhere in the record.
fn array_elements(t: RecordType) -> &'static std::collections::HashSet<String> {
    static SETS: std::sync::OnceLock<Vec<std::collections::HashSet<String>>> = std::sync::OnceLock::new();
    let sets = SETS.get_or_init(|| {
        RecordType::ALL
            .iter()
            .map(|t| {
                let root = crate::schema::schema_ref(*t);
                let mut names = std::collections::HashSet::new();
                collect_array_elements(root, &mut names);
                names
            })
            .collect()
    });
    let i = RecordType::ALL.iter().position(|x| *x == t).unwrap_or(0);
    &sets[i]
}

/// Every property name (in the root's properties and every `$defs` entry) whose schema can be
/// an array.
fn collect_array_elements(node: &serde_json::Value, names: &mut std::collections::HashSet<String>) {
    let can_be_array = |v: &serde_json::Value| {
        let is = |t: &serde_json::Value| t == "array" || t.as_array().is_some_and(|l| l.iter().any(|x| x == "array"));
        v.get("type").is_some_and(is)
            || ["anyOf", "oneOf"].iter().any(|k| {
                v.get(*k).and_then(|o| o.as_array()).is_some_and(|o| o.iter().any(|x| x.get("type").is_some_and(is)))
            })
    };
    match node {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                for (name, p) in props {
                    if can_be_array(p) {
                        names.insert(name.clone());
                    }
                }
            }
            map.values().for_each(|v| collect_array_elements(v, names));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_array_elements(v, names)),
        _ => {}
    }
}

/// Whether the JSON text has an array where the record's schema expects an object: an array
/// directly inside an array, or the value of an element that is never repeated. serde reads a
/// struct from a sequence (its fields by position), so the fast path would accept
/// `"ObligationGuarantee": [[]]` as an empty guarantee; such a document takes the slow path,
/// whose structural walk reports the wrong type. A cheap byte scan, conservative: a key it
/// cannot read as plain text also sends the document to the slow path.
fn misplaced_array(text: &str, t: RecordType) -> bool {
    let arrays = array_elements(t);
    let b = text.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut expect_key = false;
    let mut key: &[u8] = b"";
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expect_key && stack.last() == Some(&b'{') {
                    key = &b[start..i.min(b.len())];
                    expect_key = false;
                }
            }
            b'{' => {
                stack.push(b'{');
                expect_key = true;
            }
            b'[' => {
                match stack.last() {
                    Some(b'[') => return true,
                    Some(_) if !std::str::from_utf8(key).is_ok_and(|k| arrays.contains(k)) => return true,
                    Some(_) | None => {}
                }
                stack.push(b'[');
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' if stack.last() == Some(&b'{') => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Lifts the declaration out of the JSON mirror of a DocumentMetaData wrapper, leaving the
/// wrapper's fields as the record's `MetaData` envelope.
fn unwrap_json_metadata(v: &mut serde_json::Value) -> Result<(), Issue> {
    let error = |path: &str, message: String| Issue {
        path: path.to_owned(),
        rule: "wrapper.declaration_count".to_owned(),
        message,
        severity: Severity::Error,
    };
    let Some(meta) = v.get_mut("MetaData").and_then(serde_json::Value::as_object_mut) else {
        return Ok(());
    };
    let declaration = match meta.remove("Declaration") {
        Some(serde_json::Value::Array(mut list)) if list.len() == 1 => list.remove(0),
        Some(serde_json::Value::Array(list)) if list.is_empty() => {
            return Err(error("$.MetaData.Declaration", "the DocumentMetaData wrapper carries no Declaration".into()));
        }
        Some(serde_json::Value::Array(list)) => {
            return Err(error(
                "$.MetaData.Declaration[1]",
                format!("a DocumentMetaData wrapper carries exactly one Declaration; this one carries {}", list.len()),
            ));
        }
        Some(d) => d,
        None => return Err(error("$.MetaData", "the DocumentMetaData wrapper carries no Declaration".into())),
    };
    if let Some(o) = v.as_object_mut() {
        o.insert("Declaration".into(), declaration);
    }
    Ok(())
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
    validate_typed_value(value, record_type, format, &opts.profile)
}

fn validate_typed_value(
    mut value: serde_json::Value,
    record_type: RecordType,
    format: InputFormat,
    profile: &Profile,
) -> Report {
    let mut issues = Vec::new();
    let mut path = String::from("$");
    normalize_dates(&mut value, &mut path, &mut issues);
    issues.extend(structure::check_structure(&mut value, record_type));
    let unreadable = issues.iter().any(|i| i.severity == Severity::Error);
    match deserialize_value(value, record_type) {
        Ok(record) => {
            let mut report = finish(record, std::mem::take(&mut issues), format, profile);
            if unreadable {
                report.valid = false;
                report.record = None;
            }
            report
        }
        Err(e) => {
            if !unreadable {
                issues.push(Issue {
                    path: "$".into(),
                    rule: "document.structure".into(),
                    message: format!("the document does not have the shape of a {record_type}: {e}"),
                    severity: Severity::Error,
                });
            }
            let (errors, warnings) = split(profile.apply(issues, None));
            Report {
                valid: false,
                record_type: Some(record_type),
                format,
                profile: String::new(),
                category: None,
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

/// Runs the typed checks on a record, applies the profile and assembles the report.
fn finish(mut record: Record, mut issues: Vec<Issue>, format: InputFormat, profile: &Profile) -> Report {
    let mut cx = Checker::new();
    rules::check_record(&record, &mut cx);
    issues.extend(cx.into_issues());
    // National code lists read the record's JSON form: built only for a profile that has some.
    let json = (!profile.code_lists.is_empty()).then(|| serde_json::to_value(&record).ok()).flatten();
    let issues = profile.apply(issues, json.as_ref());
    let quality = quality::assess(&record);
    let category = match &record {
        Record::Declaration(d) => Some(Box::new(category::categorize(d.declaration.type_code.as_deref()))),
        _ => None,
    };
    let (errors, warnings) = split(issues);
    let valid = errors.is_empty();
    record.normalize();
    Report {
        valid,
        record_type: Some(record.record_type()),
        format,
        profile: String::new(),
        category,
        errors,
        warnings,
        quality: Some(Box::new(quality)),
        record: valid.then_some(record),
    }
}

fn split(issues: Vec<Issue>) -> (Vec<Issue>, Vec<Issue>) {
    issues.into_iter().partition(|i| i.severity == Severity::Error)
}

/// Normalises every WCO DM date-time element given as a `DateTimeString` (`{"DateTimeString":
/// {"formatCode": "304", "value": "20250731112200+01"}}`, the JSON form of the XML element) to
/// ISO 8601, reporting each one that cannot be read at its path and removing it.
fn normalize_dates(v: &mut serde_json::Value, path: &mut String, issues: &mut Vec<Issue>) {
    match v {
        serde_json::Value::Object(map) => {
            let mut drop = Vec::new();
            for (k, child) in map.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                if k.ends_with("DateTime") && child.is_object() {
                    match date_time_string(child, path) {
                        Ok(iso) => *child = serde_json::Value::String(iso),
                        Err(issue) => {
                            issues.push(issue);
                            drop.push(k.clone());
                        }
                    }
                } else {
                    normalize_dates(child, path, issues);
                }
                path.truncate(len);
            }
            for k in drop {
                map.remove(&k);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                normalize_dates(item, path, issues);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// One `{"DateTimeString": …}` object as ISO 8601, or the issue that says why not.
fn date_time_string(v: &serde_json::Value, path: &str) -> Result<String, Issue> {
    let issue = |at: String, rule: &str, message: String| Issue {
        path: at,
        rule: rule.to_owned(),
        message,
        severity: Severity::Error,
    };
    let element = path.rsplit('.').next().unwrap_or(path);
    let dts = match v.as_object() {
        Some(o) if o.len() == 1 => o.get("DateTimeString"),
        _ => None,
    };
    let (value, code) = match dts {
        Some(serde_json::Value::String(s)) => (s.as_str(), None),
        Some(serde_json::Value::Object(o)) if o.keys().all(|k| k == "value" || k == "formatCode") => {
            let value = o.get("value").and_then(serde_json::Value::as_str);
            let code = o.get("formatCode").map(|c| c.as_str().map(str::to_owned).unwrap_or_else(|| c.to_string()));
            match value {
                Some(value) => (value, code),
                None => {
                    return Err(issue(
                        format!("{path}.DateTimeString"),
                        "type.string",
                        format!("the DateTimeString of {element} has no text"),
                    ));
                }
            }
        }
        _ => {
            return Err(issue(
                path.to_owned(),
                "type.string",
                format!(
                    "{element} must be an ISO 8601 date-time, or a WCO DateTimeString \
                     ({{\"DateTimeString\": {{\"formatCode\": \"304\", \"value\": \"20250731112200+01\"}}}})"
                ),
            ));
        }
    };
    let code = code.as_deref();
    datetime::from_date_time_string(value, code).map_err(|e| match e {
        datetime::DateTimeStringError::UnknownCode(c) => {
            let known: Vec<String> =
                datetime::EDIFACT_2379_CODES.iter().map(|(c, p, _)| format!("{c} ({p})")).collect();
            issue(
                format!("{path}.DateTimeString.formatCode"),
                "datetime.format_code",
                format!(
                    "formatCode {} of {element} is not a UN/EDIFACT 2379 date/time format that WCO DM uses: {}",
                    crate::check::display_value(&c),
                    known.join(", ")
                ),
            )
        }
        datetime::DateTimeStringError::Mismatch(pattern) => issue(
            format!("{path}.DateTimeString"),
            "datetime.format_mismatch",
            format!(
                "{element} {} does not match its formatCode {} ({pattern})",
                crate::check::display_value(value),
                code.unwrap_or("(inferred)")
            ),
        ),
    })
}
