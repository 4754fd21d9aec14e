//! A consortium in a temporary folder and helpers to sign transactions for it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use borderlink_ledger::consortium;
use borderlink_ledger::genesis::Genesis;
use borderlink_ledger::identity::MemberKeys;
use borderlink_ledger::tx::TxBody;
use borderlink_ledger::{Hash, Ledger, Transaction, clear_put_body};
use borderlink_model::{ValidateOptions, validate};
use serde_json::Value;

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "bl-ledger-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The demo consortium: two customs administrations, an OGA, two AEOs.
pub(crate) struct Net {
    pub(crate) dir: TempDir,
    pub(crate) genesis: Genesis,
    pub(crate) keys: Vec<MemberKeys>,
}

pub(crate) const GB_CUSTOMS: usize = 0;
pub(crate) const NL_CUSTOMS: usize = 1;
pub(crate) const GB_OGA: usize = 2;
pub(crate) const GB_AEO: usize = 3;
pub(crate) const NL_AEO: usize = 4;

impl Net {
    pub(crate) fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        let orgs = consortium::demo_organisations();
        let created = consortium::create(&dir.0.join("net"), "Test border", &orgs, "2026-11-26T00:00:00Z").unwrap();
        let keys = created.key_files.iter().map(|(_, p)| MemberKeys::load(p).unwrap()).collect();
        Self { genesis: created.genesis, keys, dir }
    }

    pub(crate) fn ledger(&self, node: usize, sub: &str) -> Ledger {
        Ledger::open(&self.dir.0.join(sub), self.genesis.clone(), Some(self.keys[node].clone())).unwrap()
    }

    pub(crate) fn chain(&self) -> Hash {
        self.genesis.chain_id()
    }
}

pub(crate) fn sample(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/samples").join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

pub(crate) fn nonce() -> u64 {
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The document with its business key set to `key`: the LRN of a declaration, the number of an
/// AEO authorisation, the MRN of an inspected declaration, the reference of a movement, the
/// authorisation number a consent covers.
pub(crate) fn keyed(doc: &Value, key: &str) -> Value {
    let mut d = doc.clone();
    let k = Value::String(key.to_owned());
    if d.get("Declaration").is_some_and(|x| x.get("GoodsShipment").is_some() || x.get("TypeCode").is_some()) {
        d["Declaration"]["FunctionalReferenceID"] = k;
    } else if d.get("AuthorisationHolder").is_some() {
        d["AdditionalDocument"]["ID"] = k;
    } else if d.get("Inspection").is_some() {
        d["Declaration"]["ID"] = k;
    } else if d.get("Consignment").is_some() {
        d["Consignment"]["ext"]["movementReference"] = k;
    } else if d.get("Consent").is_some() {
        d["Consent"]["authorisation"]["id"] = k;
    } else {
        panic!("no business key known for {doc}");
    }
    d
}

/// The record a document reads as.
pub(crate) fn record_of(doc: &Value) -> borderlink_model::Record {
    let report = validate(&serde_json::to_vec(doc).unwrap(), &ValidateOptions::default());
    report.record.filter(|_| report.valid).unwrap_or_else(|| panic!("fixture record invalid: {:#?}", report.errors))
}

/// The ledger id of `doc` with business key `key`, created by `signer`.
pub(crate) fn id_of(net: &Net, signer: usize, doc: &Value, key: &str) -> String {
    borderlink_ledger::meta::record_id(&record_of(&keyed(doc, key)), &net.keys[signer].member).unwrap()
}

/// A signed put of a record of the dataset, in clear, with business key `key` (its id is the one
/// the ledger derives from it).
pub(crate) fn put(net: &Net, signer: usize, doc: &Value, key: &str, version: u64) -> Transaction {
    let doc = keyed(doc, key);
    let id = id_of(net, signer, &doc, key);
    put_as(net, signer, &doc, &id, version)
}

/// A signed put of `doc` under the given record id, whatever its content says.
pub(crate) fn put_as(net: &Net, signer: usize, doc: &Value, record_id: &str, version: u64) -> Transaction {
    let payload = serde_json::to_vec(doc).unwrap();
    let record = record_of(doc);
    let keys = &net.keys[signer];
    let body =
        clear_put_body(net.chain(), &record, record_id, version, &payload, &keys.member, nonce(), 1_772_443_800_000);
    Transaction::sign(body, payload, vec![], keys)
}

/// A signed transaction from an arbitrary body.
pub(crate) fn signed(net: &Net, signer: usize, body: TxBody, payload: Vec<u8>) -> Transaction {
    Transaction::sign(body, payload, vec![], &net.keys[signer])
}

pub(crate) fn erase(net: &Net, signer: usize, record_id: &str, version: u64) -> Transaction {
    let keys = &net.keys[signer];
    let body = borderlink_ledger::erase_body(
        net.chain(),
        "declaration",
        record_id,
        version - 1,
        &keys.member,
        nonce(),
        1_772_443_900_000,
    );
    Transaction::sign(body, vec![], vec![], keys)
}

/// Submits one transaction and returns its result.
pub(crate) fn submit_one(
    l: &Ledger,
    tx: Transaction,
) -> Result<borderlink_ledger::Receipt, borderlink_ledger::TxError> {
    l.submit(vec![tx], 1_772_444_000_000).unwrap().results.remove(0)
}
