//! Prometheus metrics: requests, commits, rejections by reason, commit latency — served at
//! `GET /metrics` on a listener of their own (`metrics_listen`, off by default; loopback is the
//! intended address), never on the API listener, which members and browsers reach.
//!
//! Per node: the `metrics` crate has one recorder per process, and several nodes may share a
//! process (the demo runs three). So every metric carries a `node` label (the node's member id,
//! [`NODE`]), set where it is recorded, and a node's listener serves only the samples labelled
//! with its own member: nothing is summed across nodes, nor shown to another node's scraper.

use std::sync::OnceLock;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::server::AppState;

/// The label naming the node a sample belongs to.
pub(crate) const NODE: &str = "node";

/// The label value of a node without a ledger (it has no member id).
const NO_MEMBER: &str = "-";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once (later calls, e.g. from tests, reuse it).
pub(crate) fn install() {
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok());
}

/// The `node` label of a ledger's metrics: its member id.
pub(crate) fn node_of(ledger: &borderlink_ledger::Ledger) -> String {
    ledger.local_member().unwrap_or(NO_MEMBER).to_owned()
}

/// The `node` label of this node's metrics.
pub(crate) fn node_label(state: &AppState) -> String {
    state.ledger.as_ref().map_or_else(|| NO_MEMBER.to_owned(), |l| node_of(l.ledger()))
}

/// This node's metrics in the Prometheus text format.
pub(crate) fn render(node: &str) -> String {
    let all = HANDLE.get().and_then(|h| h.as_ref()).map(PrometheusHandle::render).unwrap_or_default();
    only_node(&all, node)
}

/// Serves `GET /metrics` (and nothing else) on `listener` until aborted.
pub(crate) fn serve(listener: TcpListener, node: String) -> tokio::task::JoinHandle<()> {
    install();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving metrics");
    }
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let text = render(&node);
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
        }),
    );
    let router =
        router.fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics is served here\n").into_response() });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    })
}

/// The samples of the Prometheus text `all` whose `node` label is `node`, each with the `# HELP`
/// and `# TYPE` lines of its family (families without such a sample are left out).
fn only_node(all: &str, node: &str) -> String {
    let label = format!("{NODE}=\"{node}\"");
    let mut out = String::new();
    let mut comments = String::new();
    for line in all.lines() {
        if line.starts_with('#') {
            // A family's comments: `# HELP name …` then `# TYPE name …`; any other comment
            // starts afresh.
            let family = |l: &str| l.split(' ').nth(2).map(str::to_owned);
            let after_its_help =
                line.starts_with("# TYPE ") && comments.starts_with("# HELP ") && family(&comments) == family(line);
            if !after_its_help {
                comments.clear();
            }
            comments.push_str(line);
            comments.push('\n');
            continue;
        }
        let labels = line.split_once('{').and_then(|(_, rest)| rest.rsplit_once('}')).map(|(l, _)| l);
        let ours = labels.is_some_and(|l| split_labels(l).any(|kv| kv == label));
        if ours {
            out.push_str(&comments);
            comments.clear();
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The `name="value"` pairs of a label set (values may hold escaped quotes and commas).
fn split_labels(labels: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    let mut cuts = Vec::new();
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                cuts.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    cuts.push(&labels[start..]);
    cuts.into_iter().map(str::trim).filter(|kv| !kv.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE borderlink_ledger_blocks_total counter\n\
        borderlink_ledger_blocks_total{node=\"gb-hmrc\"} 3\n\
        borderlink_ledger_blocks_total{node=\"nl-douane\"} 5\n\
        \n\
        # HELP borderlink_checkpoint_agreed_height agreed\n\
        # TYPE borderlink_checkpoint_agreed_height gauge\n\
        borderlink_checkpoint_agreed_height{node=\"nl-douane\",peer=\"gb-hmrc\"} 2\n\
        # TYPE borderlink_ledger_commit_seconds summary\n\
        borderlink_ledger_commit_seconds{node=\"gb-hmrc\",quantile=\"0.5\"} 0.01\n\
        borderlink_ledger_commit_seconds_sum{node=\"gb-hmrc\"} 0.2\n\
        borderlink_ledger_commit_seconds_count{peer=\"x,node=\\\"gb-hmrc\\\"\",node=\"nl-douane\"} 20\n";

    #[test]
    fn a_node_sees_only_its_own_samples_with_their_families() {
        let gb = only_node(TEXT, "gb-hmrc");
        assert_eq!(
            gb,
            "# TYPE borderlink_ledger_blocks_total counter\n\
             borderlink_ledger_blocks_total{node=\"gb-hmrc\"} 3\n\
             # TYPE borderlink_ledger_commit_seconds summary\n\
             borderlink_ledger_commit_seconds{node=\"gb-hmrc\",quantile=\"0.5\"} 0.01\n\
             borderlink_ledger_commit_seconds_sum{node=\"gb-hmrc\"} 0.2\n"
        );
        let nl = only_node(TEXT, "nl-douane");
        assert!(nl.contains("# HELP borderlink_checkpoint_agreed_height agreed\n# TYPE"), "{nl}");
        assert!(nl.contains("_count{peer=\"x,node=\\\"gb-hmrc\\\"\",node=\"nl-douane\"} 20"), "{nl}");
        assert!(!nl.contains("} 3\n"), "{nl}");
        assert_eq!(only_node(TEXT, "other"), "");
    }
}
