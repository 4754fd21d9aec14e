//! `GET /network`: the consortium's ordering nodes as this node sees them — which one leads, in
//! which term, each node's height and Raft log position, whether its signed block hashes agree
//! with this node's, and which nodes have not been heard from — drawn as a diagram, then the
//! commit rate over the last hour, each also given as a table.
//!
//! The commit rate is read from the block timestamps of the ledger (not from samples kept in
//! memory), so it survives a restart and every node shows the same figures for the same blocks.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use borderlink_ledger::Ledger;
use maud::{Markup, html};

use crate::console::charts::{self, Axes, Curve, n};
use crate::console::format::{path, when};
use crate::console::layout;
use crate::principal::{ReadLedger, Require};
use crate::raft::{ClusterStatus, NodeStatus};
use crate::server::SharedState;

/// A peer not heard from for this long is shown as unreachable (checkpoints are exchanged every
/// second, so this is several missed exchanges).
const UNREACHABLE_AFTER_MS: u64 = 10_000;

/// The window of the commit-rate chart, in minutes.
const WINDOW_MINUTES: usize = 60;

/// At most this many blocks are read back for the chart: beyond it the oldest minutes are left
/// out (and the page says so) rather than the page slowing down.
const MAX_BLOCKS_READ: u64 = 20_000;

pub(super) async fn page(
    _: Require<ReadLedger>,
    super::console::ConsoleLedger(ledger): super::console::ConsoleLedger,
    State(state): State<SharedState>,
) -> Response {
    let head = ledger.head();
    let height = head.as_ref().map_or(0, |h| h.height);
    let status = state.ledger.as_ref().and_then(|s| s.cluster()).map(|c| c.status());
    let now_ms = state.clock.now_ms();
    let rate = tokio::task::spawn_blocking(move || CommitRate::read(&ledger, now_ms)).await.unwrap_or_default();
    layout(
        "Network",
        super::NETWORK,
        html! {
            section.panel {
                h1 { "Network" }
                p.lead { "The consortium's ordering nodes: each keeps its own copy of the ledger, re-validates every transaction, and signs the hash of every block it commits. Block hashes are compared between nodes every second." }
                @match &status {
                    None => {
                        p #solo { "This node keeps its ledger alone (no replication configured): height " (height) "." }
                        (solo_diagram(height))
                    }
                    Some(s) => { (cluster(s, height)) }
                }
            }
            section.panel aria-labelledby="commit-rate-heading" {
                h2 #commit-rate-heading { "Commit rate" }
                (commit_rate(&rate))
            }
        },
    )
    .into_response()
}

/// How a node stands with this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    ThisNode,
    Agrees,
    /// Agrees as far as compared, but not yet up to this node's height.
    Behind,
    Diverged,
    Unreachable,
}

impl Standing {
    fn of(n: &NodeStatus, our_height: u64) -> Self {
        if n.this_node {
            Self::ThisNode
        } else if n.diverged_at.is_some() {
            Self::Diverged
        } else if n.last_contact_ms.is_none_or(|ms| ms > UNREACHABLE_AFTER_MS) {
            Self::Unreachable
        } else if n.agreed_height.is_some_and(|a| a >= our_height) {
            Self::Agrees
        } else {
            Self::Behind
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::ThisNode => "this-node",
            Self::Agrees => "agrees",
            Self::Behind => "behind",
            Self::Diverged => "diverged",
            Self::Unreachable => "unreachable",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::ThisNode => "this node",
            Self::Agrees => "same block hashes",
            Self::Behind => "agrees so far, catching up",
            Self::Diverged => "different block hash",
            Self::Unreachable => "unreachable",
        }
    }
}

