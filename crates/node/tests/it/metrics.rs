//! Prometheus metrics are served on a listener of their own, never on the API, and each node's
//! listener shows only its own samples, even when nodes share a process.

use crate::ledger::{start, start_two};
use crate::test_node::client;

async fn text(url: String) -> (u16, String) {
    let r = client().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn metrics_are_not_served_on_the_api_listener() {
    let n = start().await;
    assert_eq!(n.metrics, None, "no metrics listener unless configured");
    let (status, _) = text(format!("{}/metrics", n.base)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn each_node_serves_only_its_own_metrics_on_its_metrics_listener() {
    let (gb, nl) = start_two(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let (gb_metrics, nl_metrics) = (gb.metrics.expect("GB's listener"), nl.metrics.expect("NL's listener"));
    assert!(gb_metrics.ip().is_loopback() && gb_metrics != nl_metrics);
    // Two blocks at GB's node, one at NL's.
    assert_eq!(gb.post(&gb.put(2, "declaration.json", "LRN-GB-1", 1, 1)).await.0, 201);
    assert_eq!(gb.post(&gb.put(2, "declaration.json", "LRN-GB-2", 1, 2)).await.0, 201);
    assert_eq!(nl.post(&nl.put(2, "declaration.json", "LRN-NL-1", 1, 3)).await.0, 201);
    let (status, gb_text) = text(format!("http://{gb_metrics}/metrics")).await;
    assert_eq!(status, 200);
    let (_, nl_text) = text(format!("http://{nl_metrics}/metrics")).await;
    // (Other tests of this process run nodes of the same members: their blocks count too.)
    let blocks = |text: &str, node: &str| {
        let sample = format!("borderlink_ledger_blocks_total{{node=\"{node}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&sample)).and_then(|v| v.parse::<f64>().ok())
    };
    assert!(blocks(&gb_text, gb.member()).is_some_and(|b| b >= 2.0), "{gb_text}");
    assert!(blocks(&nl_text, nl.member()).is_some_and(|b| b >= 1.0), "{nl_text}");
    for (text, own) in [(&gb_text, gb.member()), (&nl_text, nl.member())] {
        for sample in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(sample.contains(&format!("node=\"{own}\"")), "another node's sample: {sample}");
        }
    }
    // The listener serves /metrics only.
    assert_eq!(text(format!("http://{gb_metrics}/api/v1/network")).await.0, 404);
}
