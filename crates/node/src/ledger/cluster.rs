//! The replication endpoints: this node's view of the Raft group, and the fault switch that the
//! fault tests use (refused unless the node was started with `[cluster] faults = true`).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::error::ApiError;
use crate::principal::{OperateNode, ReadLedger, Require};
use crate::raft::ClusterStatus;
use crate::server::SharedState;

fn cluster(state: &SharedState) -> Result<&std::sync::Arc<crate::raft::Cluster>, ApiError> {
    state.ledger.as_ref().ok_or(ApiError::LedgerDisabled)?.cluster().ok_or(ApiError::ClusterDisabled)
}

/// `GET /api/v1/cluster`: role, term, leader, log positions, and every node with its height and
/// checkpoint agreement as this node sees it.
#[utoipa::path(get, path = "/api/v1/cluster", tag = "replication",
    responses(
        (status = 200, description = "This node's Raft state (`state`, `term`, `leader`, log indexes, `voters`, `learners`) and every node with its height, the height up to which its signed block hashes agree with this node's, and the first height where they differ", body = Object),
        (status = 401, description = "No valid member signature or console session", body = crate::error::ErrorBody),
        (status = 404, description = "The node keeps its ledger alone (`cluster_disabled`) or has none", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn status(
    _: Require<ReadLedger>,
    State(state): State<SharedState>,
) -> Result<Json<ClusterStatus>, ApiError> {
    Ok(Json(cluster(&state)?.status()))
}

/// Body of `POST /api/v1/cluster/faults`: each switch optional, absent or `null` leaves it as it is.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultsBody {
    /// Cut this node off from its peers (both directions), or heal it.
    isolate: Option<bool>,
    /// Write blocks with a different timestamp than the leader's (a faulty node).
    diverge: Option<bool>,
    /// As leader, corrupt the signature of the next proposed transaction (a faulty leader).
    corrupt_next: Option<bool>,
}

/// `POST /api/v1/cluster/faults`: only the node's own operator, only on a node started with
/// `faults = true`.
#[utoipa::path(post, path = "/api/v1/cluster/faults", tag = "replication",
    request_body(description = "The switches to change (fault tests only)", content = FaultsBody),
    responses(
        (status = 200, description = "The switches now", body = Object),
        (status = 403, description = "Not this node's operator, or the node was not started with `[cluster] faults = true`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn faults(
    _: Require<OperateNode>,
    State(state): State<SharedState>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let c = cluster(&state)?;
    if !c.faults().enabled {
        return Err(ApiError::Forbidden("this node was not started with [cluster] faults = true".into()));
    }
    let b: FaultsBody = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("faults body: {e}")))?;
    c.faults().set(b.isolate, b.diverge, b.corrupt_next);
    let (isolated, diverging, corrupt_next) = c.faults().state();
    tracing::warn!(isolated, diverging, corrupt_next, "fault switch changed");
    Ok(Json(serde_json::json!({"isolated": isolated, "diverging": diverging, "corrupt_next": corrupt_next})))
}
