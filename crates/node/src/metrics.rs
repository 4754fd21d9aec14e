//! Prometheus metrics at `GET /metrics`: requests, commits, rejections by reason, commit latency.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once (later calls, e.g. from tests, reuse it).
pub(crate) fn install() {
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok());
}

/// The metrics in the Prometheus text format.
pub(crate) async fn render() -> String {
    HANDLE.get().and_then(|h| h.as_ref()).map(PrometheusHandle::render).unwrap_or_default()
}
