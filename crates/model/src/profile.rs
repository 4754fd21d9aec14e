//! Validation profiles: what an administration makes of each rule, and its national code lists.
//!
//! A profile names, for any adjustable rule of the [rule table](crate::rulebook), `error`,
//! `warning` or `off`; rules it does not name keep their core severity. It may add national code
//! lists: a list either restricts the values of some elements (`paths`, reported as
//! `codelist.national`), or, with `extends`, accepts more values where a core code list rule
//! would refuse them (`XXX`, "other delivery terms", beside the Incoterms).
//!
//! The consortium's core profile ([`Profile::core`]) is the default. A national profile is a
//! TOML or JSON file that a node loads ([`Profile::parse`]); `profiles/gb.toml` in this crate is
//! the worked example for the United Kingdom. Parsing is pure: the caller reads the file.
//!
//! Invariant: a profile cannot change a fixed rule (whether a document can be read at all), and
//! every rule it names exists: both are refused when the profile is loaded, not when it is used.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{Issue, Severity};
use crate::rulebook::{self, Level};

/// The name of the consortium's core profile.
pub const CORE: &str = "core";

/// A validation profile; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The name requests select it by (`gb`); letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// What it is, in words.
    #[serde(default)]
    pub title: String,
    /// The rules it is built from (the public completion rules it follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Rule name → level, for the rules whose core severity it changes.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    /// National code lists.
    #[serde(default, rename = "codelists", skip_serializing_if = "Vec::is_empty")]
    pub code_lists: Vec<NationalCodeList>,
}

/// A national code list of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalCodeList {
    /// Its name (`gb.transport_mode`), given in the messages.
    pub name: String,
    /// What it lists (the data element and where the list is published).
    #[serde(default)]
    pub description: String,
    /// The elements it applies to, as WCO paths from the record's root, dot-separated
    /// (`Declaration.BorderTransportMeans.ModeCode`); lists are gone through element by element.
    pub paths: Vec<String>,
    /// The codes.
    pub codes: Vec<String>,
    /// A core code list rule (`codelist.incoterm`) whose refusals of these codes, at these
    /// paths, are withdrawn: the list adds national codes to the core list instead of
    /// restricting the element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
}

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    /// The text is not TOML or JSON of a profile.
    #[error("the profile cannot be read: {0}")]
    Syntax(String),
    /// The name is empty or has characters a URL parameter should not carry.
    #[error("the profile name {0:?} must be 1 to 64 letters, digits, '-', '_' or '.'")]
    Name(String),
    /// The name is the core profile's.
    #[error("the name \"core\" is the consortium's core profile; give the national profile its own name")]
    ReservedName,
    /// A rule that the rule table does not have.
    #[error("the profile sets {0:?}, which is not a rule (`borderlink rules` lists them)")]
    UnknownRule(String),
    /// A rule that profiles cannot change.
    #[error("the rule {0:?} says whether a document can be read at all; a profile cannot change it")]
    FixedRule(String),
    /// A code list that is not usable.
    #[error("code list {name:?}: {problem}")]
    CodeList {
        /// The list's name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
}

static CORE_PROFILE: LazyLock<Arc<Profile>> = LazyLock::new(|| {
    Arc::new(Profile {
        name: CORE.to_owned(),
        title: "The consortium's core profile: every rule at its default severity, no national code list".to_owned(),
        source: None,
        rules: BTreeMap::new(),
        code_lists: Vec::new(),
    })
});

impl Default for Profile {
    fn default() -> Self {
        (**Self::core()).clone()
    }
}

