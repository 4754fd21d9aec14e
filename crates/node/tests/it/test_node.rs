//! A node serving on a free port of 127.0.0.1 with its own temporary data directory, stopped
//! when dropped.

use borderlink_node::{Config, NodeError};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) struct TestNode {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), NodeError>>>,
    _data_dir: TempDir,
}

impl TestNode {
    /// Starts a node with the default body limit.
    pub(crate) async fn start() -> Self {
        Self::start_with_limit(borderlink_node::DEFAULT_MAX_BODY_BYTES).await
    }

    /// Starts a node that accepts bodies of at most `max_body_bytes`.
    pub(crate) async fn start_with_limit(max_body_bytes: usize) -> Self {
        Self::start_with(|c| c.max_body_bytes = max_body_bytes).await
    }

    /// Starts a node with the default configuration as `setup` changes it.
    pub(crate) async fn start_with(setup: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("temporary data directory");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: data_dir.path().join("data"),
            ..Config::default()
        };
        setup(&mut config);
        let node = borderlink_node::bind(config).await.expect("bind the node");
        let base = format!("http://{}", node.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.serve(async move {
            let _ = stopped.await;
        }));
        // bind() returned, so the socket already accepts connections: no readiness wait needed.
        Self { base, stop: Some(stop), task: Some(task), _data_dir: data_dir }
    }

    /// The address the node listens on.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.base.trim_start_matches("http://").parse().expect("the node's address")
    }

    /// The absolute URL of `path` on this node.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the node and waits for it to finish, failing on a serve error.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("node task").expect("node served without error");
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Why a node configured by `setup` (from a loopback default with its own data folder) does
/// not start.
pub(crate) async fn refused_start(setup: impl FnOnce(&mut Config)) -> String {
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let mut config = Config { data_dir: data_dir.path().join("data"), ..Config::default() };
    setup(&mut config);
    borderlink_node::bind(config).await.map(|_| ()).expect_err("the node must not start").to_string()
}

/// An HTTP client that never goes through a proxy (CI machines may set one).
pub(crate) fn client() -> reqwest::Client {
    client_builder().build().expect("HTTP client")
}

/// The builder of [`client`]. A workspace build gives reqwest the CLI's TLS feature, which needs
/// a process-wide crypto provider even for plain HTTP: ring, as the node uses.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}
