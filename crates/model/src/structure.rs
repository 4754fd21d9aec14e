//! The structural walk of the slow path: a JSON tree checked against the record's JSON Schema.
//!
//! serde stops at the first structural error; a trader needs all of them. This walk reports
//! every unknown element, wrong type, missing element and excess occurrence, each with its
//! path, and *removes* what it reported so that the rest of the document can still be
//! deserialized and go through the format and business rules.
//!
//! It understands the subset of JSON Schema that [`crate::schema`] generates: `$ref` to
//! `$defs`, `type` (possibly with `null`), `anyOf`/`oneOf` (options and enums), `enum`,
//! `const`, `properties`, `required`, `additionalProperties: false`, `items`, `maxItems`.

use serde_json::{Map, Value};

use crate::check::{Issue, Severity, display_value};
use crate::records::RecordType;
use crate::schema::schema_ref;

/// Walks `value` against the record type's schema; returns the issues found.
pub(crate) fn check_structure(value: &mut Value, t: RecordType) -> Vec<Issue> {
    let root = schema_ref(t);
    let mut w = Walker { root, issues: Vec::new() };
    let mut path = String::from("$");
    w.walk(value, root, &mut path, 0);
    w.issues
}

struct Walker<'a> {
    root: &'a Value,
    issues: Vec<Issue>,
}

/// What the walk decided about a value.
enum Verdict {
    Keep,
    /// Reported; the caller removes the value.
    Drop,
}

impl<'a> Walker<'a> {
    fn error(&mut self, path: &str, rule: &str, message: String) {
        self.issues.push(Issue { path: path.to_owned(), rule: rule.to_owned(), message, severity: Severity::Error });
    }

