//! Paging and stable filter URLs for the console's lists: a list's address holds its filters
//! and page in the query string, so it can be bookmarked, shared and reloaded as it was.

use maud::{Markup, html};

/// A query string built from `pairs` (empty values left out), percent-encoded, after `base`.
pub(crate) fn href(base: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", borderlink_ledger::auth::path_segment(v)))
        .collect();
    if query.is_empty() { base.to_owned() } else { format!("{base}?{}", query.join("&")) }
}

/// A page number from the query (`1` when absent or not a number ≥ 1).
pub(crate) fn page_of(v: Option<&str>) -> usize {
    v.and_then(|p| p.trim().parse::<usize>().ok()).filter(|p| *p >= 1).unwrap_or(1)
}

/// The slice of `total` items shown on `page` (from 1) of `per`: (start, end).
pub(crate) fn window(page: usize, per: usize, total: usize) -> (usize, usize) {
    let start = page.saturating_sub(1).saturating_mul(per).min(total);
    (start, start.saturating_add(per).min(total))
}

/// "Showing 21–40 of 57 records", with previous and next links that keep the filters
/// (`pairs`) and change only `param`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pager(
    id: &str,
    base: &str,
    pairs: &[(&str, String)],
    param: &'static str,
    page: usize,
    per: usize,
    total: usize,
    noun: &str,
) -> Markup {
    let (start, end) = window(page, per, total);
    let link = |p: usize| {
        let mut all: Vec<(&str, String)> = pairs.iter().filter(|(k, _)| *k != param).cloned().collect();
        if p > 1 {
            all.push((param, p.to_string()));
        }
        href(base, &all)
    };
    html! {
        nav.pager id=(id) aria-label={"Pages of " (noun)} {
            span.count {
                @if total == 0 { "0 " (noun) } @else { "Showing " (start + 1) "–" (end) " of " (total) " " (noun) }
            }
            @if page > 1 { " " a.prev rel="prev" href=(link(page - 1)) { "← Previous" } }
            @if end < total { " " a.next rel="next" href=(link(page + 1)) { "Next →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_leave_out_empty_ones() {
        let pairs = [("type", "declaration".to_owned()), ("member", String::new()), ("from", "2026-01-01".to_owned())];
        assert_eq!(href("/ledger", &pairs), "/ledger?type=declaration&from=2026-01-01");
        let html = pager("p", "/ledger", &pairs, "page", 2, 10, 25, "records").into_string();
        assert!(html.contains("Showing 11–20 of 25 records"), "{html}");
        assert!(html.contains(r#"href="/ledger?type=declaration&amp;from=2026-01-01""#), "{html}");
        assert!(html.contains(r#"href="/ledger?type=declaration&amp;from=2026-01-01&amp;page=3""#), "{html}");
        assert_eq!(window(9, 10, 25), (25, 25));
        assert_eq!(page_of(Some("x")), 1);
    }
}
