//! The `dataset` capability: the standardized dataset as the node offers it to anyone —
//! validation of a document (`POST /api/v1/validate`, the console's front page) and the JSON
//! Schemas of the record types (`/api/v1/schemas`, the Schemas page). Nothing here is shared
//! data: every route is public, and nothing is kept. Opening it reads the validation profiles
//! of `[validation]` ([`crate::validation::Profiles`]).

mod schemas;
mod schemas_page;
mod validate;
mod validate_page;

use axum::routing::get;
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, OpenFuture, Startup};
use crate::console::Section;
use crate::openapi::guarded;
use crate::principal::Public;

/// The validation page's navigation section.
pub(crate) const VALIDATE: Section = Section("validate");
/// The schemas page's navigation section.
pub(crate) const SCHEMAS: Section = Section("schemas");

fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        let profiles = crate::validation::Profiles::load(&startup.config.validation).await?;
        startup.services.insert(std::sync::Arc::new(profiles));
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
        ]
    },
    console: || {
        vec![
            ("/", get(validate_page::page)),
            ("/validate", get(validate_page::page).post(validate_page::submit)),
            ("/schemas", get(schemas_page::page)),
        ]
    },
    nav: &[
        NavEntry { section: VALIDATE, href: "/", label: "Validate" },
        NavEntry { section: SCHEMAS, href: "/schemas", label: "Schemas" },
    ],
    tags: &[("validation", "Validate documents"), ("schemas", "JSON Schemas of the record types")],
};
