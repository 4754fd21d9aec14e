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
    _dir: tempfile::TempDir,
}

fn need(binary: &str) {
    assert!(
        Path::new(binary).is_file(),
        "{binary} not found: the MQTT tests need Debian's `mosquitto` package. Run scripts/test.sh, which installs \
         it (apt-get install mosquitto)."
    );
}

impl Mosquitto {
    /// Starts a broker that knows `users` (name, password) and applies `acl` (Mosquitto's ACL
    /// file syntax), and waits until it accepts connections.
    pub fn start(users: &[(&str, &str)], acl: &str) -> Self {
        need(MOSQUITTO);
        need(MOSQUITTO_PASSWD);
        let dir = tempfile::tempdir().expect("a temporary folder for the broker");
        // Mosquitto started as root drops to its own user unless told to stay (`user root`); the
        // folder must be reachable either way.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
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
        let acl_file = dir.path().join("acl");
        std::fs::write(&acl_file, acl).expect("the ACL file");
        let port = crate::free_port();
        let conf = dir.path().join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).expect("mosquitto.conf");
        write!(
            f,
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\npersistence false\n\
             user root\nmax_inflight_messages 100\nmax_queued_messages 10000\nlog_dest stderr\n",
            passwd.display(),
            acl_file.display()
        )
        .expect("mosquitto.conf written");
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let mut broker = Self { child, port, _dir: dir };
        let deadline = Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = broker.child.try_wait() {
                panic!("mosquitto exited at start ({status}); its configuration:\n{}", std::fs::read_to_string(&conf).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "mosquitto did not accept connections on port {port} within {START_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    /// The broker's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL, `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
