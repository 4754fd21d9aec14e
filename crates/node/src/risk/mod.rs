//! The `risk` capability: risk management as the node runs it — every committed declaration
//! assessed (lane, score, reasons) through its projection of the ledger, the risk queue,
//! officers' overrides, inspection results fed back, the criteria and the model — over HTTP and
//! in the console's Risk queue (`console`), Criteria editor (`criteria_page`) and Model
//! (`model_page`: upload, report, activate) pages. Its files live under `DATA/risk/`.

mod api;
mod console;
mod criteria_page;
mod export;
mod model_page;
mod model_where;
mod projection;
mod service;

use std::sync::Arc;

use axum::routing::{get, post};
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, OpenFuture, Startup};
use crate::console::Section;
use crate::openapi::guarded;
use crate::principal::{ChangeRisk, ReadRisk};

pub(crate) use service::{RiskService, code};

/// The risk queue's navigation section.
pub(crate) const QUEUE: Section = Section("risk");
/// The criteria pages' navigation section.
pub(crate) const CRITERIA: Section = Section("criteria");
/// The model pages' navigation section.
pub(crate) const MODEL: Section = Section("model");

pub(crate) const CAPABILITY: Capability = Capability {
    name: "risk",
    open,
    api: || {
        vec![
            guarded::<ReadRisk>(routes!(api::score)),
            guarded::<ReadRisk>(routes!(api::queue)),
            guarded::<ChangeRisk>(routes!(api::overrule)),
            guarded::<ChangeRisk>(routes!(api::inspection)),
            guarded::<ReadRisk>(routes!(api::training_set)),
            guarded::<ReadRisk>(routes!(export::export)),
            guarded::<ChangeRisk>(routes!(export::reidentify)),
            guarded::<ReadRisk>(routes!(api::criteria)),
            guarded::<ChangeRisk>(routes!(api::put_criteria)),
            guarded::<ReadRisk>(routes!(api::model)),
            guarded::<ChangeRisk>(routes!(api::put_model)),
        ]
    },
    console: || {
        vec![
            ("/risk", get(console::queue)),
            ("/risk/queue.csv", get(console::queue_csv)),
            ("/risk/override", post(console::overrule)),
            ("/risk/criteria", get(criteria_page::list).post(criteria_page::create)),
            ("/risk/criteria/new", get(criteria_page::new)),
            ("/risk/criteria/{id}", get(criteria_page::edit).post(criteria_page::update)),
            ("/risk/criteria/{id}/retire", post(criteria_page::retire)),
            ("/risk/model", get(model_page::page).post(model_page::upload)),
            ("/risk/model/report", get(model_page::report)),
            ("/risk/model/activate", post(model_page::activate)),
        ]
    },
    nav: &[
        NavEntry { section: QUEUE, href: "/risk", label: "Risk queue" },
        NavEntry { section: CRITERIA, href: "/risk/criteria", label: "Criteria" },
        NavEntry { section: MODEL, href: "/risk/model", label: "Model" },
    ],
    tags: &[("risk", "Risk management: scores, lanes, the risk queue, overrides, criteria, the model")],
};

/// Opens the risk service from `DATA/risk/` and, on a ledger node, registers its projection.
fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        // The administration this node works for decides whose AEO authorisations count.
        let administration = startup.ledger.as_ref().and_then(|l| {
            let ledger = l.ledger();
            let me = ledger.local_member()?;
            ledger.member(me).map(|m| m.country)
        });
        let node = startup
            .ledger
            .as_ref()
            .and_then(|l| {
                let ledger = l.ledger();
                let me = ledger.local_member()?;
                ledger.member(me).map(|m| format!("{} ({})", m.name, m.id))
            })
            .unwrap_or_else(|| "this node".to_owned());
        let service = service::RiskService::open(
            &startup.config.data_dir,
            administration.as_deref(),
            node,
            Arc::clone(&startup.clock),
        );
        if startup.ledger.is_some() {
            startup.projections.push(Arc::new(projection::RiskProjection(Arc::clone(&service))));
        }
        startup.services.insert(service);
        Ok(())
    })
}
