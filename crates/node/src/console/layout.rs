//! The frame every console page shares: header with the product name and navigation, a main
//! area, a footer; and the security headers every page is sent with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// A console section: the navigation entry marked as current on a page. Each capability
/// declares its own (e.g. `crate::risk::QUEUE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Section(pub(crate) &'static str);

impl Section {
    /// A page outside the navigation (e.g. "not found").
    pub(crate) const OTHER: Section = Section("");
}

/// Assets are referenced, never inlined, so that the policy can forbid inline script and style.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A rendered console page and its status.
#[derive(Debug)]
pub(crate) struct Page {
    status: StatusCode,
    html: Markup,
}

impl Page {
    /// The same page with another status (e.g. 400 for a form with an error).
    pub(crate) fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.html).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }
}

/// Wraps a page body in the shared frame. `section` marks the current navigation entry.
pub(crate) fn layout(title: &str, section: Section, body: Markup) -> Page {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Borderlink" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/assets/console.css";
                script type="module" src="/assets/console.js" {}
            }
            body {
                a.skip-link href="#main" { "Skip to content" }
                header.site-header {
                    div.container.header-inner {
                        a.brand href="/" {
                            span.brand-mark aria-hidden="true" { "B" }
                            span.brand-name { "Borderlink" }
                        }
                        nav.site-nav aria-label="Main" {
                            ul {
                                @for entry in crate::capability::navigation() {
                                    li {
                                        a href=(entry.href) aria-current=[(entry.section == section).then_some("page")] { (entry.label) }
                                    }
                                }
                            }
                        }
                        @if super::csrf::in_session() {
                            form.site-search #site-search role="search" method="get" action="/search" {
                                label.sr-only for="site-search-q" { "Search the records" }
                                input #site-search-q type="search" name="q" maxlength="200" required
                                    placeholder="LRN, trader id, HS code, container, seal…";
                                button type="submit" { "Search" }
                            }
                        }
                    }
                }
                main #main .container {
                    (body)
                }
                footer.site-footer {
                    div.container {
                        p {
                            "Borderlink " (env!("CARGO_PKG_VERSION"))
                            " · records aligned with the WCO Data Model · "
                            a href="/api/openapi.json" { "OpenAPI" }
                            " · "
                            a href="/healthz" { "Health" }
                        }
                        @if super::csrf::in_session() {
                            form.purpose #purpose-form method="post" action="/session/purpose" {
                                (super::csrf::field())
                                input type="hidden" name="back" value=(super::csrf::current_page());
                                label for="session-purpose" { "Reading for" }
                                select #session-purpose name="purpose" {
                                    @for (name, meaning) in borderlink_ledger::read_policy::PURPOSES {
                                        option value=(name) title=(meaning) selected[super::csrf::current_purpose().as_deref() == Some(*name)] { (name) }
                                    }
                                }
                                button type="submit" { "Change purpose" }
                            }
                        }
                        form.logout method="post" action="/logout" {
                            (super::csrf::field())
                            button type="submit" { "Log out" }
                        }
                    }
                }
            }
        }
    };
    Page { status: StatusCode::OK, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(section: Section) -> String {
        let page = layout("Title <x>", section, html! { p { "body" } });
        page.html.into_string()
    }

    #[test]
    fn current_section_is_marked_in_the_nav() {
        let html = render(crate::dataset::SCHEMAS);
        assert!(html.contains(r#"<a href="/schemas" aria-current="page">Schemas</a>"#), "{html}");
        assert_eq!(html.matches("aria-current").count(), 1);
        assert_eq!(render(Section::OTHER).matches("aria-current").count(), 0);
    }

    #[test]
    fn title_is_escaped() {
        assert!(render(crate::dataset::VALIDATE).contains("<title>Title &lt;x&gt; · Borderlink</title>"));
    }
}
