//! A private PostgreSQL cluster: `initdb` into a temporary folder, `postgres` on a free loopback
//! port with trust authentication for one role, no fsync (a test's data need not survive a power
//! cut). PostgreSQL refuses to run as root: as root the cluster is owned by and run as the
//! `postgres` system user (created by the Debian package), through `runuser`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running private cluster; stopped and removed when dropped.
pub struct Postgres {
    child: Child,
    port: u16,
    // Removed after the server stopped (fields drop after `drop` ran).
    _dir: tempfile::TempDir,
}

/// The newest installed server's `bin` folder.
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").is_file() && bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under {}: the test needs Debian's `postgresql` package. \
             Run scripts/test.sh, which installs it (apt-get install postgresql).",
            root.display()
        )
    })
}

fn is_root() -> bool {
    // The effective user of this process owns the files it creates: root's are owned by uid 0.
    let probe = std::env::temp_dir();
    std::fs::metadata(&probe).is_ok()
        && Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A command run as the cluster's owner: `postgres` through `runuser` when we are root.
fn as_owner(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// Starts a cluster and waits until it accepts connections.
    pub fn start() -> Self {
        let bin = bin_dir();
        let root = is_root();
        let dir = tempfile::tempdir().expect("a temporary folder for the cluster");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("the cluster's folder");
        if root {
            // The postgres user must reach and own its folder.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
            let status = Command::new("chown").args(["postgres:postgres"]).arg(&data).status().expect("chown");
            assert!(status.success(), "cannot give {} to the postgres user", data.display());
        }
        let out = as_owner(&bin.join("initdb"), root)
            .args(["-A", "trust", "-U", "borderlink", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = crate::free_port();
        let child = as_owner(&bin.join("postgres"), root)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let pg = Self { child, port, _dir: dir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "borderlink"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return pg;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not accept connections on port {port} within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The connection URL of the cluster's default database.
    pub fn url(&self) -> String {
        format!("postgres://borderlink@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGTERM through `kill` (runuser passes it on): a smart shutdown; then reap.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