    fn resolve(&self, mut s: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or("");
                    match self.root.get("$defs").and_then(|d| d.get(name)) {
                        Some(d) => s = d,
                        None => return s,
                    }
                }
                None => return s,
            }
        }
        s
    }

    fn walk(&mut self, v: &mut Value, schema: &'a Value, path: &mut String, depth: usize) -> Verdict {
        let s = self.resolve(schema);
        if depth > crate::validate::MAX_DEPTH {
            self.error(path, "document.too_deep", "the document is nested too deeply here".into());
            return Verdict::Drop;
        }
        // Options (`anyOf: [T, null]`) and documented enums (`oneOf: [{const}…]`).
        if let Some(alts) = s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array) {
            if v.is_null() && alts.iter().any(|a| allows_null(self.resolve(a))) {
                return Verdict::Keep;
            }
            let consts: Vec<&Value> = alts.iter().filter_map(|a| self.resolve(a).get("const")).collect();
            if !consts.is_empty() && consts.len() == alts.len() {
                return self.enumeration(v, &consts, path);
            }
            let non_null: Vec<&Value> = alts.iter().filter(|a| !is_null_schema(self.resolve(a))).collect();
            if let [only] = non_null.as_slice() {
                return self.walk(v, only, path, depth);
            }
            // Several forms (a date-time as text or as a DateTimeString): walk the one whose
            // type the value has, or the first, so that a wrong type is still named.
            let fits = |a: &&&Value| type_names(self.resolve(a)).iter().any(|t| json_type_fits(t, v));
            return match non_null.iter().find(fits).or(non_null.first()) {
                Some(alt) => self.walk(v, alt, path, depth),
                None => Verdict::Keep,
            };
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            let consts: Vec<&Value> = values.iter().collect();
            return self.enumeration(v, &consts, path);
        }
        let types = type_names(s);
        if v.is_null() && types.contains(&"null") {
            return Verdict::Keep;
        }
        let expected = types.iter().copied().find(|t| *t != "null");
        match (expected, &mut *v) {
            (Some("object"), Value::Object(map)) => {
                self.object(map, s, path, depth);
                Verdict::Keep
            }
            (Some("array"), Value::Array(items)) => {
                if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                    && items.len() as u64 > max
                {
                    self.error(
                        path,
                        "format.max_occurs",
                        format!("at most {max} occurrences are allowed; {} were given", items.len()),
                    );
                }
                if let Some(item_schema) = s.get("items") {
                    let mut keep = Vec::with_capacity(items.len());
                    for (i, item) in items.iter_mut().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        keep.push(matches!(self.walk(item, item_schema, path, depth + 1), Verdict::Keep));
                        path.truncate(len);
                    }
                    let mut it = keep.into_iter();
                    items.retain(|_| it.next().unwrap_or(true));
                }
                Verdict::Keep
            }
            (Some("string"), Value::String(_)) => Verdict::Keep,
            (Some("integer"), Value::Number(n)) if n.is_u64() || (n.is_i64() && s.get("minimum").is_none()) => {
                Verdict::Keep
            }
            (Some("integer"), Value::Number(n)) => {
                let msg = if n.as_f64().is_some_and(|f| f < 0.0) {
                    format!("must be a whole number of zero or more; got {n}")
                } else {
                    format!("must be a whole number; got {n}")
                };
                self.error(path, "type.integer", msg);
                Verdict::Drop
            }
            (Some("number"), Value::Number(_)) => Verdict::Keep,
            (Some("boolean"), Value::Bool(_)) => Verdict::Keep,
            (Some(t), other) => {
                let (rule, what) = match t {
                    "object" => ("type.object", "an object with elements"),
                    "array" => ("type.array", "a list ([…])"),
                    "string" => ("type.string", "a text in quotes"),
                    "integer" => ("type.integer", "a whole number"),
                    "number" => ("type.number", "a number"),
                    "boolean" => ("type.boolean", "true or false"),
                    _ => ("type.mismatch", "another type"),
                };
                self.error(path, rule, format!("must be {what}; got {}", describe(other)));
                Verdict::Drop
            }
            (None, _) => Verdict::Keep,
        }
    }

    fn enumeration(&mut self, v: &Value, consts: &[&Value], path: &str) -> Verdict {
        if consts.contains(&v) {
            return Verdict::Keep;
        }
        let allowed: Vec<String> = consts.iter().map(|c| c.to_string()).collect();
        self.error(path, "type.enum", format!("must be one of {}; got {}", allowed.join(", "), describe(v)));
        Verdict::Drop
    }

    fn object(&mut self, map: &mut Map<String, Value>, s: &'a Value, path: &mut String, depth: usize) {
        let props = s.get("properties").and_then(Value::as_object);
        let closed = s.get("additionalProperties") == Some(&Value::Bool(false));
        let mut drop = Vec::new();
        for (k, child) in map.iter_mut() {
            let len = path.len();
            path.push('.');
            path.push_str(k);
            match props.and_then(|p| p.get(k)) {
                Some(cs) => {
                    if matches!(self.walk(child, cs, path, depth + 1), Verdict::Drop) {
                        drop.push(k.clone());
                    }
                }
                None if closed => {
                    let known: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                    let hint = suggestion(k, &known).map(|s| format!("; did you mean {s}?")).unwrap_or_default();
                    self.error(
                        path,
                        "structure.unknown_element",
                        format!("{} is not an element here{hint}", display_value(k)),
                    );
                    drop.push(k.clone());
                }
                None => {}
            }
            path.truncate(len);
        }
        for k in drop {
            map.remove(&k);
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    let p = format!("{path}.{r}");
                    self.error(&p, "structure.missing_element", format!("{r} is required here"));
                }
            }
        }
    }
}

fn type_names(s: &Value) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn json_type_fits(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn is_null_schema(s: &Value) -> bool {
    type_names(s) == ["null"]
}

fn allows_null(s: &Value) -> bool {
    type_names(s).contains(&"null")
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("the text {}", display_value(s)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The known element closest to a misspelt one (case-insensitive equality or edit distance ≤ 2).
fn suggestion<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
