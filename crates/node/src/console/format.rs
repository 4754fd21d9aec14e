//! How the console writes the values every page shows: dates, codes of the code lists and long
//! paths. One helper per kind, so that each looks and behaves the same on every page.
//!
//! - [`when`]: a `<time>` element. The server writes UTC in a readable form with the ISO 8601
//!   value in `datetime` and `title`; `console.js` rewrites the text to the reader's own time zone
//!   (the ISO value stays on hover). Without script the page still says UTC, never a bare number.
//! - [`code`]: a code of a code list in an `<abbr>` whose title is what it means (a country's
//!   name, an HS subheading's description, a currency, a UN/LOCODE location).
//! - [`path`]: a JSON pointer, record id or hash that may break after its separators, so that a
//!   long one wraps instead of widening the page.

use borderlink_model::codelists;
use maud::{Markup, html};

/// A point in time (milliseconds since the Unix epoch, UTC), e.g.
/// `<time datetime="2026-03-02T09:30:00Z" title="2026-03-02T09:30:00Z">2026-03-02 09:30:00 UTC</time>`.
pub(crate) fn when(ms: i64) -> Markup {
    let iso = borderlink_model::datetime::format_unix_ms(ms);
    html! { time datetime=(iso) title=(iso) { (readable(&iso)) } }
}

/// A point in time given as ISO 8601 text (as some records carry it), shown as [`when`] does; text
/// that is not an ISO 8601 date-time is written as it is.
pub(crate) fn when_iso(iso: &str) -> Markup {
    match borderlink_model::datetime::parse(iso) {
        Some(seconds) => when(seconds.saturating_mul(1000)),
        None => html! { (iso) },
    }
}

/// An ISO 8601 UTC time (`…T…Z`) as people read it without script: `2026-03-02 09:30:00 UTC`.
fn readable(iso: &str) -> String {
    match iso.strip_suffix('Z') {
        Some(rest) => format!("{} UTC", rest.replacen('T', " ", 1)),
        None => iso.to_owned(),
    }
}

/// The code lists whose codes [`code`] explains.
// `Currency` is explained through `describe` (amounts carry their currency beside the value).
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// ISO 3166-1 alpha-2.
    Country,
    /// Harmonized System: a chapter, heading, subheading or a national code starting with one.
    Hs,
    /// ISO 4217.
    Currency,
    /// UN/LOCODE.
    Locode,
}

/// A code with what it means on hover (`<abbr title="…">`); a code the list does not know is
/// written plainly, in `<code>`, and says so on hover.
pub(crate) fn code(kind: Code, value: &str) -> Markup {
    match describe(kind, value) {
        Some(meaning) => html! { abbr.code title=(meaning) { (value) } },
        None => html! { code.code title="not in the code list" { (value) } },
    }
}

/// What a code means, from the code lists compiled into the model.
pub(crate) fn describe(kind: Code, value: &str) -> Option<String> {
    let value = value.trim();
    match kind {
        Code::Country => codelists::country_name(value).map(str::to_owned),
        Code::Currency => codelists::currency_name(value).map(str::to_owned),
        Code::Locode => codelists::locode_name(value).map(|name| match codelists::country_name(&value[..2]) {
            Some(country) => format!("{name}, {country}"),
            None => name.to_owned(),
        }),
        Code::Hs => hs(value),
    }
}

/// An HS code's description: its subheading's, or for a heading or chapter (which the carried
/// list has no text for) the first subheading's subject and how many subheadings it holds.
fn hs(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(|c| *c != '.' && *c != ' ').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() >= 6 {
        return codelists::hs_subheading(&digits[..6]).map(|d| format!("HS {}: {d}", &digits[..6]));
    }
    let level = match digits.len() {
        2 => "chapter",
        4 => "heading",
        _ => return None,
    };
    let mut under = codelists::hs_subheadings_under(&digits);
    let (_, first) = under.next()?;
    let subject = first.split(';').next().unwrap_or(first).trim();
    let count = 1 + under.count();
    Some(format!("HS {level} {digits}: {subject} … ({count} subheadings)"))
}

/// A long identifier (JSON pointer, record id, hash) in `<code>`, with a break opportunity
/// (`<wbr>`) after each `/`, `.`, `:` and after every 16 characters of a long run, so that it
/// wraps at its separators instead of overflowing the page.
pub(crate) fn path(value: &str) -> Markup {
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut run_len = 0;
    for c in value.chars() {
        run.push(c);
        run_len += 1;
        if matches!(c, '/' | '.' | ':' | '_' | '-') || run_len >= 16 {
            parts.push(std::mem::take(&mut run));
            run_len = 0;
        }
    }
    if !run.is_empty() {
        parts.push(run);
    }
    html! {
        code.path {
            @for (i, p) in parts.iter().enumerate() {
                @if i > 0 { wbr; }
                (p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_utc_without_script_and_iso_on_hover() {
        let html = when(1_772_443_800_000).into_string();
        assert_eq!(
            html,
            r#"<time datetime="2026-03-02T09:30:00Z" title="2026-03-02T09:30:00Z">2026-03-02 09:30:00 UTC</time>"#
        );
    }

    #[test]
    fn an_iso_time_reads_as_a_time_and_other_text_stays_as_it_is() {
        assert_eq!(when_iso("2026-03-02T10:30:00+01:00").into_string(), when(1_772_443_800_000).into_string());
        assert_eq!(when_iso("yesterday <b>").into_string(), "yesterday &lt;b&gt;");
    }

    #[test]
    fn codes_say_what_they_mean() {
        assert_eq!(code(Code::Country, "NL").into_string(), r#"<abbr class="code" title="Netherlands">NL</abbr>"#);
        assert!(code(Code::Currency, "EUR").into_string().contains(r#"title="Euro""#));
        assert!(code(Code::Locode, "NLRTM").into_string().contains(r#"title="Rotterdam, Netherlands""#));
        let hs6 = describe(Code::Hs, "847130").expect("a subheading");
        assert!(hs6.starts_with("HS 847130: "), "{hs6}");
        assert_eq!(describe(Code::Hs, "84713000"), Some(hs6), "a national code reads its subheading");
        let heading = describe(Code::Hs, "0101").expect("a heading");
        assert_eq!(heading, "HS heading 0101: Horses … (4 subheadings)");
        assert!(describe(Code::Hs, "01").is_some_and(|c| c.starts_with("HS chapter 01: ")));
        let unknown = code(Code::Country, "<X>").into_string();
        assert_eq!(unknown, r#"<code class="code" title="not in the code list">&lt;X&gt;</code>"#);
        assert_eq!(describe(Code::Hs, "84a"), None);
    }

    #[test]
    fn paths_break_after_their_separators() {
        let html = path("/Declaration/GoodsShipment").into_string();
        assert_eq!(html, r#"<code class="path">/<wbr>Declaration/<wbr>GoodsShipment</code>"#);
        let hash = path(&"ab".repeat(20)).into_string();
        assert_eq!(hash.matches("<wbr>").count(), 2, "{hash}");
        assert_eq!(path("<a>").into_string(), r#"<code class="path">&lt;a&gt;</code>"#);
    }
}
