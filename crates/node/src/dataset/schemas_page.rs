//! `GET /schemas`: the record types and links to their JSON Schemas.

use borderlink_model::{RecordType, SCHEMA_VERSION};
use maud::html;

use crate::console::{Page, layout};
use crate::principal::{Public, Require};
use crate::record_types;

pub(super) async fn page(_: Require<Public>) -> Page {
    layout(
        "Schemas",
        super::SCHEMAS,
        html! {
            section.panel {
                h1 { "Schemas" }
                p.lead {
                    "Each record type of the standardized dataset has a JSON Schema (draft 2020-12, "
                    "schema version " (SCHEMA_VERSION) ") generated from the same types the node "
                    "validates with. Partners can check documents with their own tools before sending them; "
                    "code lists and cross-field rules are checked by the node's validation only."
                }
                table #schemas .data {
                    thead {
                        tr { th scope="col" { "Record type" } th scope="col" { "Name" } th scope="col" { "What it holds" } th scope="col" { "JSON Schema" } }
                    }
                    tbody {
                        @for t in RecordType::ALL {
                            tr {
                                th scope="row" { (record_types::title(t)) }
                                td { code { (t.name()) } }
                                td { (record_types::summary(t)) }
                                td { a.schema-link href=(record_types::schema_path(t)) { "View JSON Schema" } }
                            }
                        }
                    }
                }
            }
        },
    )
}
