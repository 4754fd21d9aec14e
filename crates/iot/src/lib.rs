//! Borderlink's IoT traceability core: what e-seals, RFID readers and GPS trackers report, made
//! into GS1 EPCIS 2.0 events with their CBV 2.0 event hash IDs, and the domain types built on
//! them (devices, traces, seal and route rules, alerts).
//!
//! Pure code over data: no network, no storage, no clock of its own. The node's `iot`
//! capability owns the interfaces (MQTT, HTTP, the vendor protocol, the EPCIS REST bindings) and
//! the event store; this crate parses, checks, hashes and evaluates.

#![forbid(unsafe_code)]

pub mod epcis;
