//! `GET /` and `POST /validate`: paste or upload a document, see its validation report.
//!
//! The form posts `multipart/form-data` with three fields: `text` (the text area), `document`
//! (the file input) and `type` (record type, `auto` by default). A chosen file wins over the
//! text area. The report is rendered on the server, so the page works without JavaScript.

use axum::body::Bytes;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use borderlink_model::{InputFormat, Issue, Quality, RecordType, Report};
use maud::{Markup, html};

use crate::console::{Page, layout};
use crate::error::{ApiError, ErrorCode};
use crate::principal::{Public, Require};
use crate::server::SharedState;
use crate::{record_types, validation};

/// What the user sent, kept to fill the form again.
#[derive(Debug, Default)]
struct Form {
    text: String,
    file: Option<Upload>,
    record_type: String,
}

#[derive(Debug)]
struct Upload {
    name: String,
    bytes: Bytes,
}

/// Where the validated document came from, for the report's heading.
enum Source<'a> {
    File(&'a str),
    Text,
}

pub(super) async fn page(_: Require<Public>) -> Page {
    render(&Form::default(), None, None)
}

pub(super) async fn submit(
    _: Require<Public>,
    State(state): State<SharedState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Page {
    let limit = state.max_body_bytes;
    let mut form = Form::default();
    let read = match multipart {
        Ok(multipart) => read_form(multipart, &mut form, limit).await,
        Err(rejection) => Err(ApiError::InvalidMultipart(rejection.body_text())),
    };
    if let Err(e) = read {
        return error_page(&form, &e);
    }
    let record_type = match record_types::parse(Some(&form.record_type)) {
        Ok(t) => t,
        Err(e) => return error_page(&form, &e),
    };
    let (document, source) = match &form.file {
        Some(upload) => (upload.bytes.clone(), Source::File(&upload.name)),
        None if !form.text.trim().is_empty() => (Bytes::from(form.text.clone()), Source::Text),
        None => return error_page(&form, &ApiError::MissingDocument),
    };
    let size = document.len();
    let profile = match state.service::<validation::Profiles>().and_then(|p| p.get(None)) {
        Ok(p) => p,
        Err(e) => return error_page(&form, &e),
    };
    match validation::validate(document, record_type, limit, profile).await {
        Ok(report) => render(&form, None, Some((&report, &source, size))),
        Err(e) => error_page(&form, &e),
    }
}

fn error_page(form: &Form, error: &ApiError) -> Page {
    render(form, Some(error), None).with_status(error.error_code().status())
}

/// Reads the form's fields into `form`, keeping what was read so far when a later part fails.
async fn read_form(mut multipart: Multipart, form: &mut Form, limit: usize) -> Result<(), ApiError> {
    let field_error = |e: MultipartError| {
        let text = e.body_text();
        match crate::error::body_rejection(e.status(), text, limit) {
            ApiError::BadRequest(text) => ApiError::InvalidMultipart(text),
            other => other,
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        match field.name() {
            Some("text") => form.text = field.text().await.map_err(field_error)?,
            Some("type") => form.record_type = field.text().await.map_err(field_error)?,
            Some("document") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(field_error)?;
                // Browsers send an empty part when no file was chosen.
                if !name.is_empty() || !bytes.is_empty() {
                    form.file = Some(Upload { name, bytes });
                }
            }
            // Unknown fields are ignored: they cannot change what is validated.
            _ => {}
        }
    }
    Ok(())
}

fn render(form: &Form, error: Option<&ApiError>, report: Option<(&Report, &Source<'_>, usize)>) -> Page {
    let title = match report {
        Some((r, _, _)) if r.valid => "Valid document",
        Some(_) => "Invalid document",
        None => "Validate",
    };
    layout(
        title,
        super::VALIDATE,
        html! {
            (form_panel(form, error))
            @if let Some((report, source, size)) = report {
                (report_panel(report, source, size))
            }
        },
    )
}

fn form_panel(form: &Form, error: Option<&ApiError>) -> Markup {
    let selected = record_types::parse(Some(&form.record_type)).ok().flatten();
    html! {
        section.panel {
            h1 { "Validate a document" }
            p.lead {
                "Check a goods declaration, AEO authorisation, transport movement or inspection result "
                "against the Borderlink standardized dataset (WCO Data Model): structure, formats, "
                "code lists and business rules. Every error is reported at once, with its path."
            }
            @if let Some(error) = error {
                div #form-error .alert.alert-error role="alert" {
                    strong { "The document was not validated. " }
                    (error.to_string())
                }
            }
            form #validate-form method="post" action="/validate" enctype="multipart/form-data" {
                div.field {
                    label for="type" { "Record type" }
                    select #type name="type" {
                        option value=(record_types::AUTO) selected[selected.is_none()] { "Detect from the document" }
                        @for t in RecordType::ALL {
                            option value=(t.name()) selected[selected == Some(t)] { (record_types::title(t)) }
                        }
                    }
                }
                div.field {
                    label for="text" { "Paste a document" span.hint { " JSON or WCO DM XML" } }
                    textarea #text name="text" rows="14" spellcheck="false" autocomplete="off"
                        placeholder="{ \"Declaration\": { … } }  or  <Declaration xmlns=\"urn:wco:datamodel:WCO:DEC-DMS:2\">…" {
                        (form.text)
                    }
                }
                div.field {
                    label for="document" { "…or upload a file" span.hint { " a chosen file is validated instead of the text" } }
                    input #document type="file" name="document" accept=".json,.xml,application/json,application/xml,text/xml";
                    p #document-info .hint aria-live="polite" {}
                }
                div.actions {
                    button #validate-submit .button.primary type="submit" { "Validate" }
                    // Wired by console.js; hidden without script, where it could not clear the file input.
                    button #clear .button type="button" hidden { "Clear" }
                }
            }
        }
    }
}