fn role(n: &NodeStatus) -> &'static str {
    if n.leader {
        "leader"
    } else if n.voter {
        "follower"
    } else {
        "learner"
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

fn cluster(s: &ClusterStatus, height: u64) -> Markup {
    let divergent: Vec<_> = s.nodes.iter().filter(|n| n.diverged_at.is_some()).collect();
    html! {
        dl.facts {
            dt { "This node" } dd #this-node { "node " (s.node_id) " (" (s.state) ")" }
            dt { "Leader" } dd #leader { @match s.leader { Some(l) => { "node " (l) }, None => { "none elected (no quorum)" } } }
            dt { "Term" } dd #term { (s.term) }
            dt { "Log" } dd { "last index " (s.last_log_index.unwrap_or(0)) ", applied " (s.applied_index.unwrap_or(0)) ", snapshot at " (s.snapshot_index.unwrap_or(0)) ", purged up to " (s.purged_index.unwrap_or(0)) }
            @if s.isolated { dt { "Fault switch" } dd { "cut off from its peers" } }
        }
        @if divergent.is_empty() {
            p #agreement { "Checkpoint agreement: every node that reported signed the same block hashes as this node." }
        } @else {
            @for n in &divergent {
                p.alert.alert-error role="alert" { "Divergence: node " (n.id) " (" (n.member) ") signed a different block hash at height " (n.diverged_at.unwrap_or(0)) "." }
            }
        }
        (diagram(s, height))
        ul.legend.network-legend aria-hidden="true" {
            li { span.swatch.agrees {} "same block hashes" }
            li { span.swatch.behind {} "catching up" }
            li { span.swatch.diverged {} "different block hash" }
            li { span.swatch.unreachable {} "unreachable (not heard from for " (UNREACHABLE_AFTER_MS / 1000) " s)" }
        }
        div.table-wrap {
            table.data #nodes {
                caption.visually-hidden { "The ordering nodes, as this node sees them" }
                thead { tr {
                    th scope="col" { "Node" } th scope="col" { "Member" } th scope="col" { "Role" } th scope="col" { "API" }
                    th scope="col" { "Height" } th scope="col" { "Log index" } th scope="col" { "Checkpoints agree up to" }
                    th scope="col" { "Divergence" } th scope="col" { "Standing" } th scope="col" { "Last exchange" }
                } }
                tbody {
                    @for node in &s.nodes {
                        @let standing = Standing::of(node, height);
                        tr data-node=(node.id) data-standing=(standing.class()) {
                            th scope="row" { (node.id) @if node.this_node { " (this node)" } }
                            td { (node.member) }
                            td { @if node.leader { strong { "leader" } } @else if node.voter { "voter" } @else { "learner" } }
                            td { (path(&node.api_url)) }
                            td.height { (opt(node.height)) }
                            td.log { (opt(node.matched_index)) }
                            td.agreed { @if node.this_node { "—" } @else { (node.agreed_height.map_or("not yet compared".to_owned(), |h| h.to_string())) } }
                            td.diverged { @match node.diverged_at { Some(h) => { span.badge.diverged { "at height " (h) } }, None => { "none" } } }
                            td.standing { (standing.words()) }
                            td { @if node.this_node { "—" } @else { (node.last_contact_ms.map_or("never".to_owned(), |ms| format!("{:.1} s ago", ms as f64 / 1000.0))) } }
                        }
                    }
                }
            }
        }
    }
}

/// One box of the diagram.
struct NodeBox<'a> {
    id: String,
    title: String,
    lines: [String; 2],
    standing: Standing,
    leader: bool,
    member: &'a str,
}

const BOX_H: f64 = 64.0;

fn node_box(b: &NodeBox<'_>, x: f64, y: f64, w: f64) -> Markup {
    let state = b.standing.words();
    html! {
        g.node.(b.standing.class()).leader[b.leader] data-node=(b.id) data-standing=(b.standing.class()) {
            title { (b.title) " (" (b.member) "): " (b.lines[0]) "; " (b.lines[1]) "; " (state) }
            rect.node-box x=(n(x)) y=(n(y)) width=(n(w)) height=(n(BOX_H)) rx="6" {}
            text.node-name x=(n(x + 10.0)) y=(n(y + 18.0)) { (b.title) }
            text.node-figure x=(n(x + 10.0)) y=(n(y + 35.0)) { (b.lines[0]) }
            text.node-figure x=(n(x + 10.0)) y=(n(y + 52.0)) { (b.lines[1]) }
        }
    }
}

