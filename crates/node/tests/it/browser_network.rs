//! The network page in a real browser, against three replicated nodes in this process (real
//! sockets, mutual TLS between them): the leader, every node's height and the checkpoint
//! agreement are shown.

use std::time::{Duration, Instant};

use borderlink_ledger::consortium::{self, NodePlan, OrgSpec};
use borderlink_ledger::identity::{MemberKeys, Role};
use borderlink_ledger::{Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use borderlink_node::{ClusterSection, Config, LedgerConfig, LedgerService};
use fantoccini::{Client, Locator};
use tokio::sync::oneshot;

use crate::browser::{TIMEOUT, in_browser};
use crate::samples;

/// Six free consecutive ports.
fn free_base_port() -> u16 {
    for k in 0..500u32 {
        let base = 30000 + ((std::process::id() * 31 + k * 97) % 1500) as u16 * 20;
        if (0..6).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no free ports");
}

struct Three {
    services: Vec<std::sync::Arc<LedgerService>>,
    urls: Vec<String>,
    token: String,
    keys: MemberKeys,
    chain: borderlink_ledger::Hash,
    stops: Vec<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

async fn three_nodes() -> Three {
    let dir = tempfile::tempdir().expect("tempdir");
    let orgs = vec![
        OrgSpec { name: "HM Revenue & Customs".into(), role: Role::Customs, country: "GB".into(), trader_ids: vec![] },
        OrgSpec { name: "Douane Nederland".into(), role: Role::Customs, country: "NL".into(), trader_ids: vec![] },
        OrgSpec {
            name: "Animal and Plant Health Agency".into(),
            role: Role::Oga,
            country: "GB".into(),
            trader_ids: vec![],
        },
    ];
    let plan = NodePlan { base_port: free_base_port(), ..NodePlan::default() };
    let net = dir.path().join("net");
    let created =
        consortium::create_with_nodes(&net, "Test", &orgs, "2026-11-26T00:00:00Z", &plan).expect("consortium");
    let mut services = Vec::new();
    let mut urls = Vec::new();
    let mut stops = Vec::new();
    let mut token = String::new();
    for n in &created.genesis.nodes {
        let org = net.join("orgs").join(&n.member);
        let config = Config {
            listen: n.api_url.trim_start_matches("http://").parse().expect("addr"),
            data_dir: dir.path().join(format!("data-{}", n.id)),
            ledger: Some(LedgerConfig { genesis: created.genesis_path.clone(), key: org.join("member.key") }),
            cluster: Some(ClusterSection::with_tls(org.join("node.pem"), org.join("node.key"))),
            ..Config::default()
        };
        let node = borderlink_node::bind(config).await.expect("bind");
        if token.is_empty() {
            token = node.console_token().expect("token").to_owned();
        }
        services.push(std::sync::Arc::clone(node.ledger().expect("ledger")));
        urls.push(n.api_url.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(node.serve(async move {
            let _ = stopped.await;
        }));
        stops.push(stop);
    }
    let keys = MemberKeys::load(&created.key_files[0].1).expect("key");
    Three { services, urls, token, keys, chain: created.genesis.chain_id(), stops, _dir: dir }
}

async fn drive(browser: &Client, three: &Three, height: u64) -> Result<(), fantoccini::error::CmdError> {
    let base = &three.urls[0];
    browser.goto(&format!("{base}/login?token={}", three.token)).await?;
    browser.goto(&format!("{base}/network")).await?;
    let table = browser.wait().at_most(TIMEOUT).for_element(Locator::Id("nodes")).await?;
    let rows = table.find_all(Locator::Css("tbody tr")).await?;
    assert_eq!(rows.len(), 3, "one row per node");
    let leader = browser.find(Locator::Id("leader")).await?.text().await?;
    assert!(leader.starts_with("node "), "{leader}");
    // Every node's height is shown, and after the exchange the checkpoints agree up to it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        browser.goto(&format!("{base}/network")).await?;
        let t = browser.wait().at_most(TIMEOUT).for_element(Locator::Id("nodes")).await?;
        let mut agreed = 0;
        for r in t.find_all(Locator::Css("tbody tr")).await? {
            let h = r.find(Locator::Css("td.height")).await?.text().await?;
            let a = r.find(Locator::Css("td.agreed")).await?.text().await?;
            if h == height.to_string() && a == height.to_string() {
                agreed += 1;
            }
        }
        if agreed == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the page never showed both peers agreeing at height {height}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let agreement = browser.find(Locator::Id("agreement")).await?.text().await?;
    assert!(agreement.contains("same block hashes"), "{agreement}");
    // The diagram: one box per node, the leader's, and the two peers agreeing.
    let boxes = browser.find_all(Locator::Css("#network-diagram g.node")).await?;
    assert_eq!(boxes.len(), 3, "one box per node");
    assert_eq!(browser.find_all(Locator::Css("#network-diagram g.node.leader")).await?.len(), 1);
    let agreeing = browser.find_all(Locator::Css("#network-diagram g.node[data-standing='agrees']")).await?;
    assert_eq!(agreeing.len(), 2, "both peers agree");
    // The commit rate counts the block committed above.
    let summary = browser.find(Locator::Id("commit-summary")).await?.text().await?;
    assert!(summary.contains(" committed with ") && !summary.contains(" 0 blocks"), "{summary}");
    browser.find(Locator::Css("#commit-minutes tbody tr")).await?;
    browser.find(Locator::Css("svg#commit-rate")).await?;
    // The page of a replicated node passes the same accessibility and overflow checks as the others.
    browser.set_window_size(1280, 900).await?;
    let problems = crate::accessibility::check(browser, "/network (three nodes)").await?;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_page_shows_leader_heights_and_checkpoint_agreement() {
    let three = three_nodes().await;
    // Wait (polling) for a leader, then commit a block through a follower.
    let deadline = Instant::now() + Duration::from_secs(60);
    let leader = loop {
        let s = three.services[0].cluster().expect("cluster").status();
        if let Some(l) = s.leader {
            break l;
        }
        assert!(Instant::now() < deadline, "no leader elected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let follower = (0..3).find(|i| *i as u64 + 1 != leader).expect("a follower");
    let payload = serde_json::to_vec(&samples::declaration()).expect("JSON");
    let record = validate(&payload, &ValidateOptions::default()).record.expect("valid");
    let id = borderlink_ledger::meta::record_id(&record, &three.keys.member).expect("id");
    let body = clear_put_body(three.chain, &record, &id, 1, &payload, &three.keys.member, 1, 1);
    let receipt = three.services[follower]
        .submit(Transaction::sign(body, payload, vec![], &three.keys))
        .await
        .expect("committed");
    let (three_ref, height) = (&three, receipt.height);
    in_browser(|b| async move { drive(&b, three_ref, height).await }).await;
    for s in three.stops {
        let _ = s.send(());
    }
}
