//! The `mra` capability: AEO mutual recognition over HTTP. A customs administration whose AEO
//! programme the consortium's agreements recognise reads, with the purpose `mra-exchange`, the
//! agreed fields of the AEOs of partner programmes whose consent is recorded on the ledger:
//! `GET /api/v1/mra/aeo` (a page of them) and `GET /api/v1/mra/aeo/{id}` (one authorisation).
//! What is shared, with whom and when is decided by `borderlink_ledger::mra`; this folder maps
//! HTTP to it, and answers every read in one function (`api::answer`).

mod api;

use std::sync::{Arc, Mutex};

use borderlink_ledger::Ledger;
use borderlink_ledger::read_policy::ReadPolicy;
use utoipa_axum::routes;

use crate::capability::{Capability, OpenFuture, Startup};
use crate::openapi::guarded;
use crate::principal::MraExchange;

pub(crate) const CAPABILITY: Capability = Capability {
    name: "mra",
    open,
    api: || vec![guarded::<MraExchange>(routes!(api::list)), guarded::<MraExchange>(routes!(api::aeo))],
    console: Vec::new,
    nav: &[],
    tags: &[(
        "mra",
        "AEO mutual recognition: the agreed fields of consenting AEOs, for the administrations of partner programmes",
    )],
};

/// The compiled read policy, kept until governance replaces its text.
#[derive(Debug, Default)]
pub(crate) struct MraService {
    policy: Mutex<Option<(String, Arc<ReadPolicy>)>>,
}

impl MraService {
    /// The read policy in force on `ledger`, compiled once per text.
    fn read_policy(&self, ledger: &Ledger) -> Result<Arc<ReadPolicy>, borderlink_ledger::LedgerError> {
        let text = ledger.read_policy_text()?;
        let mut cached = self.policy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((t, p)) = cached.as_ref()
            && *t == text
        {
            return Ok(Arc::clone(p));
        }
        let policy = Arc::new(ReadPolicy::new(&text)?);
        *cached = Some((text, Arc::clone(&policy)));
        Ok(policy)
    }
}

fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        startup.services.insert(Arc::new(MraService::default()));
        Ok(())
    })
}