impl Profile {
    /// The consortium's core profile (shared).
    pub fn core() -> &'static Arc<Profile> {
        &CORE_PROFILE
    }

    /// Parses a profile from TOML or JSON (JSON when the text starts with `{`) and checks it.
    pub fn parse(text: &str) -> Result<Self, ProfileError> {
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        let p: Profile = if trimmed.starts_with('{') {
            serde_json::from_str(trimmed).map_err(|e| ProfileError::Syntax(e.to_string()))?
        } else {
            toml::from_str(trimmed).map_err(|e| ProfileError::Syntax(e.to_string()))?
        };
        p.checked()
    }

    fn checked(mut self) -> Result<Self, ProfileError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self.name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err(ProfileError::Name(self.name));
        }
        if self.name.eq_ignore_ascii_case(CORE) {
            return Err(ProfileError::ReservedName);
        }
        for rule in self.rules.keys() {
            match rulebook::rule(rule) {
                None => return Err(ProfileError::UnknownRule(rule.clone())),
                Some(r) if !r.adjustable => return Err(ProfileError::FixedRule(rule.clone())),
                Some(_) => {}
            }
        }
        for list in &mut self.code_lists {
            let bad = |problem: &str| ProfileError::CodeList { name: list.name.clone(), problem: problem.to_owned() };
            if list.paths.is_empty() {
                return Err(bad("give the elements it applies to (paths)"));
            }
            if list.codes.is_empty() {
                return Err(bad("give its codes"));
            }
            if let Some(p) = list.paths.iter().find(|p| !p.split('.').all(|s| !s.is_empty() && !s.contains('['))) {
                return Err(bad(&format!("{p:?} is not a dot-separated element path such as Declaration.TypeCode")));
            }
            if let Some(rule) = &list.extends
                && !rule.starts_with("codelist.")
            {
                return Err(bad(&format!("extends {rule:?}, which is not a core code list rule (codelist.*)")));
            }
            if let Some(rule) = &list.extends
                && rulebook::rule(rule).is_none()
            {
                return Err(ProfileError::UnknownRule(rule.clone()));
            }
            list.codes.sort_unstable();
            list.codes.dedup();
        }
        Ok(self)
    }

    /// The level this profile gives a rule: its own setting, else the rule table's default;
    /// `None` for a name the table does not have.
    pub fn level(&self, rule: &str) -> Option<Level> {
        let r = rulebook::rule(rule)?;
        if !r.adjustable {
            return Some(r.default);
        }
        Some(self.rules.get(rule).copied().unwrap_or(r.default))
    }

    /// Gives each issue the severity this profile sets for its rule, drops those it turns off,
    /// withdraws core code list refusals its national lists extend, and adds the issues of its
    /// national code lists (read from `record`, the record's JSON form, when there is one).
    pub(crate) fn apply(&self, issues: Vec<Issue>, record: Option<&Value>) -> Vec<Issue> {
        let mut out = Vec::with_capacity(issues.len());
        for mut issue in issues {
            if let Some(record) = record
                && self.extended(&issue, record)
            {
                continue;
            }
            match self.level(&issue.rule) {
                Some(Level::Error) => issue.severity = Severity::Error,
                Some(Level::Warning) => issue.severity = Severity::Warning,
                Some(Level::Off) => continue,
                None => {}
            }
            out.push(issue);
        }
        if let Some(record) = record {
            let severity = match self.level("codelist.national") {
                Some(Level::Warning) => Some(Severity::Warning),
                Some(Level::Off) => None,
                _ => Some(Severity::Error),
            };
            if let Some(severity) = severity {
                for list in self.code_lists.iter().filter(|l| l.extends.is_none()) {
                    for p in &list.paths {
                        let segments: Vec<&str> = p.split('.').collect();
                        let mut at = String::from("$");
                        check_list(record, &segments, &mut at, list, severity, &mut out);
                    }
                }
            }
        }
        out
    }

    /// Whether a national list extending the issue's code list accepts the value it refused.
    fn extended(&self, issue: &Issue, record: &Value) -> bool {
        let mut lists = self.code_lists.iter().filter(|l| l.extends.as_deref() == Some(issue.rule.as_str())).peekable();
        if lists.peek().is_none() {
            return false;
        }
        let bare = strip_indexes(&issue.path);
        let Some(value) = value_at(record, &issue.path).and_then(Value::as_str) else { return false };
        lists.any(|l| l.paths.contains(&bare) && l.codes.binary_search_by(|c| c.as_str().cmp(value)).is_ok())
    }
}

