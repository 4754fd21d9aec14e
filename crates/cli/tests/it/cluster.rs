//! The replicated ledger with real processes and real sockets: three nodes started with
//! `borderlink serve --config` from a consortium made by `network new`, talking mutual TLS.
//! Readiness is always polled, never slept for. After every test each node's chain passes
//! `ledger verify` and all head hashes match.
//!
//! The fault tests are slow on two cores: they are `#[ignore]`d in the default `cargo test` and
//! run by `scripts/test.sh` (what CI runs) with `--include-ignored`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use borderlink_ledger::Transaction;
use borderlink_ledger::identity::MemberKeys;
use serde_json::Value;

use crate::net::{NODE_ORGS, Net, Process, free_base_port, http, network_new, now_ms, poll, submit};
use crate::{TempDir, borderlink, s, stderr, stdout};

#[test]
fn three_nodes_replicate_forward_and_read_linearizably() {
    let net = Net::new("raft3", "");
    let leader = net.leader();
    let follower = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    // A submission to a follower is forwarded to the leader and committed on every node.
    let (id, body) = net.declaration("FWD", 1);
    let (status, reply) = net.submit(follower, &body).expect("follower answers");
    assert_eq!(status, 201, "{reply}");
    let height = reply["height"].as_u64().expect("height");
    // Read it at once on the third node, linearizably: it waits until it has applied it.
    let (status, v) = net.get(other, &format!("/api/v1/records/{id}?consistency=linearizable")).expect("read");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["height"].as_u64(), Some(height));
    // Submitting the same signed transaction again returns its first receipt: committed once.
    let (status, again) = net.submit(other, &body).expect("answers");
    assert!(status == 200 || status == 201, "{again}");
    assert_eq!(again["height"], reply["height"]);
    assert_eq!(again["tx_id"], reply["tx_id"]);
    let (_, hist) = net.get(leader, &format!("/api/v1/records/{id}/history")).expect("history");
    assert_eq!(hist["versions"].as_array().map(Vec::len), Some(1));
    // A bad consistency value is refused with the reason.
    let (status, e) = net.get(other, &format!("/api/v1/records/{id}?consistency=eventual")).expect("read");
    assert_eq!(status, 400, "{e}");
    // The status command sees one leader and agreeing heads.
    net.converge();
    let o = borderlink(&["network", "status", "--dir", s(&net.cdir()), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let st: Value = serde_json::from_slice(&o.stdout).expect("status JSON");
    assert_eq!(st["leader"].as_u64(), Some(leader as u64 + 1));
    assert_eq!(st["heads_agree"], true);
    assert_eq!(st["all_reachable"], true);
    assert!(st["common_height"].as_u64() >= Some(height));
    // Each node's view lists three voters and its checkpoint agreement with the others.
    net.wait("checkpoints are compared", Duration::from_secs(30), || {
        net.cluster(other).is_some_and(|c| {
            c["voters"].as_array().map(Vec::len) == Some(3)
                && c["nodes"]
                    .as_array()
                    .is_some_and(|n| n.iter().filter(|x| x["agreed_height"].as_u64() >= Some(height)).count() == 2)
        })
    });
    net.finish();
}

#[test]
fn a_peer_with_a_certificate_from_another_ca_is_refused() {
    let net = Net::new("raftca", "");
    net.leader();
    let foreign = TempDir::new("foreign-ca");
    let o = network_new(&foreign.0.join("c"), 1, &NODE_ORGS[..1]);
    assert_eq!(o.status.code(), Some(0));
    // The foreign node's certificate names the same member id as a real node of `net`.
    let fdir = foreign.0.join("c/orgs").join(&net.nodes[0].0);
    let tls = borderlink_node::peer::PeerTls::new(
        &std::fs::read_to_string(foreign.0.join("c/ca.pem")).expect("ca"),
        &std::fs::read_to_string(fdir.join("node.pem")).expect("cert"),
        &std::fs::read_to_string(fdir.join("node.key")).expect("key"),
    )
    .expect("tls");
    let peer_addr = net.genesis.nodes[1].peer_addr.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let refused = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tcp = tokio::net::TcpStream::connect(&peer_addr).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from(format!("{}.borderlink", net.nodes[1].0)).expect("name");
        // Our side refuses the node's certificate (another CA), or the node refuses ours.
        match tls.connector().connect(name, tcp).await {
            Err(_) => true,
            Ok(mut s) => {
                let _ = s.write_all(&[0, 0, 0, 1, 0]).await;
                let mut buf = [0u8; 8];
                !matches!(s.read(&mut buf).await, Ok(n) if n > 0)
            }
        }
    });
    assert!(refused, "a foreign-CA peer must not be served");
    // The node counted the refusal.
    let metrics = net.metrics(1).expect("metrics");
    assert!(metrics.contains("borderlink_peer_refused_total"), "{metrics}");
    net.finish();
}

