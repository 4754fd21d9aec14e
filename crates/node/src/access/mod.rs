//! The `access` capability: people and their sessions. The accounts of the node's organisation
//! (`borderlink_access::Accounts` in `DATA/access/accounts.redb`), the login page (an account's
//! username, password and one-time code, or the bootstrap console token), logout, the
//! administrator's users page and the users API. (The CSRF check of every console form is the
//! console's: `console/csrf.rs`.)
//!
//! Invariants: a login failure is counted (`borderlink_login_failed_total{reason}`) and says
//! nothing the caller may not learn; too many failures from one client refuse its logins for a
//! while ([`service::AccessService::throttled`]); a disabled account or a reset password ends
//! the account's sessions at once.

pub(crate) mod audit;
mod audit_page;
mod login;
pub(crate) mod reads;
mod service;
mod users_api;
mod users_page;

use std::sync::Arc;

use axum::routing::{get, post};
use utoipa_axum::routes;

use crate::capability::{Capability, NavEntry, OpenFuture, Startup};
use crate::console::Section;
use crate::error::NodeError;
use crate::openapi::guarded;
use crate::principal::{ManageUsers, OperateNode, ReadAudit, ReadLedger};

pub(crate) use service::AccessService;

/// The users page's navigation section.
pub(crate) const USERS: Section = Section("users");
/// The audit page's navigation section.
pub(crate) const AUDIT: Section = Section("audit");

pub(crate) const CAPABILITY: Capability = Capability {
    name: "access",
    open,
    api: || {
        vec![
            guarded::<ManageUsers>(routes!(users_api::list, users_api::add)),
            guarded::<ManageUsers>(routes!(users_api::disable)),
            guarded::<ManageUsers>(routes!(users_api::reset_password)),
            guarded::<ReadLedger>(routes!(reads::read_policy)),
            guarded::<ReadAudit>(routes!(audit::list)),
            guarded::<ReadAudit>(routes!(audit::subject)),
            guarded::<ReadAudit>(routes!(audit::proof)),
            guarded::<OperateNode>(routes!(audit::anchor)),
        ]
    },
    console: || {
        vec![
            ("/login", get(login::page).post(login::submit)),
            ("/logout", post(login::logout)),
            ("/session/purpose", post(login::set_purpose)),
            ("/audit", get(audit_page::page)),
            ("/admin/users", get(users_page::page).post(users_page::add)),
            ("/admin/users/{username}/disable", post(users_page::disable)),
            ("/admin/users/{username}/password", post(users_page::reset_password)),
        ]
    },
    nav: &[
        NavEntry { section: AUDIT, href: "/audit", label: "Audit" },
        NavEntry { section: USERS, href: "/admin/users", label: "Users" },
    ],
    tags: &[
        ("access", "People of this node's organisation: accounts and roles; the read policy"),
        ("audit", "The audit trail: who read what, for which purpose; proofs anchored on the ledger"),
    ],
};

/// Opens the accounts of a member node; a node without a ledger has no identities, so no
/// accounts either.
fn open<'a>(startup: &'a mut Startup<'_>) -> OpenFuture<'a> {
    Box::pin(async move {
        let Some(ledger) = &startup.ledger else { return Ok(()) };
        let Some(organisation) = ledger.ledger().local_member().map(str::to_owned) else { return Ok(()) };
        let path = startup.config.data_dir.join("access").join("accounts.redb");
        let accounts = tokio::task::spawn_blocking(move || borderlink_access::Accounts::open(&path))
            .await
            .map_err(|e| NodeError::Access(borderlink_access::AccessError::Storage(e.to_string())))?
            .map_err(NodeError::Access)?;
        let path = startup.config.data_dir.join("access").join("audit.redb");
        let node = organisation.clone();
        let log = tokio::task::spawn_blocking(move || borderlink_access::audit::AuditLog::open(&path, &node))
            .await
            .map_err(|e| NodeError::Access(borderlink_access::AccessError::Storage(e.to_string())))?
            .map_err(NodeError::Access)?;
        let audit = Arc::new(audit::AuditService::new(log, Arc::clone(ledger), Arc::clone(&startup.clock)));
        audit.spawn_anchoring(std::time::Duration::from_secs(startup.config.access.audit_anchor_seconds));
        startup.services.insert(Arc::new(reads::Reads::new(Arc::clone(ledger.ledger()), audit)));
        startup.services.insert(Arc::new(AccessService::new(accounts, organisation)));
        Ok(())
    })
}