fn report_panel(report: &Report, source: &Source<'_>, size: usize) -> Markup {
    let status = if report.valid { "valid" } else { "invalid" };
    html! {
        section #report .panel aria-labelledby="report-heading" {
            h2 #report-heading { "Validation report" }
            div #report-status .status.(status) role="status" {
                strong.status-label { @if report.valid { "Valid" } @else { "Invalid" } }
                span.status-counts {
                    (count(report.errors.len(), "error")) ", " (count(report.warnings.len(), "warning"))
                    @if !report.valid { ": this document would be refused; correct the errors below." }
                }
            }
            dl.facts {
                dt { "Record type" }
                dd #report-record-type {
                    @match report.record_type {
                        Some(t) => { (record_types::title(t)) " " code { (t.name()) } }
                        None => { "not recognised" }
                    }
                }
                dt { "Format" }
                dd #report-format { (format_name(report.format)) }
                dt { "Document" }
                dd #report-source {
                    @match source {
                        Source::File(name) => { "file " code { (name) } }
                        Source::Text => { "pasted text" }
                    }
                    ", " (count(size, "byte"))
                }
            }
            h3 { "Errors " span.badge { (report.errors.len()) } }
            (issues_table("errors", "No errors.", &report.errors))
            h3 { "Warnings " span.badge { (report.warnings.len()) } }
            (issues_table("warnings", "No warnings.", &report.warnings))
            // After the errors: completeness is not validity, and must not read as good news
            // about a document that would be refused.
            @if let Some(quality) = &report.quality {
                (quality_panel(quality, report.valid))
            }
        }
    }
}

/// One row per issue; the table stays in the page (hidden) when empty, so its id is stable.
fn issues_table(id: &str, empty: &str, issues: &[Issue]) -> Markup {
    html! {
        div.table-wrap {
            table.data.issues id=(id) hidden[issues.is_empty()] {
                thead { tr { th scope="col" { "Path" } th scope="col" { "Rule" } th scope="col" { "Message" } } }
                tbody {
                    @for issue in issues {
                        tr {
                            td.issue-path { (crate::console::format::path(&issue.path)) }
                            td.issue-rule { code { (issue.rule) } }
                            td.issue-message { (issue.message) }
                        }
                    }
                }
            }
        }
        @if issues.is_empty() {
            p.none { (empty) }
        }
    }
}

/// The completeness score: how many of the elements risk analysis reads are present. It says
/// nothing of whether they are correct (that is validity), so for an invalid document it says so.
fn quality_panel(quality: &Quality, valid: bool) -> Markup {
    let percent = (quality.score.clamp(0.0, 1.0) * 100.0).round();
    html! {
        div #quality .quality.invalid-document[!valid] {
            h3 { "Completeness (data quality)" }
            p.hint {
                "Completeness counts which of the elements risk analysis uses are present, most of "
                "them optional in the data model. It is separate from validity: it says nothing of "
                "whether those elements are correct."
            }
            @if !valid {
                p #quality-invalid .alert.alert-error {
                    "This document is invalid, whatever its completeness: its errors above must be corrected first."
                }
            }
            p {
                strong #quality-score { (percent) " %" }
                " of the elements risk analysis uses are present ("
                (quality.present) " of " (quality.expected) ")."
            }
            meter min="0" max="100" low="50" high="90" optimum="100" value=(percent) { (percent) " %" }
            @if !quality.missing.is_empty() {
                details #missing {
                    summary { "Missing elements " span.badge { (quality.missing.len()) } }
                    ul.missing {
                        @for path in &quality.missing {
                            li { (crate::console::format::path(path)) }
                        }
                    }
                }
            }
        }
    }
}

fn format_name(format: InputFormat) -> &'static str {
    match format {
        InputFormat::Json => "JSON",
        InputFormat::Xml => "WCO DM XML",
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use borderlink_model::Severity;

    use super::*;

    fn issue(path: &str) -> Issue {
        Issue {
            path: path.into(),
            rule: "codelist.country".into(),
            message: "<b>bad</b>".into(),
            severity: Severity::Error,
        }
    }

    #[test]
    fn issues_render_one_row_each_and_escape_text() {
        let html = issues_table("errors", "No errors.", &[issue("$.a"), issue("$.b[0]")]).into_string();
        assert_eq!(html.matches("<td class=\"issue-path\">").count(), 2);
        assert!(html.contains("&lt;b&gt;bad&lt;/b&gt;"));
        assert!(!html.contains("<b>bad</b>"));
        assert!(!html.contains("hidden"));
    }

    #[test]
    fn empty_issue_table_is_hidden_with_a_note() {
        let html = issues_table("warnings", "No warnings.", &[]).into_string();
        assert!(html.contains("id=\"warnings\" hidden"));
        assert!(html.contains("No warnings."));
    }

    #[test]
    fn completeness_of_an_invalid_document_is_not_good_news() {
        let quality = Quality { score: 1.0, present: 3, expected: 3, missing: vec![] };
        let invalid = quality_panel(&quality, false).into_string();
        assert!(invalid.contains("quality-invalid") && invalid.contains("separate from validity"), "{invalid}");
        assert!(!quality_panel(&quality, true).into_string().contains("quality-invalid"));
    }

    #[test]
    fn counts_are_singular_or_plural() {
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(0, "error"), "0 errors");
    }
}
