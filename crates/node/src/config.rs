//! The node's configuration.
//!
//! The defaults run a single-machine node with no configuration file at all. The CLI fills this
//! struct from a TOML file, the environment and flags (in that order of precedence); unknown keys
//! are rejected so that a misspelt setting fails loudly instead of being ignored.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// The default largest request body: 8 MiB, the model's own document limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = borderlink_model::validate::DEFAULT_MAX_BYTES;

/// How a node listens and where it keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The address the HTTP API and web console listen on (`127.0.0.1:8080`; port 0 picks a
    /// free port, see [`crate::Node::local_addr`]).
    pub listen: SocketAddr,
    /// The directory the node keeps its data in (`./borderlink-data`); created when missing.
    pub data_dir: PathBuf,
    /// The largest request body accepted, in bytes (8 MiB); larger ones get `413`.
    pub max_body_bytes: usize,
    /// The ledger this node keeps, when it is a member node of a consortium.
    pub ledger: Option<LedgerConfig>,
}

/// Where a member node finds its consortium and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The consortium's genesis file.
    pub genesis: PathBuf,
    /// This node's member key file (`orgs/ID/member.key`, mode 0600).
    pub key: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            data_dir: PathBuf::from("./borderlink-data"),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ledger: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_a_local_node() {
        let config = Config::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./borderlink-data"));
        assert_eq!(config.max_body_bytes, 8 * 1024 * 1024);
    }

    #[test]
    fn missing_keys_take_defaults() {
        let config: Config = serde_json::from_str(r#"{"listen": "0.0.0.0:9000"}"#).unwrap_or_default();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = serde_json::from_str::<Config>(r#"{"listen_addr": "0.0.0.0:9000"}"#);
        assert!(err.is_err());
    }
}
