//! The capability seam: the node is composed of capabilities, each one folder
//! (`node/src/<capability>/`) exported as one [`Capability`] value, and the server iterates over
//! [`CAPABILITIES`].
//!
//! A capability brings its service (opened at start, kept in the node's [`Services`], its files
//! under `DATA/<capability>/`), its API routes (each registered with its OpenAPI path in one
//! `routes!` call, so that route and document cannot drift), its console pages, its navigation
//! entries, its OpenAPI tags and, optionally, its [`Projection`] of the ledger and its
//! [`SubmissionObserver`] (what it must learn of submissions the ledger refuses).
//!
//! Adding a capability: its crate, its folder with one `CAPABILITY` value, one line in
//! [`CAPABILITIES`], its error codes in `error.rs`, its config section in `config.rs`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::routing::MethodRouter;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::config::Config;
use crate::error::NodeError;
use crate::ordering::LedgerService;
use crate::projection::Projection;
use crate::server::SharedState;
use crate::submission::SubmissionObserver;

/// Every capability of the node, in the order they are opened (the ledger first: the others
/// read it).
pub(crate) const CAPABILITIES: &[Capability] = &[
    crate::dataset::CAPABILITY,
    crate::ledger::CAPABILITY,
    crate::access::CAPABILITY,
    crate::risk::CAPABILITY,
    crate::mra::CAPABILITY,
    crate::iot::CAPABILITY,
    crate::operations::CAPABILITY,
];

/// An entry of the console's navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NavEntry {
    /// The page's section, marked as current on its pages.
    pub(crate) section: crate::console::Section,
    /// Where it links.
    pub(crate) href: &'static str,
    /// Its label.
    pub(crate) label: &'static str,
}

/// What a capability may use while it opens.
pub(crate) struct Startup<'a> {
    /// The node's configuration.
    pub(crate) config: &'a Config,
    /// The ledger, once the ledger capability has opened it.
    pub(crate) ledger: Option<Arc<LedgerService>>,
    /// The operator's console of a ledger node (its token and sessions).
    pub(crate) console: Option<Arc<crate::session::Console>>,
    /// The node's clock.
    pub(crate) clock: Arc<dyn crate::clock::Clock>,
    /// The services opened so far.
    pub(crate) services: Services,
    /// The projections to feed from the ledger.
    pub(crate) projections: Vec<Arc<dyn Projection>>,
    /// Who hears of each submission (`POST /api/v1/transactions`) and its outcome.
    pub(crate) observers: Vec<Arc<dyn SubmissionObserver>>,
}

/// The future [`Capability::open`] returns.
pub(crate) type OpenFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NodeError>> + Send + 'a>>;

/// One capability of the node.
pub(crate) struct Capability {
    /// Its name (also the folder of its files under the data directory).
    pub(crate) name: &'static str,
    /// Opens its service (reads its files, registers its projection and submission observer).
    pub(crate) open: for<'a> fn(&'a mut Startup<'_>) -> OpenFuture<'a>,
    /// Its API routes, each made by `utoipa_axum::routes!` (a handler and its OpenAPI path).
    pub(crate) api: fn() -> Vec<UtoipaMethodRouter<SharedState>>,
    /// Its console pages and form targets: (path, handlers).
    pub(crate) console: fn() -> Vec<(&'static str, MethodRouter<SharedState>)>,
    /// Its entries in the console's navigation.
    pub(crate) nav: &'static [NavEntry],
    /// Its OpenAPI tags: (name, description).
    pub(crate) tags: &'static [(&'static str, &'static str)],
}

impl std::fmt::Debug for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capability").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A capability that opens nothing.
pub(crate) fn open_nothing<'a>(_: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async { Ok(()) })
}

/// The services of the node's capabilities, one per type.
#[derive(Clone, Default)]
pub(crate) struct Services(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").field("count", &self.0.len()).finish()
    }
}

impl Services {
    /// Keeps a capability's service.
    pub(crate) fn insert<T: Any + Send + Sync>(&mut self, service: Arc<T>) {
        self.0.insert(TypeId::of::<T>(), service);
    }

    /// Weak handles of every service, to tell when they have all been released.
    pub(crate) fn downgrade(&self) -> Vec<std::sync::Weak<dyn Any + Send + Sync>> {
        self.0.values().map(Arc::downgrade).collect()
    }

    /// A capability's service, when it was opened.
    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.0.get(&TypeId::of::<T>()).cloned().and_then(|s| s.downcast::<T>().ok())
    }
}

/// A capability's service as a handler argument: `Service(risk): Service<RiskService>`.
#[derive(Debug)]
pub(crate) struct Service<T>(pub(crate) Arc<T>);

impl<T: Any + Send + Sync> axum::extract::FromRequestParts<SharedState> for Service<T> {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        _: &mut axum::http::request::Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        state.service::<T>().map(Service)
    }
}

/// Every navigation entry, in capability order.
pub(crate) fn navigation() -> impl Iterator<Item = &'static NavEntry> {
    CAPABILITIES.iter().flat_map(|c| c.nav.iter())
}
