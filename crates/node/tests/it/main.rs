//! Integration tests of the node, in one binary: the HTTP API and the console served on a real
//! socket, and the console driven by a real browser.

mod accessibility;
mod api;
mod attack;
mod browser;
mod browser_network;
mod browser_people;
mod browser_records;
mod browser_risk;
mod browser_risk_console;
mod console;
mod console_sessions;
mod data_quality;
mod export;
mod https;
mod iot;
mod iot_ingest;
mod ledger;
mod metrics;
mod mra;
mod peer;
mod people;
mod purposes;
mod records;
mod retention;
mod risk_console;
mod routes;
mod samples;
mod search;
mod signed_requests;
mod slow_clients;
mod test_node;
mod validation_profiles;
