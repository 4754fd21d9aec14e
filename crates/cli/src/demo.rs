//! `borderlink demo`: one node on the embedded default (loopback, a local data folder), serving
//! the API and the web console until Ctrl-C.
//!
//! On first start it creates a local consortium in `DATA/consortium` — two customs
//! administrations, an agency and two AEOs, with their keys — runs the node as the British
//! customs administration, and submits the sample records (a declaration by its declarant, an
//! AEO authorisation by its issuing administration, a transport movement, and an inspection
//! result private to the two administrations) so that the console has something to show.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use borderlink_ledger::consortium;
use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::tx::{PayloadKind, RecordMeta, TxBody, TxKind};
use borderlink_ledger::{Hash, Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use borderlink_node::{Config, LedgerConfig, LedgerService};

use crate::ExitCode;

/// Options of `borderlink demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Port to listen on (127.0.0.1). 0 picks a free port.
    #[arg(long, default_value_t = 8080, env = "BORDERLINK_PORT")]
    port: u16,
    /// Data folder of the node.
    #[arg(long, default_value = "./borderlink-data", env = "BORDERLINK_DATA")]
    data: PathBuf,
}

/// Creates the demo consortium unless it exists; returns (genesis path, key path of each member by role order).
fn ensure_consortium(data: &Path) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let dir = data.join("consortium");
    let genesis = dir.join("genesis.json");
    if !genesis.exists() {
        let created = consortium::create(
            &dir,
            "Borderlink demo",
            &consortium::demo_organisations(),
            &borderlink_model::datetime::format_unix_ms(borderlink_node::ordering::now_ms()),
        )
        .context("cannot create the demo consortium")?;
        println!("created the demo consortium in {} ({} members)", dir.display(), created.key_files.len());
    }
    let g = borderlink_ledger::genesis::Genesis::load(&genesis)?;
    let keys = g.members.iter().map(|m| dir.join("orgs").join(&m.id).join("member.key")).collect();
    Ok((genesis, keys))
}

fn sample_records() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("declaration", include_bytes!("../demo/declaration.json").as_slice()),
        ("aeo-authorization", include_bytes!("../demo/aeo-authorisation.json").as_slice()),
        ("transport-movement", include_bytes!("../demo/transport-movement.json").as_slice()),
    ]
}

/// Submits the sample records once (skipped when they are already on the ledger).
async fn seed(svc: &Arc<LedgerService>, keys: &[MemberKeys]) -> anyhow::Result<usize> {
    let l = Arc::clone(svc.ledger());
    let chain = l.chain_id();
    let by_id = |prefix: &str| keys.iter().find(|k| k.member.starts_with(prefix)).cloned();
    let (Some(gb_customs), Some(nl_customs), Some(gb_aeo)) =
        (by_id("gb-customs"), by_id("nl-customs"), by_id("gb-aeo"))
    else {
        anyhow::bail!("the demo consortium lacks its customs or AEO members");
    };
    let mut n = 0;
    for (i, (kind, bytes)) in sample_records().into_iter().enumerate() {
        let report = validate(bytes, &ValidateOptions::default());
        let record = report.record.with_context(|| format!("the demo {kind} is invalid"))?;
        let id = record.business_id().unwrap_or(kind).to_owned();
        if l.record_state(&id)?.is_some() {
            continue;
        }
        let signer = match kind {
            "declaration" => &gb_aeo,
            _ => &gb_customs,
        };
        let payload = serde_json::to_vec(&record)?;
        let body = clear_put_body(
            chain,
            &record,
            &id,
            1,
            &payload,
            &signer.member,
            1000 + i as u64,
            borderlink_node::ordering::now_ms(),
        );
        svc.submit(Transaction::sign(body, payload, vec![], signer)).await.map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
        n += 1;
    }
    // An inspection result, private to the two customs administrations.
    let id = "INSP-2026-000123";
    if l.record_state(id)?.is_none() {
        let inspection = include_bytes!("../demo/inspection-result.json");
        let members = l.members();
        let rcpt: Vec<(String, x25519_dalek::PublicKey)> = [&gb_customs.member, &nl_customs.member]
            .iter()
            .filter_map(|m| members.iter().find(|x| &&x.id == m))
            .map(|m| Ok((m.id.clone(), m.encryption_public()?)))
            .collect::<Result<_, borderlink_ledger::LedgerError>>()?;
        let (header, ciphertext, wrapped) = borderlink_ledger::private::seal(inspection, id, &rcpt)?;
        let body = TxBody {
            chain,
            kind: TxKind::Put,
            record_type: "inspection-result".into(),
            record_id: id.into(),
            version: 1,
            meta: RecordMeta { country: "GB".into(), declarant: String::new(), issuer: String::new() },
            payload_kind: PayloadKind::Private,
            payload_digest: Hash::of(&ciphertext),
            payload_len: ciphertext.len() as u64,
            media_type: "application/json".into(),
            private: Some(header),
            submitter: gb_customs.member.clone(),
            nonce: 2000,
            timestamp_ms: borderlink_node::ordering::now_ms(),
        };
        svc.submit(Transaction::sign(body, ciphertext, wrapped, &gb_customs))
            .await
            .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
        n += 1;
    }
    Ok(n)
}

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    std::fs::create_dir_all(&args.data).with_context(|| format!("cannot create {}", args.data.display()))?;
    let (genesis, key_paths) = ensure_consortium(&args.data)?;
    let keys: Vec<MemberKeys> = key_paths.iter().map(|p| MemberKeys::load(p)).collect::<Result<_, _>>()?;
    let node_key = key_paths.first().cloned().context("the demo consortium has no member")?;
    let config = Config {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        data_dir: args.data,
        ledger: Some(LedgerConfig { genesis, key: node_key }),
        ..Config::default()
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let data = config.data_dir.clone();
        let node = borderlink_node::bind(config).await?;
        if let Some(svc) = node.ledger() {
            let n = seed(svc, &keys).await?;
            if n > 0 {
                println!("submitted {n} sample records to the ledger");
            }
        }
        // The lines a user (and the tests) read: where the console is and how to log in.
        println!("Borderlink console: http://{}/", node.local_addr());
        if let Some(t) = node.console_token() {
            println!("ledger console login: http://{}/login?token={t}", node.local_addr());
        }
        println!("data folder: {}; press Ctrl-C to stop", data.display());
        node.serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        println!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::Ok)
}

pub(crate) fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BORDERLINK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
