//! Anchoring the event store on the ledger: every `[iot] anchor_seconds` (10 by default), and at
//! once when an alert is raised, the events stored since the last anchor are committed as one
//! [`EventAnchor`] (the Merkle root of their event hash IDs) in the document
//! `document:{member}:iot-anchor-{last_seq}`; `GET /api/v1/iot/proofs/{event}` then answers an
//! [`EventProof`] that `borderlink verify` checks offline.
//!
//! Where anchoring stands is read from the ledger itself (this member's last anchor document),
//! never from a file of its own: a node that stopped between storing events and anchoring them
//! anchors them after it restarts, and an anchor the consortium committed is never made twice.

use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Json;
use axum::extract::Path;
use borderlink_iot::anchor::{
    ANCHOR_DOCUMENT, EventAnchor, EventProof, PROOF_FORMAT, anchor_document, anchor_of, anchor_record_id, path_in,
};
use borderlink_iot::store::EventStore;
use serde::Serialize;

use super::IotService;
use crate::capability::Service;
use crate::error::ApiError;
use crate::ordering::LedgerService;
use crate::principal::{ManageDevices, ReadIot, Require};

/// The most events one anchor covers; a larger backlog is anchored in several.
const MAX_BATCH: usize = 50_000;

/// The anchoring of one node's event store.
pub(crate) struct Anchoring {
    ledger: Arc<LedgerService>,
    store: Arc<dyn EventStore>,
    clock: Arc<dyn crate::clock::Clock>,
    /// The last sequence number anchored (`None` until read from the ledger); holding the lock
    /// also serialises anchoring (the timer, alerts and `POST /api/v1/iot/anchor`).
    last: tokio::sync::Mutex<Option<u64>>,
    /// Wakes the timer task at once (an alert was raised); shared with the task, which holds
    /// the anchoring itself only weakly.
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Anchoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchoring").finish_non_exhaustive()
    }
}

impl Anchoring {
    pub(crate) fn new(
        ledger: Arc<LedgerService>,
        store: Arc<dyn EventStore>,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Self {
        Self { ledger, store, clock, last: tokio::sync::Mutex::new(None), wake: Arc::new(tokio::sync::Notify::new()) }
    }

    fn member(&self) -> Option<String> {
        self.ledger.ledger().local_member().map(str::to_owned)
    }

    /// This member's last committed anchor, read from the ledger.
    fn last_on_ledger(&self, member: &str) -> Result<Option<EventAnchor>, ApiError> {
        let l = self.ledger.ledger();
        let prefix = borderlink_ledger::meta::compose_id("document", member, ANCHOR_DOCUMENT);
        let mut from = prefix.clone();
        let mut last = None;
        loop {
            let page = l.records_from(&prefix, &from, 1_000).map_err(ApiError::Ledger)?;
            let Some((id, _)) = page.last() else { break };
            last = Some(id.clone());
            if page.len() < 1_000 {
                break;
            }
            from = format!("{id}\u{0}");
        }
        let Some(id) = last else { return Ok(None) };
        self.read_anchor(&id)
    }

    fn read_anchor(&self, record_id: &str) -> Result<Option<EventAnchor>, ApiError> {
        let Some(v) = self.ledger.ledger().record(record_id).map_err(ApiError::Ledger)? else { return Ok(None) };
        Ok(v.payload.and_then(|p| serde_json::from_value::<EventAnchor>(p).ok()))
    }

    /// Commits the events stored since the last anchor; answers the anchor, or `None` when
    /// there was nothing new (or this node is not a member, so signs nothing).
    pub(crate) async fn anchor_now(&self, reason: &str) -> Result<Option<(String, EventAnchor)>, ApiError> {
        let Some(member) = self.member() else { return Ok(None) };
        let mut last = self.last.lock().await;
        let after = match *last {
            Some(seq) => seq,
            None => self.last_on_ledger(&member)?.map_or(0, |a| a.last_seq),
        };
        *last = Some(after);
        let batch = self.store.since(after, MAX_BATCH).await.map_err(|e| ApiError::Internal(e.to_string()))?;
        let ids: Vec<(u64, &str)> = batch.iter().map(|n| (n.seq, n.event.hash_id.as_str())).collect();
        let Some(anchor) = anchor_of(&member, &ids, self.clock.now_ms(), reason) else { return Ok(None) };
        let payload = serde_json::to_vec(&anchor).map_err(|e| ApiError::Internal(e.to_string()))?;
        let tx = self.ledger.ledger().document_by_local(
            &anchor_document(anchor.last_seq),
            &payload,
            super::nonce(),
            self.clock.now_ms(),
        )?;
        let record_id = tx.body.record_id.clone();
        self.ledger.submit(tx).await.map_err(ApiError::Tx)?;
        *last = Some(anchor.last_seq);
        metrics::counter!("borderlink_iot_anchors_total", "reason" => reason.to_owned()).increment(1);
        metrics::counter!("borderlink_iot_anchored_events_total").increment(anchor.count);
        tracing::info!(record = %record_id, first = anchor.first_seq, last = anchor.last_seq, count = anchor.count, reason, "IoT events anchored");
        Ok(Some((record_id, anchor)))
    }

    /// Asks the anchoring task to anchor now (an alert was raised).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Anchors every `every`, and when woken, until the node stops (the task holds the
    /// anchoring weakly, so a stopped node's ledger is released).
    pub(crate) fn spawn(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Self> = Arc::downgrade(self);
        let wake = Arc::clone(&self.wake);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                let reason = tokio::select! {
                    _ = tick.tick() => "interval",
                    () = wake.notified() => "alert",
                };
                let Some(me) = weak.upgrade() else { return };
                loop {
                    match me.anchor_now(reason).await {
                        // A backlog larger than one batch: anchor the rest at once.
                        Ok(Some((_, a))) if a.count as usize >= MAX_BATCH => continue,
                        Ok(_) => break,
                        Err(e) => {
                            metrics::counter!("borderlink_iot_anchor_failed_total").increment(1);
                            tracing::warn!(error = %e, "IoT events could not be anchored; retrying at the next interval");
                            break;
                        }
                    }
                }
            }
        });
    }

    /// The proof of one stored event (by event hash ID or `eventID`).
    pub(crate) async fn proof(&self, id: &str) -> Result<EventProof, ApiError> {
        let stored = self
            .store
            .get(id)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or_else(|| ApiError::EventNotFound(id.to_owned()))?;
        let member = self.member().ok_or_else(|| ApiError::EventNotAnchoredYet(id.to_owned()))?;
        // The anchor of event `seq` is this member's first anchor ending at or after it.
        let prefix = borderlink_ledger::meta::compose_id("document", &member, ANCHOR_DOCUMENT);
        let from = borderlink_ledger::meta::compose_id("document", &member, &anchor_document(stored.seq));
        let found = self.ledger.ledger().records_from(&prefix, &from, 1).map_err(ApiError::Ledger)?;
        let Some((record_id, _)) = found.into_iter().next() else {
            return Err(ApiError::EventNotAnchoredYet(id.to_owned()));
        };
        let anchor = self
            .read_anchor(&record_id)?
            .filter(|a| a.first_seq <= stored.seq && record_id == anchor_record_id(&member, a.last_seq))
            .ok_or_else(|| ApiError::EventNotAnchoredYet(id.to_owned()))?;
        let batch = self
            .store
            .since(anchor.first_seq.saturating_sub(1), usize::try_from(anchor.count).unwrap_or(usize::MAX))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let ids: Vec<String> = batch.into_iter().map(|n| n.event.hash_id).collect();
        let (index, merkle_path) = path_in(&ids, &stored.event.hash_id).ok_or_else(|| {
            ApiError::Internal(format!("event {id} is not in the batch its anchor {record_id} covers"))
        })?;
        let event: serde_json::Value = serde_json::from_str(&stored.event.json)
            .map_err(|e| ApiError::Internal(format!("stored event {id}: {e}")))?;
        let ledger_proof = self.ledger.ledger().proof(&record_id).map_err(ApiError::Ledger)?;
        Ok(EventProof {
            format: PROOF_FORMAT.into(),
            hash_id: stored.event.hash_id,
            event,
            seq: stored.seq,
            index,
            merkle_path,
            anchor,
            ledger_proof,
        })
    }
}

