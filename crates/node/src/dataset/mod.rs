//! The `dataset` capability: the standardized dataset as the node offers it — validation of a
//! document (`POST /api/v1/validate`, the console's front page) and the JSON Schemas of the
//! record types (`/api/v1/schemas`, the Schemas page), both public; and, on a ledger node, the
//! data-quality dashboard of what members submit (`GET /api/v1/data-quality`, the Data quality
//! page; customs roles only). Opening it reads the validation profiles of `[validation]`
//! ([`crate::validation::Profiles`]) and, on a ledger node, the data-quality file
//! `DATA/dataset/quality.redb`, registering its projection of the ledger and its observer of
//! submissions.

mod quality;
mod quality_api;
mod quality_charts;
mod quality_page;
mod quality_service;
mod schemas;
mod schemas_page;
mod validate;
mod validate_page;

use axum::routing::get;
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, OpenFuture, Startup};
use crate::console::Section;
use crate::openapi::guarded;
use crate::principal::{Public, ReadQuality};

/// The validation page's navigation section.
pub(crate) const VALIDATE: Section = Section("validate");
/// The schemas page's navigation section.
pub(crate) const SCHEMAS: Section = Section("schemas");
/// The data-quality page's navigation section.
pub(crate) const QUALITY: Section = Section("data-quality");

fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        let profiles = crate::validation::Profiles::load(&startup.config.validation).await?;
        startup.services.insert(std::sync::Arc::new(profiles));
        // Submissions and committed records exist only on a ledger node (which opens its
        // ledger after this capability: its configuration says whether it will).
        if startup.config.ledger.is_some() {
            let (quality, observer) =
                quality_service::QualityService::open(&startup.config.data_dir, std::sync::Arc::clone(&startup.clock))?;
            startup.projections.push(std::sync::Arc::new(quality.projection()));
            startup.observers.push(observer);
            startup.services.insert(quality);
        }
        Ok(())
    })
}

pub(crate) const CAPABILITY: Capability = Capability {
    name: "dataset",
    open,
    api: || {
        vec![
            guarded::<Public>(routes!(validate::validate)),
            guarded::<Public>(routes!(schemas::list)),
            guarded::<Public>(routes!(schemas::get)),
            guarded::<ReadQuality>(routes!(quality_api::figures)),
        ]
    },
    console: || {
        vec![
            ("/", get(validate_page::page)),
            ("/validate", get(validate_page::page).post(validate_page::submit)),
            ("/schemas", get(schemas_page::page)),
            ("/data-quality", get(quality_page::page)),
        ]
    },
    nav: &[
        NavEntry { section: VALIDATE, href: "/", label: "Validate" },
        NavEntry { section: SCHEMAS, href: "/schemas", label: "Schemas" },
        NavEntry { section: QUALITY, href: "/data-quality", label: "Data quality" },
    ],
    tags: &[
        ("validation", "Validate documents"),
        ("schemas", "JSON Schemas of the record types"),
        (
            "data-quality",
            "What members submit, in figures: validation failures by rule, completeness, timeliness, weekly trends",
        ),
    ],
};
