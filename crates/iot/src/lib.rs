//! Borderlink's IoT traceability core: what e-seals, RFID readers and GPS trackers report, made
//! into GS1 EPCIS 2.0 events with their CBV 2.0 event hash IDs ([`epcis`]), and the domain built
//! on them: devices ([`device`]), message admission ([`admission`]), vendor payloads
//! ([`uplink`], [`codec8`]) and their EPCIS events ([`mapping`]), places and corridors ([`geo`]), seal and route rules with their
//! alerts ([`rules`]), and the event store ([`store`]: embedded redb or PostgreSQL, one trait,
//! one conformance suite), and anchoring ([`anchor`]: batches of event hash IDs committed to the
//! ledger as Merkle roots, and offline-verifiable proofs of single events).
//!
//! Parsing, hashing and rule evaluation are pure code over data with no clock of their own. No
//! network and no HTTP: the node's `iot` capability owns the interfaces (MQTT, HTTP, the vendor
//! protocol over TCP, the EPCIS REST bindings) and calls in here.

#![forbid(unsafe_code)]

pub mod admission;
pub mod anchor;
pub mod codec8;
pub mod device;
pub mod epcis;
pub mod geo;
pub mod mapping;
pub mod rules;
pub mod store;
pub mod trace;
pub mod trip;
pub mod uplink;
