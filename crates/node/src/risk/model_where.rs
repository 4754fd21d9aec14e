//! Where each node of the consortium runs which risk model. When a model is activated in the
//! console, the node announces it on the ledger — a `document` record of its member,
//! `document:{member}:risk-model-active`, a new version at each activation — so that every
//! node's model page lists, per customs administration, the version it runs and since when, and
//! marks those that run the same model as this node. The model file itself stays with each node:
//! a version (`name@hash`) names its content, so the same version is the same model.

use borderlink_ledger::Ledger;
use borderlink_ledger::identity::Role;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ordering::LedgerService;

/// The name of the announcement document.
const DOCUMENT: &str = "risk-model-active";
/// Its format.
const FORMAT: &str = "borderlink-risk-model-active/1";

/// What a node announces when it activates a model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Announcement {
    format: String,
    /// The model version (`name@hash`).
    version: String,
    /// When it was activated (ISO 8601).
    activated_at: String,
}

/// Records on the ledger that this node now runs `version`.
pub(super) async fn announce(ledger: &LedgerService, version: &str, at: &str, now_ms: i64) -> Result<(), ApiError> {
    let a = Announcement { format: FORMAT.into(), version: version.into(), activated_at: at.into() };
    let payload = serde_json::to_vec(&a).map_err(|e| ApiError::Internal(e.to_string()))?;
    let nonce = {
        use rand_core::RngCore;
        rand_core::OsRng.next_u64()
    };
    let tx = ledger.ledger().document_by_local(DOCUMENT, &payload, nonce, now_ms).map_err(ApiError::Ledger)?;
    ledger.submit(tx).await.map_err(ApiError::Tx)?;
    Ok(())
}

/// Each customs administration of the consortium with the model it announced (none: it has not
/// activated one from its console).
pub(super) fn consortium(ledger: &Ledger) -> Vec<(String, String, Option<Announcement>)> {
    ledger
        .members()
        .into_iter()
        .filter(|m| m.role == Role::Customs)
        .map(|m| {
            let id = borderlink_ledger::meta::compose_id("document", &m.id, DOCUMENT);
            let announced = ledger
                .record(&id)
                .ok()
                .flatten()
                // Only the member itself signs its announcement.
                .filter(|v| v.submitter == m.id)
                .and_then(|v| v.payload)
                .and_then(|p| serde_json::from_value::<Announcement>(p).ok())
                .filter(|a| a.format == FORMAT);
            (m.id, m.name, announced)
        })
        .collect()
}

/// The panel of the model page: where each version runs.
pub(super) fn panel(
    rows: &[(String, String, Option<Announcement>)],
    here: Option<&str>,
    current: Option<&str>,
) -> Markup {
    html! {
        section.panel #model-consortium {
            h2 { "Across the consortium" }
            p.hint { "The model each customs administration's node activated from its console, as announced on the ledger." }
            div.table-wrap {
                table.data {
                    caption.sr-only { "Active risk model per customs administration" }
                    thead { tr { th scope="col" { "Administration" } th scope="col" { "Model" } th scope="col" { "Since" } th scope="col" { "Same as this node" } } }
                    tbody {
                        @for (id, name, a) in rows {
                            tr data-member=(id) {
                                th scope="row" { (name) @if here == Some(id.as_str()) { " (this node)" } }
                                @match a {
                                    Some(a) => {
                                        td { code.model-version { (a.version) } }
                                        td { (crate::console::format::when_iso(&a.activated_at)) }
                                        td { @if current == Some(a.version.as_str()) { "yes" } @else { "no" } }
                                    }
                                    None => { td colspan="3" { "no model announced" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
