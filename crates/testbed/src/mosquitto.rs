//! A private Mosquitto broker: `mosquitto.conf`, a password file (`mosquitto_passwd`) and an
//! ACL file in a temporary folder, listening on a free loopback port, no anonymous clients, no
//! persistence (a test's messages need not survive the broker), queues raised above the
//! defaults (which drop QoS 1 messages for a slow subscriber).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MOSQUITTO: &str = "/usr/sbin/mosquitto";
const MOSQUITTO_PASSWD: &str = "/usr/bin/mosquitto_passwd";

/// How long the broker may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running private broker; stopped and removed when dropped.
pub struct Mosquitto {
    child: Child,
    port: u16,
    tls: bool,
    _dir: tempfile::TempDir,
}

fn need(binary: &str) {
    assert!(
        Path::new(binary).is_file(),
        "{binary} not found: the MQTT tests need Debian's `mosquitto` package. Run scripts/test.sh, which installs \
         it (apt-get install mosquitto)."
    );
}

/// The broker's TLS identity and the CA its clients' certificates must come from (PEM files).
#[derive(Debug, Clone)]
pub struct MosquittoTls {
    pub ca: std::path::PathBuf,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl Mosquitto {
    /// Starts a broker that knows `users` (name, password) and applies `acl` (Mosquitto's ACL
    /// file syntax), and waits until it accepts connections.
    pub fn start(users: &[(&str, &str)], acl: &str) -> Self {
        Self::launch(users, acl, None)
    }

    /// Starts a TLS broker that requires a client certificate from `tls.ca` and takes its common
    /// name as the user name (`use_identity_as_username`), applying `acl`.
    pub fn start_tls(tls: &MosquittoTls, acl: &str) -> Self {
        Self::launch(&[], acl, Some(tls))
    }

    fn launch(users: &[(&str, &str)], acl: &str, tls: Option<&MosquittoTls>) -> Self {
        need(MOSQUITTO);
        need(MOSQUITTO_PASSWD);
        let dir = tempfile::tempdir().expect("a temporary folder for the broker");
        // Mosquitto started as root drops to its own user unless told to stay (`user root`); the
        // folder must be reachable either way.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let acl_file = dir.path().join("acl");
        std::fs::write(&acl_file, acl).expect("the ACL file");
        let port = crate::free_port();
        let conf = dir.path().join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).expect("mosquitto.conf");
        write!(
            f,
            "per_listener_settings false\nlistener {port} 127.0.0.1\nallow_anonymous false\nacl_file {}\n\
             persistence false\nuser root\nmax_inflight_messages 100\nmax_queued_messages 10000\nlog_dest stderr\n",
            acl_file.display()
        )
        .expect("mosquitto.conf written");
        match tls {
            None => {
                let passwd = dir.path().join("passwd");
                std::fs::File::create(&passwd).expect("the password file");
                std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o600)).expect("chmod 0600");
                for (user, password) in users {
                    let out = Command::new(MOSQUITTO_PASSWD)
                        .arg("-b")
                        .arg(&passwd)
                        .args([user, password])
                        .output()
                        .expect("mosquitto_passwd runs");
                    assert!(out.status.success(), "mosquitto_passwd failed: {}", String::from_utf8_lossy(&out.stderr));
                }
                writeln!(f, "password_file {}", passwd.display()).expect("mosquitto.conf written");
            }
            Some(t) => {
                writeln!(
                    f,
                    "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\nuse_identity_as_username true",
                    t.ca.display(),
                    t.cert.display(),
                    t.key.display()
                )
                .expect("mosquitto.conf written");
            }
        }
        drop(f);
        let log = dir.path().join("mosquitto.log");
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("the broker's log file"))
            .spawn()
            .expect("mosquitto starts");
        let mut broker = Self { child, port, tls: tls.is_some(), _dir: dir };
        let deadline = Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = broker.child.try_wait() {
                panic!(
                    "mosquitto exited at start ({status}); its log:\n{}\nits configuration:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default(),
                    std::fs::read_to_string(&conf).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not accept connections on port {port} within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    /// The broker's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL, `mqtt://127.0.0.1:PORT` (`mqtts://` for a TLS broker).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "mqtts" } else { "mqtt" }, self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