/// The nodes as boxes: the leader on top, the followers and learners below, each joined to the
/// leader by the line its log is replicated along (dashed when the node is unreachable).
fn diagram(s: &ClusterStatus, height: u64) -> Markup {
    const MARGIN: f64 = 16.0;
    const GAP: f64 = 12.0;
    const TOP: f64 = 12.0;
    const BELOW: f64 = 124.0;
    fn boxed(node: &NodeStatus, height: u64) -> NodeBox<'_> {
        NodeBox {
            id: node.id.to_string(),
            title: format!("node {} · {}{}", node.id, role(node), if node.this_node { " · this node" } else { "" }),
            lines: [format!("height {}", opt(node.height)), format!("log {}", opt(node.matched_index))],
            standing: Standing::of(node, height),
            leader: node.leader,
            member: &node.member,
        }
    }
    let leader = s.nodes.iter().find(|n| n.leader);
    let others: Vec<&NodeStatus> = s.nodes.iter().filter(|n| !n.leader).collect();
    let count = others.len().max(1) as f64;
    let w = ((charts::WIDTH - 2.0 * MARGIN - GAP * (count - 1.0)) / count).min(200.0);
    let row = w * count + GAP * (count - 1.0);
    let left = (charts::WIDTH - row) / 2.0;
    let top_w = 200.0;
    let top_x = (charts::WIDTH - top_w) / 2.0;
    let description = s
        .nodes
        .iter()
        .map(|node| {
            format!(
                "node {} ({}, {}): height {}, log index {}, {}",
                node.id,
                node.member,
                role(node),
                opt(node.height),
                opt(node.matched_index),
                Standing::of(node, height).words()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    charts::frame(
        "network-diagram",
        BELOW + BOX_H + 12.0,
        "The ordering nodes",
        &format!("{description}. The same figures are in the table below."),
        html! {
            @if let Some(l) = leader {
                @for (i, o) in others.iter().enumerate() {
                    @let x = left + (w + GAP) * i as f64 + w / 2.0;
                    line.link.(Standing::of(o, height).class()) x1=(n(charts::WIDTH / 2.0)) y1=(n(TOP + BOX_H)) x2=(n(x)) y2=(n(BELOW)) {}
                }
                (node_box(&boxed(l, height), top_x, TOP, top_w))
            } @else {
                text.empty x=(n(charts::WIDTH / 2.0)) y=(n(TOP + BOX_H / 2.0)) text-anchor="middle" { "No leader elected (no quorum)" }
            }
            @for (i, o) in others.iter().enumerate() {
                (node_box(&boxed(o, height), left + (w + GAP) * i as f64, BELOW, w))
            }
        },
    )
}

/// The diagram of a node that keeps its ledger alone: one box.
fn solo_diagram(height: u64) -> Markup {
    let b = NodeBox {
        id: "this".to_owned(),
        title: "this node".to_owned(),
        lines: [format!("height {height}"), "no replication".to_owned()],
        standing: Standing::ThisNode,
        leader: false,
        member: "alone",
    };
    charts::frame(
        "network-diagram",
        BOX_H + 24.0,
        "The ordering nodes",
        &format!("One node, this one, keeps the ledger alone at height {height}."),
        node_box(&b, (charts::WIDTH - 200.0) / 2.0, 12.0, 200.0),
    )
}

/// Blocks and transactions committed per minute over the last hour, from block timestamps.
#[derive(Debug, Default)]
struct CommitRate {
    /// The end of the window (the page's "now"), ms since the Unix epoch.
    now_ms: i64,
    /// Per minute, oldest first: (blocks, transactions).
    minutes: Vec<(u64, u64)>,
    /// Whether reading stopped at [`MAX_BLOCKS_READ`] before the start of the window.
    truncated: bool,
}

impl CommitRate {
    /// Reads block headers back from the head until one is older than the window.
    fn read(ledger: &Ledger, now_ms: i64) -> Self {
        let mut minutes = vec![(0, 0); WINDOW_MINUTES];
        let start = now_ms - (WINDOW_MINUTES as i64) * 60_000;
        let mut height = ledger.head().map_or(0, |h| h.height);
        let mut read = 0;
        let mut truncated = false;
        while height > 0 {
            if read == MAX_BLOCKS_READ {
                truncated = true;
                break;
            }
            let Ok(Some(h)) = ledger.block_header(height) else { break };
            read += 1;
            if h.timestamp_ms < start {
                break;
            }
            // A block stamped after "now" (another node's clock ahead) counts in the last minute.
            let minute = usize::try_from((h.timestamp_ms - start) / 60_000).unwrap_or(0).min(WINDOW_MINUTES - 1);
            minutes[minute].0 += 1;
            minutes[minute].1 += u64::from(h.tx_count);
            height -= 1;
        }
        Self { now_ms, minutes, truncated }
    }

    fn minute_start(&self, i: usize) -> i64 {
        self.now_ms - ((WINDOW_MINUTES - i) as i64) * 60_000
    }
}

fn commit_rate(rate: &CommitRate) -> Markup {
    let blocks: u64 = rate.minutes.iter().map(|m| m.0).sum();
    let txs: u64 = rate.minutes.iter().map(|m| m.1).sum();
    let max = rate.minutes.iter().map(|m| m.1.max(m.0)).max().unwrap_or(0).max(1);
    let points = |f: fn(&(u64, u64)) -> u64| -> Vec<(f64, f64)> {
        rate.minutes.iter().enumerate().map(|(i, m)| (i as f64 - WINDOW_MINUTES as f64 + 1.0, f(m) as f64)).collect()
    };
    let lines = if blocks == 0 {
        Vec::new()
    } else {
        vec![
            Curve { name: "transactions".into(), class: "series-a".into(), points: points(|m| m.1) },
            Curve { name: "blocks".into(), class: "series-b".into(), points: points(|m| m.0) },
        ]
    };
    let axes = Axes {
        x_name: "minutes ago".into(),
        x: (-(WINDOW_MINUTES as f64), 0.0),
        y_name: "per minute".into(),
        y: (0.0, max as f64),
    };
    let label = |v: f64| if v >= 0.0 { "now".to_owned() } else { format!("{:.0}", -v) };
    let busy: Vec<(usize, &(u64, u64))> = rate.minutes.iter().enumerate().filter(|(_, m)| m.0 > 0).collect();
    html! {
        p #commit-summary {
            "In the last hour, up to " (when(rate.now_ms)) ": "
            strong { (blocks) } (if blocks == 1 { " block" } else { " blocks" }) " committed with "
            strong { (txs) } (if txs == 1 { " transaction" } else { " transactions" })
            @if blocks > 0 { " (" (format!("{:.1}", txs as f64 / WINDOW_MINUTES as f64)) " transactions a minute on average)" }
            ". Read from the blocks' own timestamps, so the figures survive a restart."
            @if rate.truncated { " Only the newest " (MAX_BLOCKS_READ) " blocks were read: the oldest minutes are left out." }
        }
        (charts::curves(
            "commit-rate",
            "Blocks and transactions committed per minute, last hour",
            &format!("{blocks} blocks and {txs} transactions in the last {WINDOW_MINUTES} minutes; the minutes with commits are in the table below."),
            &axes,
            &lines,
            &label,
        ))
        @if busy.is_empty() {
            p.none { "No block was committed in the last hour." }
        } @else {
            details {
                summary { "The minutes with commits, as a table" }
                div.table-wrap {
                    table.data #commit-minutes {
                        caption.visually-hidden { "Blocks and transactions committed per minute in the last hour" }
                        thead { tr { th scope="col" { "Minute from" } th scope="col" { "Blocks" } th scope="col" { "Transactions" } } }
                        tbody {
                            @for (i, m) in busy {
                                tr { th scope="row" { (when(rate.minute_start(i))) } td { (m.0) } td { (m.1) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64, leader: bool, contact: Option<u64>, agreed: Option<u64>, diverged: Option<u64>) -> NodeStatus {
        NodeStatus {
            id,
            member: format!("m{id}"),
            api_url: format!("http://127.0.0.1:{id}"),
            peer_addr: String::new(),
            voter: true,
            this_node: id == 1,
            leader,
            height: Some(5),
            matched_index: Some(9),
            agreed_height: agreed,
            diverged_at: diverged,
            last_contact_ms: contact,
        }
    }

    #[test]
    fn standing_marks_unreachable_diverged_and_agreeing_nodes() {
        assert_eq!(Standing::of(&node(1, true, None, None, None), 5), Standing::ThisNode);
        assert_eq!(Standing::of(&node(2, false, Some(500), Some(5), None), 5), Standing::Agrees);
        assert_eq!(Standing::of(&node(2, false, Some(500), Some(3), None), 5), Standing::Behind);
        assert_eq!(Standing::of(&node(2, false, Some(60_000), Some(5), None), 5), Standing::Unreachable);
        assert_eq!(Standing::of(&node(2, false, None, None, None), 5), Standing::Unreachable);
        assert_eq!(Standing::of(&node(2, false, Some(500), Some(5), Some(4)), 5), Standing::Diverged);
    }

    #[test]
    fn the_diagram_draws_every_node_and_links_followers_to_the_leader() {
        let s = ClusterStatus {
            node_id: 1,
            state: "leader",
            term: 2,
            leader: Some(1),
            last_log_index: Some(9),
            applied_index: Some(9),
            snapshot_index: None,
            purged_index: None,
            voters: vec![1, 2, 3],
            learners: vec![],
            nodes: vec![
                node(1, true, None, None, None),
                node(2, false, Some(100), Some(5), None),
                node(3, false, None, None, None),
            ],
            isolated: false,
            diverging: false,
        };
        let svg = diagram(&s, 5).into_string();
        assert_eq!(svg.matches("<g class=\"node").count(), 3, "{svg}");
        assert_eq!(svg.matches("<line class=\"link").count(), 2, "{svg}");
        assert!(svg.contains(r#"data-node="3" data-standing="unreachable""#), "{svg}");
        assert!(svg.contains("class=\"node this-node leader\""), "{svg}");
        assert!(!svg.contains("style="));
    }
}