fn check_list(
    v: &Value,
    rest: &[&str],
    at: &mut String,
    list: &NationalCodeList,
    severity: Severity,
    out: &mut Vec<Issue>,
) {
    match (v, rest) {
        (Value::Array(items), _) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                check_list(item, rest, at, list, severity, out);
                at.truncate(len);
            }
        }
        (Value::Object(map), [first, tail @ ..]) => {
            if let Some(child) = map.get(*first) {
                let len = at.len();
                at.push('.');
                at.push_str(first);
                check_list(child, tail, at, list, severity, out);
                at.truncate(len);
            }
        }
        (Value::String(s), []) if list.codes.binary_search_by(|c| c.as_str().cmp(s)).is_err() => {
            let shown = crate::check::display_value(s);
            let mut message = format!("{shown} is not in the national code list {}", list.name);
            if !list.description.is_empty() {
                message.push_str(&format!(" ({})", list.description));
            }
            if list.codes.len() <= 24 {
                message.push_str(&format!(": {}", list.codes.join(", ")));
            }
            out.push(Issue { path: at.clone(), rule: "codelist.national".to_owned(), message, severity });
        }
        _ => {}
    }
}

/// `$.A.B[2].C` → `A.B.C`.
fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut skip = false;
    for c in path.strip_prefix("$.").unwrap_or(path).chars() {
        match c {
            '[' => skip = true,
            ']' => skip = false,
            _ if !skip => out.push(c),
            _ => {}
        }
    }
    out
}

/// The value at a report's JSON path (`$.A.B[2].C`).
fn value_at<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = root;
    for seg in path.strip_prefix('$')?.split('.').filter(|s| !s.is_empty()) {
        let (name, indexes) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        v = v.get(name)?;
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            v = v.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_refuse_unknown_and_fixed_rules() {
        assert!(matches!(
            Profile::parse("name = \"x\"\n[rules]\n\"no.such\" = \"off\""),
            Err(ProfileError::UnknownRule(_))
        ));
        assert!(matches!(
            Profile::parse("name = \"x\"\n[rules]\n\"document.syntax\" = \"off\""),
            Err(ProfileError::FixedRule(_))
        ));
        assert!(matches!(Profile::parse("name = \"core\""), Err(ProfileError::ReservedName)));
        assert!(matches!(Profile::parse("name = \"a b\""), Err(ProfileError::Name(_))));
        assert!(matches!(
            Profile::parse("name = \"x\"\n[rules]\n\"dates.order\" = \"maybe\""),
            Err(ProfileError::Syntax(_))
        ));
        assert!(matches!(Profile::parse("{\"name\": \"x\", \"colour\": 1}"), Err(ProfileError::Syntax(_))));
        let p = Profile::parse("{\"name\": \"x\", \"rules\": {\"dates.order\": \"warning\"}}").expect("json profile");
        assert_eq!(p.level("dates.order"), Some(Level::Warning));
        assert_eq!(p.level("totals.packages"), Some(Level::Error));
        assert_eq!(p.level("nope"), None);
    }

    #[test]
    fn the_shipped_gb_profile_loads() {
        let p = Profile::parse(include_str!("../profiles/gb.toml")).expect("gb profile");
        assert_eq!(p.name, "gb");
        assert!(!p.code_lists.is_empty());
    }

    #[test]
    fn paths_and_values() {
        assert_eq!(
            strip_indexes("$.Declaration.GoodsShipment.GovernmentAgencyGoodsItem[1].Origin[0].TypeCode"),
            "Declaration.GoodsShipment.GovernmentAgencyGoodsItem.Origin.TypeCode"
        );
        let v = serde_json::json!({"A": {"B": [{"C": "x"}, {"C": "y"}]}});
        assert_eq!(value_at(&v, "$.A.B[1].C"), Some(&Value::String("y".into())));
        assert_eq!(value_at(&v, "$.A.B[2].C"), None);
    }
}