/// An offline-verifiable proof of one stored IoT event: the event, its Merkle path to the
/// anchor committed on the ledger, and the ledger's proof of that anchor (`borderlink verify`
/// checks it).
#[utoipa::path(get, path = "/api/v1/iot/proofs/{event}", tag = "iot",
    params(("event" = String, Path, description = "The event's hash ID (`ni:///sha-256;…?ver=CBV2.0`) or its eventID")),
    responses(
        (status = 200, description = "The event proof (`borderlink-iot-event-proof/1`)", body = Object),
        (status = 404, description = "No such event in this node's store (`event_not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Stored but not anchored yet (`not_anchored_yet`): retry after the next anchor, or anchor now", body = crate::error::ErrorBody),
    ),
    security(("signature" = []), ("session" = [])))]
pub(crate) async fn proof(
    _: Require<ReadIot>,
    Service(iot): Service<IotService>,
    Path(event): Path<String>,
) -> Result<Json<EventProof>, ApiError> {
    Ok(Json(iot.anchoring().proof(&event).await?))
}

/// What an anchor request did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnchorMade {
    /// The anchor's ledger record, when there were new events.
    pub(crate) record_id: Option<String>,
    /// The store's sequence numbers covered (first, last) and how many events.
    pub(crate) first_seq: Option<u64>,
    pub(crate) last_seq: Option<u64>,
    pub(crate) count: u64,
}

/// Anchors the events stored since the last anchor now, rather than at the next interval.
#[utoipa::path(post, path = "/api/v1/iot/anchor", tag = "iot",
    responses(
        (status = 200, description = "The anchor made (`recordId` null when there was nothing new)", body = AnchorMade),
    ),
    security(("signature" = []), ("session" = [])))]
pub(crate) async fn anchor(
    _: Require<ManageDevices>,
    Service(iot): Service<IotService>,
) -> Result<Json<AnchorMade>, ApiError> {
    let made = iot.anchoring().anchor_now("request").await?;
    Ok(Json(match made {
        Some((record_id, a)) => AnchorMade {
            record_id: Some(record_id),
            first_seq: Some(a.first_seq),
            last_seq: Some(a.last_seq),
            count: a.count,
        },
        None => AnchorMade { record_id: None, first_seq: None, last_seq: None, count: 0 },
    }))
}