#[test]
#[ignore = "slow (real processes under load): run by scripts/test.sh with --include-ignored"]
fn kill_9_the_leader_under_load_loses_nothing_and_commits_once() {
    let net = Net::new("raftkill", "");
    let leader = net.leader();
    let acked = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let net = Arc::new(Mutex::new(net));
    let submitters: Vec<_> = (0..4)
        .map(|k| {
            let (acked, next, stop, net) = (Arc::clone(&acked), Arc::clone(&next), Arc::clone(&stop), Arc::clone(&net));
            let urls: Vec<String> = net.lock().expect("lock").nodes.iter().map(|n| n.1.clone()).collect();
            let (id0, _) = (k, 0);
            std::thread::spawn(move || {
                let c = http(Duration::from_secs(30));
                let mut target = id0 % 3;
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (id, body) = {
                        let g = net.lock().expect("lock");
                        g.declaration("LOAD", n)
                    };
                    // A client retries the same signed bytes, on any node, until it gets an answer.
                    for attempt in 0..200 {
                        match submit(&c, &urls[target], &body) {
                            Some((200 | 201, v)) => {
                                acked.lock().expect("lock").push((id.clone(), v["height"].as_u64().unwrap_or(0)));
                                break;
                            }
                            Some((400..=499, v)) => panic!("refused: {v}"),
                            _ => {
                                target = (target + 1) % 3;
                                assert!(attempt < 199, "{id} never committed");
                                std::thread::sleep(Duration::from_millis(50));
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let wait_acked = |n: usize| {
        assert!(poll(Duration::from_secs(240), || acked.lock().expect("lock").len() >= n), "too few acknowledged");
    };
    wait_acked(60);
    net.lock().expect("lock").kill9(leader);
    let before = acked.lock().expect("lock").len();
    wait_acked(before + 60);
    stop.store(true, Ordering::Relaxed);
    for s in submitters {
        s.join().expect("submitter");
    }
    let mut net = Arc::try_unwrap(net).ok().expect("sole owner").into_inner().expect("lock");
    let new_leader = net.leader();
    assert_ne!(new_leader, leader, "a new leader was elected");
    // Bring the killed node back: it catches up.
    net.start(leader);
    net.converge();
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    let ids: BTreeSet<&String> = acked.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), acked.len(), "each acknowledgement names its own transaction");
    for i in 0..3 {
        for (id, height) in &acked {
            let (status, h) = net.get(i, &format!("/api/v1/records/{id}/history")).expect("history");
            assert_eq!(status, 200, "acknowledged {id} missing on node {i}");
            let versions = h["versions"].as_array().expect("versions");
            assert_eq!(versions.len(), 1, "{id} committed exactly once");
            assert_eq!(versions[0]["height"].as_u64(), Some(*height), "{id} where it was acknowledged");
        }
    }
    net.finish();
}

#[test]
#[ignore = "slow (real processes): run by scripts/test.sh with --include-ignored"]
fn a_node_down_for_long_catches_up_through_a_snapshot() {
    let mut net = Net::new("raftsnap", "snapshot_every = 20\nkeep_after_snapshot = 2\n");
    let leader = net.leader();
    let down = (leader + 1) % 3;
    net.stop(down);
    for n in 0..70 {
        let (_, body) = net.declaration("SNAP", n);
        let (status, v) = net.submit(leader, &body).expect("leader answers");
        assert_eq!(status, 201, "{v}");
    }
    // The leader compacted its log past what the stopped node has.
    net.wait("the leader purges its log", Duration::from_secs(60), || {
        net.cluster(leader).is_some_and(|c| c["purged_index"].as_u64().unwrap_or(0) > 20)
    });
    net.start(down);
    let (height, _) = net.converge();
    assert!(height >= 70);
    let metrics = net.metrics(leader).expect("metrics");
    assert!(
        metrics.lines().any(|l| l.starts_with("borderlink_raft_snapshots_sent_total") && !l.ends_with(" 0")),
        "the leader sent a snapshot:\n{metrics}"
    );
    assert!(
        net.log_tail(down).contains("snapshot installed") || {
            std::fs::read_to_string(net.node_dir(down).join("node.log"))
                .unwrap_or_default()
                .contains("snapshot installed")
        }
    );
    net.finish();
}

#[test]
#[ignore = "slow (real processes): run by scripts/test.sh with --include-ignored"]
fn a_partitioned_leader_cannot_write_the_majority_goes_on_and_all_heal() {
    let net = Net::new("raftpart", "faults = true\n");
    let old = net.leader();
    let (_, body) = net.declaration("PART", 0);
    assert_eq!(net.submit(old, &body).expect("answers").0, 201);
    // Cut the leader off.
    net.faults(old, serde_json::json!({"isolate": true}));
    let a = (old + 1) % 3;
    let b = (old + 2) % 3;
    // The majority elects a new leader and commits.
    let mut committed = None;
    net.wait("the majority commits without the old leader", Duration::from_secs(60), || {
        let (_, body) = net.declaration("PART", 1);
        match net.submit(a, &body) {
            Some((201, v)) => {
                committed = v["height"].as_u64();
                true
            }
            _ => false,
        }
    });
    // The minority refuses writes: ordering_unavailable (503), nothing committed there.
    let (_, body) = net.declaration("PART", 2);
    let (status, v) = net.submit(old, &body).expect("the isolated node answers HTTP");
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["code"], "ordering_unavailable");
    let new_leader = net.cluster(a).and_then(|c| c["leader"].as_u64()).expect("leader") as usize - 1;
    assert!(new_leader == a || new_leader == b);
    // Heal: the old leader rejoins as follower and every node ends with identical blocks.
    net.faults(old, serde_json::json!({"isolate": false}));
    let (height, _) = net.converge();
    assert!(height >= committed.unwrap_or(0));
    net.finish();
}

#[test]
#[ignore = "slow (real processes): run by scripts/test.sh with --include-ignored"]
fn a_faulty_leaders_corrupted_transaction_is_invalid_everywhere() {
    let net = Net::new("raftfault", "faults = true\n");
    let leader = net.leader();
    net.faults(leader, serde_json::json!({"corrupt_next": true}));
    let (id, body) = net.declaration("CORRUPT", 0);
    let (status, v) = net.submit(leader, &body).expect("answers");
    assert!(status >= 400, "a corrupted transaction is not committed: {v}");
    let (height, _) = net.converge();
    for i in 0..3 {
        let (s, block) = net.get(i, &format!("/api/v1/blocks/{height}")).expect("block");
        assert_eq!(s, 200);
        let txs = block["transactions"].as_array().expect("txs");
        assert_eq!(txs.len(), 1, "{block}");
        assert_eq!(txs[0]["outcome"]["code"], "bad_signature", "node {i}: {block}");
        assert_eq!(net.get(i, &format!("/api/v1/records/{id}")).expect("read").0, 404);
    }
    net.finish();
}

#[test]
#[ignore = "slow (real processes): run by scripts/test.sh with --include-ignored"]
fn a_node_whose_blocks_differ_is_reported_by_the_others_with_the_height() {
    let mut net = Net::new("raftdiverge", "faults = true\n");
    let leader = net.leader();
    let (_, body) = net.declaration("AGREE", 0);
    assert_eq!(net.submit(leader, &body).expect("answers").0, 201);
    let bad = (leader + 1) % 3;
    net.faults(bad, serde_json::json!({"diverge": true}));
    let (_, body) = net.declaration("DIVERGE", 1);
    let (status, v) = net.submit(leader, &body).expect("answers");
    assert_eq!(status, 201, "{v}");
    let h = v["height"].as_u64().expect("height");
    let bad_member = net.nodes[bad].0.clone();
    for i in (0..3).filter(|i| *i != bad) {
        net.wait("the divergence is reported", Duration::from_secs(60), || {
            net.cluster(i).is_some_and(|c| {
                c["nodes"].as_array().is_some_and(|n| {
                    n.iter().any(|x| x["member"] == bad_member.as_str() && x["diverged_at"].as_u64() == Some(h))
                })
            })
        });
    }
    let metrics = net.metrics(leader).expect("metrics");
    assert!(metrics.contains("borderlink_checkpoint_divergence_height"), "{metrics}");
    let o = borderlink(&["network", "status", "--dir", s(&net.cdir()), "--json"]);
    assert_eq!(o.status.code(), Some(1), "status fails while a node diverges");
    let st: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(st["divergent"][0][0].as_u64(), Some(bad as u64 + 1), "{st}");
    assert_eq!(st["divergent"][0][1].as_u64(), Some(h), "{st}");
    // Every chain is still internally sound; the two honest nodes have the same head.
    let honest: Vec<usize> = (0..3).filter(|i| *i != bad).collect();
    net.wait("the honest nodes agree", Duration::from_secs(60), || net.head(honest[0]) == net.head(honest[1]));
    for i in 0..3 {
        net.stop(i);
        net.verify(i);
    }
}

#[test]
#[ignore = "slow (real processes): run by scripts/test.sh with --include-ignored"]
fn governance_adds_a_node_as_learner_then_voter_and_retires_it() {
    let mut net = Net::new("raftgov", "");
    let leader = net.leader();
    let (_, body) = net.declaration("GOV", 0);
    assert_eq!(net.submit(leader, &body).expect("answers").0, 201);
    // The AEO starts a node of its own: it is not part of the group until governance says so.
    let aeo = std::fs::read_dir(net.cdir().join("orgs"))
        .expect("orgs")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .find(|id| id.starts_with("gb-aeo"))
        .expect("the AEO");
    let (extra, peer, api) = net.start_extra(&aeo, 4);
    assert_eq!(net.cluster(leader).expect("status")["voters"].as_array().map(Vec::len), Some(3));
    let orgs = net.cdir().join("orgs");
    let customs: Vec<PathBuf> = net
        .genesis
        .members
        .iter()
        .filter(|m| m.role == borderlink_ledger::identity::Role::Customs)
        .map(|m| orgs.join(&m.id).join("member.key"))
        .collect();
    let genesis = net.cdir().join("genesis.json");
    let add_node = |approvers: &[&str]| {
        let mut args = vec!["network", "add-node", "--genesis", s(&genesis), "--key", s(&customs[0])];
        for a in approvers {
            args.extend(["--approve-key", a]);
        }
        let node = net.nodes[leader].1.clone();
        args.extend(["--member", &aeo, "--node-id", "4", "--peer-addr", &peer, "--api-url", &api, "--node", &node]);
        borderlink(&args)
    };
    // One customs approval is not enough (the genesis asks for two of the two).
    let o = add_node(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("governance"), "{}", stderr(&o));
    let o = add_node(&[s(&customs[1])]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Learner first, then voter; it holds the whole chain.
    net.wait("the new node is a voter", Duration::from_secs(120), || {
        net.cluster(leader).is_some_and(|c| c["voters"].as_array().is_some_and(|v| v.iter().any(|x| x == 4)))
    });
    net.converge();
    assert!(net.head(extra).expect("head").0 >= 2);
    // Retire it again.
    let leader = net.leader();
    let o = borderlink(&[
        "network",
        "remove-node",
        "--genesis",
        s(&genesis),
        "--key",
        s(&customs[0]),
        "--approve-key",
        s(&customs[1]),
        "--node",
        &net.nodes[leader].1,
        "--node-id",
        "4",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    net.wait("the node left the voters", Duration::from_secs(120), || {
        net.cluster(leader)
            .is_some_and(|c| c["voters"].as_array().is_some_and(|v| v.len() == 3 && !v.iter().any(|x| x == 4)))
    });
    // The retired node keeps its copy up to its removal; the others go on.
    let retired_height = net.head(extra).expect("head").0;
    net.stop(extra);
    net.verify(extra);
    net.forget_last();
    let (_, body) = net.declaration("GOV", 1);
    assert_eq!(net.submit(leader, &body).expect("answers").0, 201);
    let (h, _) = net.converge();
    assert!(h > retired_height);
    net.finish();
}

#[test]
fn network_up_starts_every_node_and_status_reports_them_then_stops_them() {
    let dir = TempDir::new("netup");
    let cdir = dir.0.join("c");
    let o = network_new(&cdir, free_base_port(), &NODE_ORGS);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("borderlink network up --dir"), "{}", stdout(&o));
    let mut up = Process::spawn("network up", &["network", "up", "--dir", s(&cdir)], |c| {
        c.env("BORDERLINK_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::null())
    });
    let lines = match up.lines().until(Duration::from_secs(180), |l| l.starts_with("status:")) {
        Ok(lines) => lines,
        Err((e, lines)) => panic!("network up did not report its nodes: {e}; {lines:?}"),
    };
    assert!(lines[0].contains("3 nodes up"), "{lines:?}");
    let node_lines: Vec<&String> = lines.iter().filter(|l| l.starts_with("node ")).collect();
    assert_eq!(node_lines.len(), 3, "{lines:?}");
    assert!(lines.iter().filter(|l| l.contains("console login: http://127.0.0.1:")).count() == 3, "{lines:?}");
    // Status polls until a leader is elected; then everything agrees.
    let mut st = Value::Null;
    poll(Duration::from_secs(60), || {
        let o = borderlink(&["network", "status", "--dir", s(&cdir), "--json"]);
        if o.status.code() == Some(0) {
            st = serde_json::from_slice(&o.stdout).expect("JSON");
        }
        o.status.code() == Some(0)
    });
    assert_eq!(st["all_reachable"], true, "{st}");
    assert!(st["leader"].as_u64().is_some(), "{st}");
    let human = borderlink(&["network", "status", "--dir", s(&cdir)]);
    assert!(stdout(&human).contains("leader: node "), "{}", stdout(&human));
    // SIGTERM stops network up and every node it started.
    let status = up.stop("-TERM");
    assert!(status.success(), "{status}");
    let http = http(Duration::from_secs(30));
    for l in node_lines {
        let url = l.split_whitespace().nth(3).expect("url");
        assert!(http.get(format!("{url}/healthz")).send().is_err(), "{url} still answers after network up stopped");
    }
}

#[test]
#[ignore = "slow (real processes): run by scripts/test.sh with --include-ignored"]
fn a_node_whose_member_is_suspended_is_cut_off_by_the_others() {
    use borderlink_ledger::governance::{Approval, GovernanceAction, Proposal, approval_message};
    let net = Net::new("raftsuspend", "");
    let leader = net.leader();
    // Suspend the member of a node that is not the leader, approved by both customs administrations.
    let victim =
        (0..3).find(|i| *i != leader && net.genesis.nodes[*i].member.contains("oga")).unwrap_or((leader + 1) % 3);
    let victim_member = net.nodes[victim].0.clone();
    let orgs = net.cdir().join("orgs");
    let customs: Vec<MemberKeys> = net
        .genesis
        .members
        .iter()
        .filter(|m| m.role == borderlink_ledger::identity::Role::Customs)
        .map(|m| MemberKeys::load(&orgs.join(&m.id).join("member.key")).expect("key"))
        .collect();
    let change = GovernanceAction::SuspendMember { member_id: victim_member.clone(), reason: "test".into() };
    let id = "GOV-SUSPEND-1";
    let msg = approval_message(&net.genesis.chain_id(), id, &change).expect("message");
    let approvals = vec![Approval { member: customs[1].member.clone(), signature: hex::encode(customs[1].sign(&msg)) }];
    let payload = serde_json::to_vec(&Proposal { change, approvals }).expect("JSON");
    let body =
        borderlink_ledger::governance_body(net.genesis.chain_id(), id, &payload, &customs[0].member, 1, now_ms());
    let wire = Transaction::sign(body, payload, Vec::new(), &customs[0]).to_wire();
    let (status, v) = net.submit(leader, &serde_json::to_vec(&wire).expect("JSON")).expect("answers");
    assert_eq!(status, 201, "{v}");
    let suspended_at = v["height"].as_u64().expect("height");
    // The others close its connections: it stops receiving blocks, they go on without it.
    let mut last = 0;
    net.wait("the two others commit past the suspension", Duration::from_secs(60), || {
        let (_, body) = net.declaration("AFTER", last);
        last += 1;
        matches!(net.submit(leader, &body), Some((201, _)))
            && (0..3).filter(|i| *i != victim).all(|i| net.head(i).is_some_and(|h| h.0 > suspended_at + 1))
    });
    let others_height = net.head(leader).expect("head").0;
    let victim_height = net.head(victim).expect("head").0;
    assert!(victim_height < others_height, "the suspended member's node still receives blocks");
    // Its peers count the refusals (they no longer send to it, nor accept what it sends).
    net.wait("the refusal is counted", Duration::from_secs(60), || {
        (0..3).filter(|i| *i != victim).all(|i| {
            net.metrics(i).is_some_and(|m| {
                m.lines().any(|l| l.starts_with("borderlink_peer_refused_total") && l.contains("not_a_member"))
            })
        })
    });
    net.finish_without(victim);
}
