//! Integration tests of the standardized dataset, through the crate's public API.

mod bad_input;
mod broken;
mod consent;
mod docs;
mod fixtures;
mod never_panics;
mod samples;
mod schema;
mod wco_messages;
mod xml;
