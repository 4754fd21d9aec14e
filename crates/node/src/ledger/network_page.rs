//! `GET /network`: the consortium's ordering nodes as this node sees them — which one leads, in
//! which term, each node's height, and whether its signed block hashes agree with this node's.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout;
use crate::principal::{ReadLedger, Require};
use crate::server::SharedState;

pub(super) async fn page(
    _: Require<ReadLedger>,
    super::console::ConsoleLedger(ledger): super::console::ConsoleLedger,
    State(state): State<SharedState>,
) -> Response {
    let head = ledger.head();
    let status = state.ledger.as_ref().and_then(|s| s.cluster()).map(|c| c.status());
    layout(
        "Network",
        super::NETWORK,
        html! {
            section.panel {
                h1 { "Network" }
                p.lead { "The consortium's ordering nodes: each keeps its own copy of the ledger, re-validates every transaction, and signs the hash of every block it commits. Block hashes are compared between nodes every second." }
                @match &status {
                    None => {
                        p #solo { "This node keeps its ledger alone (no replication configured): height " (head.as_ref().map_or(0, |h| h.height)) "." }
                    }
                    Some(s) => {
                        dl.facts {
                            dt { "This node" } dd #this-node { "node " (s.node_id) " (" (s.state) ")" }
                            dt { "Leader" } dd #leader { @match s.leader { Some(l) => { "node " (l) }, None => { "none elected (no quorum)" } } }
                            dt { "Term" } dd #term { (s.term) }
                            dt { "Log" } dd { "last index " (s.last_log_index.unwrap_or(0)) ", applied " (s.applied_index.unwrap_or(0)) ", snapshot at " (s.snapshot_index.unwrap_or(0)) ", purged up to " (s.purged_index.unwrap_or(0)) }
                            @if s.isolated { dt { "Fault switch" } dd { "cut off from its peers" } }
                        }
                        @let divergent: Vec<_> = s.nodes.iter().filter(|n| n.diverged_at.is_some()).collect();
                        @if divergent.is_empty() {
                            p #agreement { "Checkpoint agreement: every node that reported signed the same block hashes as this node." }
                        } @else {
                            @for n in &divergent {
                                p.alert.alert-error role="alert" { "Divergence: node " (n.id) " (" (n.member) ") signed a different block hash at height " (n.diverged_at.unwrap_or(0)) "." }
                            }
                        }
                        table.data #nodes {
                            thead { tr { th { "Node" } th { "Member" } th { "Role" } th { "API" } th { "Height" } th { "Checkpoints agree up to" } th { "Divergence" } th { "Last exchange" } } }
                            tbody {
                                @for n in &s.nodes {
                                    tr data-node=(n.id) {
                                        td { (n.id) @if n.this_node { " (this node)" } }
                                        td { (n.member) }
                                        td { @if n.leader { strong { "leader" } } @else if n.voter { "voter" } @else { "learner" } }
                                        td { (n.api_url) }
                                        td.height { (n.height.map_or("—".to_owned(), |h| h.to_string())) }
                                        td.agreed { @if n.this_node { "—" } @else { (n.agreed_height.map_or("not yet compared".to_owned(), |h| h.to_string())) } }
                                        td.diverged { @match n.diverged_at { Some(h) => { span.badge.diverged { "at height " (h) } }, None => { "none" } } }
                                        td { @if n.this_node { "—" } @else { (n.last_contact_ms.map_or("never".to_owned(), |ms| format!("{:.1} s ago", ms as f64 / 1000.0))) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}
