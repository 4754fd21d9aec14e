//! Real servers for the tests, started by the tests themselves: never mocked where the real
//! thing runs here. Each is a private instance on a loopback port in a temporary folder, stopped
//! and removed when its handle is dropped (also when the test fails).
//!
//! - [`Postgres`]: a throwaway PostgreSQL cluster (Debian's `postgresql` package, which
//!   `scripts/test.sh` installs). Without the server binaries the test fails and says how to get
//!   them: it never skips.
//! - [`Mosquitto`]: a private MQTT broker (Debian's `mosquitto` package, which `scripts/test.sh`
//!   installs), with the users and the ACL the test gives. Without it the test fails.

mod mosquitto;
mod postgres;

pub use mosquitto::{Mosquitto, MosquittoTls};
pub use postgres::Postgres;

/// A free TCP port on 127.0.0.1 (the OS picks it; a small race with other processes remains).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}
