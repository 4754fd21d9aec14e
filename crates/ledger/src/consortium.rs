//! `network new`: a whole consortium from one command — a root CA, and for each organisation an
//! Ed25519 signing key with its X.509 certificate (organisation, role, country), an X25519 key
//! for private records, a node TLS certificate, and the genesis file. Nothing to edit by hand.
//!
//! Layout of the folder:
//! ```text
//! DIR/genesis.json            the genesis (public)
//! DIR/ca.pem, DIR/ca.key      the consortium CA (key 0600)
//! DIR/orgs/ID/member.key      the member's signing and encryption keys (0600)
//! DIR/orgs/ID/member.pem      the member's signing certificate
//! DIR/orgs/ID/node.pem, node.key   the node's TLS certificate and key (key 0600)
//! DIR/orgs/ID/api.pem, api.key     an ordering node's API (HTTPS) certificate and key (0600)
//! DIR/orgs/ID/clients/NAME.pem, NAME.key   a system's client certificate (`network client-cert`)
//! ```

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::LedgerError;
use crate::genesis::{DEFAULT_POLICY, GENESIS_FORMAT, Genesis, Governance, Limits, NodeSpec, RULES_CURRENT};
use crate::identity::{Member, MemberKeys, MemberStatus, Role, write_secret};

/// An organisation to create, as given by `--org "NAME:ROLE:COUNTRY"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSpec {
    /// Legal name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Trader ids it declares under (AEOs).
    pub trader_ids: Vec<String>,
}

impl OrgSpec {
    /// Parses `NAME:ROLE:COUNTRY[:TRADER_ID,…]`.
    pub fn parse(s: &str) -> Result<Self, LedgerError> {
        let parts: Vec<&str> = s.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(LedgerError::Usage(format!(
                "--org {s:?}: expected NAME:ROLE:COUNTRY (e.g. \"HM Revenue & Customs:customs:GB\")"
            )));
        }
        let name = parts[0].trim();
        if name.is_empty() {
            return Err(LedgerError::Usage(format!("--org {s:?}: the name is empty")));
        }
        let role = Role::parse(parts[1].trim()).ok_or_else(|| {
            LedgerError::Usage(format!(
                "--org {s:?}: role {:?} is not one of customs, oga, aeo, carrier, port",
                parts[1]
            ))
        })?;
        let country = parts[2].trim().to_ascii_uppercase();
        if !borderlink_model::codelists::is_country(&country) {
            return Err(LedgerError::Usage(format!(
                "--org {s:?}: {country:?} is not an ISO 3166-1 alpha-2 country code"
            )));
        }
        let trader_ids = parts
            .get(3)
            .map(|t| t.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect())
            .unwrap_or_default();
        Ok(Self { name: name.to_owned(), role, country, trader_ids })
    }

    /// A short identifier: country, role and the name's initials, e.g. `gb-customs-hmrc`.
    fn slug(&self, taken: &[String]) -> String {
        let words: String = self
            .name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                !w.is_empty()
                    && !["of", "and", "the", "for", "de", "la", "ltd", "co"].contains(&w.to_ascii_lowercase().as_str())
            })
            .map(|w| w.chars().next().unwrap_or('x').to_ascii_lowercase())
            .collect();
        let base = format!(
            "{}-{}-{}",
            self.country.to_ascii_lowercase(),
            self.role.name(),
            if words.is_empty() { "org".into() } else { words }
        );
        let mut id = base.clone();
        let mut n = 2;
        while taken.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// The organisations of the demo consortium (and of the tests): two customs administrations,
/// an agency and two AEOs, the British one trading under the sample declaration's declarant id.
pub fn demo_organisations() -> Vec<OrgSpec> {
    let org = |name: &str, role, country: &str, trader_ids: &[&str]| OrgSpec {
        name: name.to_owned(),
        role,
        country: country.to_owned(),
        trader_ids: trader_ids.iter().map(|t| (*t).to_owned()).collect(),
    };
    vec![
        org("HM Revenue & Customs", Role::Customs, "GB", &[]),
        org("Douane Nederland", Role::Customs, "NL", &[]),
        org("Animal and Plant Health Agency", Role::Oga, "GB", &[]),
        org("Example Imports Ltd", Role::Aeo, "GB", &["GB553202734852"]),
        org("Voorbeeld Logistiek BV", Role::Aeo, "NL", &["NL123456789"]),
    ]
}

/// The mutual-recognition agreements a new consortium starts with: the AEO programmes of its
/// customs administrations recognise each other (one agreement, when there are two countries or
/// more), sharing the core fields and the AEO category. Each AEO's data still goes nowhere
/// without its consent; the consortium edits the list in its genesis.
pub fn default_agreements(consortium: &str, members: &[Member]) -> Vec<crate::mra::Agreement> {
    let mut countries: Vec<String> =
        members.iter().filter(|m| m.role == Role::Customs).map(|m| m.country.clone()).collect();
    countries.sort();
    countries.dedup();
    if countries.len() < 2 {
        return Vec::new();
    }
    vec![crate::mra::Agreement {
        name: format!("{consortium} AEO mutual recognition"),
        programmes: countries,
        extras: vec!["category".to_owned()],
    }]
}

/// What `network new` created.
#[derive(Debug)]
pub struct Created {
    /// The genesis.
    pub genesis: Genesis,
    /// Path of genesis.json.
    pub genesis_path: PathBuf,
    /// Each member's id and key file.
    pub key_files: Vec<(String, PathBuf)>,
}

fn rc(e: rcgen::Error) -> LedgerError {
    LedgerError::Io(format!("certificate generation failed: {e}"))
}

/// The Ed25519 seed inside a PKCS#8 document produced by rcgen/ring (v1 or v2 layout: the
/// 32-byte seed follows the `04 20` octet-string header at offset 14).
fn seed_of(key: &KeyPair) -> Result<SigningKey, LedgerError> {
    let der = key.serialize_der();
    let seed: [u8; 32] = der
        .get(16..48)
        .filter(|_| der.get(14..16) == Some(&[0x04, 0x20]))
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| LedgerError::Io("unexpected PKCS#8 layout for an Ed25519 key".into()))?;
    let sk = SigningKey::from_bytes(&seed);
    if sk.verifying_key().as_bytes() != key.public_key_raw() {
        return Err(LedgerError::Io("the extracted Ed25519 key does not match its certificate key".into()));
    }
    Ok(sk)
}

/// Which organisations run ordering nodes, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// Members with these roles run a node (in the order they are given).
    pub roles: Vec<Role>,
    /// Host the nodes listen on.
    pub host: String,
    /// Node k (from 0) serves its API on `base_port + 2k` and peers on `base_port + 2k + 1`.
    pub base_port: u16,
    /// The nodes serve their API over HTTPS (`https://` API URLs in the genesis). The API
    /// certificates are issued either way.
    pub https: bool,
}

impl Default for NodePlan {
    /// Every customs administration and agency runs a node, on loopback from port 7400.
    fn default() -> Self {
        Self { roles: vec![Role::Customs, Role::Oga], host: "127.0.0.1".into(), base_port: 7400, https: false }
    }
}

/// An ordering node's API certificate (`api.pem`, key `api.key` 0600 in `org_dir`): a server
/// certificate for `host` (its `api_url`'s host, a name or an address) and for loopback, so
/// that clients on the node's own machine can verify it too.
fn issue_api_certificate(
    org_dir: &Path,
    member: &str,
    host: &str,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(), LedgerError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rc)?;
    let mut names = vec![host.trim_start_matches('[').trim_end_matches(']').to_owned()];
    for local in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|n| n == local) {
            names.push(local.to_owned());
        }
    }
    let mut p = CertificateParams::new(names).map_err(rc)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("{member} API"));
    p.distinguished_name = dn;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = p.signed_by(&key, issuer).map_err(rc)?;
    std::fs::write(org_dir.join("api.pem"), cert.pem()).map_err(|e| LedgerError::Io(e.to_string()))?;
    write_secret(&org_dir.join("api.key"), key.serialize_pem().as_bytes())
}

/// Issues a client certificate from the consortium CA of `dir` for a system of member `member`
/// (e.g. `cargo-system`): subject common name the member id (what a node maps it to), unit the
/// system's name, client authentication only. Writes `orgs/MEMBER/clients/NAME.pem` and
/// `NAME.key` (0600) and answers their paths. A node's API accepts it in place of a signed
/// request: the system acts as its member.
pub fn issue_client_certificate(dir: &Path, member: &str, name: &str) -> Result<(PathBuf, PathBuf), LedgerError> {
    let valid = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if !valid {
        return Err(LedgerError::Usage(format!(
            "system name {name:?}: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )));
    }
    let genesis = Genesis::load(&dir.join("genesis.json"))?;
    if genesis.member(member).is_none() {
        return Err(LedgerError::Usage(format!("{member} is not a member of the consortium in {}", dir.display())));
    }
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .map_err(|e| LedgerError::Io(format!("cannot read {}: {e}", dir.join(f).display())))
    };
    let ca_key = KeyPair::from_pem(&read("ca.key")?).map_err(rc)?;
    let issuer = Issuer::from_ca_cert_pem(&read("ca.pem")?, ca_key).map_err(rc)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rc)?;
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, member.to_owned());
    dn.push(DnType::OrganizationalUnitName, name.to_owned());
    p.distinguished_name = dn;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, &issuer).map_err(rc)?;
    let out = dir.join("orgs").join(member).join("clients");
    std::fs::create_dir_all(&out).map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", out.display())))?;
    let (pem, key_path) = (out.join(format!("{name}.pem")), out.join(format!("{name}.key")));
    std::fs::write(&pem, cert.pem()).map_err(|e| LedgerError::Io(e.to_string()))?;
    write_secret(&key_path, key.serialize_pem().as_bytes())?;
    Ok((pem, key_path))
}

/// Issues a device's client certificate from the consortium CA of `dir`, for an MQTT broker
/// that authenticates devices by certificate (Mosquitto's `use_identity_as_username`): subject
/// common name the device id (its user name at the broker, and its topics'), organisation the
/// owning member, client authentication only. Writes `orgs/MEMBER/devices/DEVICE.pem` and
/// `DEVICE.key` (0600) and answers their paths; the registry entry's credential is the
/// certificate's SHA-256 fingerprint.
pub fn issue_device_certificate(dir: &Path, member: &str, device: &str) -> Result<(PathBuf, PathBuf), LedgerError> {
    let valid = (1..=64).contains(&device.len())
        && device.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        && !device.starts_with('.');
    if !valid {
        return Err(LedgerError::Usage(format!(
            "device id {device:?}: 1 to 64 letters, digits, '-', '_', '.' or ':', not starting with '.'"
        )));
    }
    let genesis = Genesis::load(&dir.join("genesis.json"))?;
    if genesis.member(member).is_none() {
        return Err(LedgerError::Usage(format!("{member} is not a member of the consortium in {}", dir.display())));
    }
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .map_err(|e| LedgerError::Io(format!("cannot read {}: {e}", dir.join(f).display())))
    };
    let ca_key = KeyPair::from_pem(&read("ca.key")?).map_err(rc)?;
    let issuer = Issuer::from_ca_cert_pem(&read("ca.pem")?, ca_key).map_err(rc)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rc)?;
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, device.to_owned());
    dn.push(DnType::OrganizationName, member.to_owned());
    p.distinguished_name = dn;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, &issuer).map_err(rc)?;
    let out = dir.join("orgs").join(member).join("devices");
    std::fs::create_dir_all(&out).map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", out.display())))?;
    let (pem, key_path) = (out.join(format!("{device}.pem")), out.join(format!("{device}.key")));
    std::fs::write(&pem, cert.pem()).map_err(|e| LedgerError::Io(e.to_string()))?;
    write_secret(&key_path, key.serialize_pem().as_bytes())?;
    Ok((pem, key_path))
}

/// The SHA-256 fingerprint (lower-case hex) of the first certificate of a PEM file: what a
/// device's registry entry names as its certificate credential.
pub fn certificate_sha256(pem: &Path) -> Result<String, LedgerError> {
    use sha2::{Digest, Sha256};
    let text = std::fs::read(pem).map_err(|e| LedgerError::Io(format!("cannot read {}: {e}", pem.display())))?;
    let der =
        pem_certificate(&text).ok_or_else(|| LedgerError::Usage(format!("{} holds no certificate", pem.display())))?;
    Ok(hex::encode(Sha256::digest(der)))
}

/// The DER bytes of the first `CERTIFICATE` block of a PEM text.
fn pem_certificate(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = std::str::from_utf8(text).ok()?;
    let body = text.split("-----BEGIN CERTIFICATE-----").nth(1)?.split("-----END CERTIFICATE-----").next()?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Creates a consortium in `dir` (which must be empty or absent), with the default [`NodePlan`].
pub fn create(dir: &Path, consortium: &str, orgs: &[OrgSpec], created_at: &str) -> Result<Created, LedgerError> {
    create_with_nodes(dir, consortium, orgs, created_at, &NodePlan::default())
}

/// Creates a consortium in `dir` (which must be empty or absent) whose nodes follow `plan`.
pub fn create_with_nodes(
    dir: &Path,
    consortium: &str,
    orgs: &[OrgSpec],
    created_at: &str,
    plan: &NodePlan,
) -> Result<Created, LedgerError> {
    if orgs.is_empty() {
        return Err(LedgerError::Usage("give at least one --org NAME:ROLE:COUNTRY".into()));
    }
    if dir.join("genesis.json").exists() {
        return Err(LedgerError::Usage(format!(
            "{} already holds a consortium (genesis.json); choose an empty folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir.join("orgs"))
        .map_err(|e| LedgerError::Io(format!("cannot create {}: {e}", dir.display())))?;
    // The CA.
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rc)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("{consortium} consortium CA"));
    dn.push(DnType::OrganizationName, consortium.to_owned());
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(rc)?;
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).map_err(|e| LedgerError::Io(e.to_string()))?;
    write_secret(&dir.join("ca.key"), ca_key.serialize_pem().as_bytes())?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut members = Vec::new();
    let mut key_files = Vec::new();
    let mut taken = Vec::new();
    for org in orgs {
        let id = org.slug(&taken);
        taken.push(id.clone());
        let org_dir = dir.join("orgs").join(&id);
        std::fs::create_dir_all(&org_dir).map_err(|e| LedgerError::Io(e.to_string()))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, id.clone());
        dn.push(DnType::OrganizationName, org.name.clone());
        dn.push(DnType::OrganizationalUnitName, org.role.name());
        dn.push(DnType::CountryName, org.country.clone());
        // Signing identity.
        let sign_key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rc)?;
        let mut p = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        p.distinguished_name = dn.clone();
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let sign_cert = p.signed_by(&sign_key, &issuer).map_err(rc)?;
        std::fs::write(org_dir.join("member.pem"), sign_cert.pem()).map_err(|e| LedgerError::Io(e.to_string()))?;
        let keys = MemberKeys {
            member: id.clone(),
            signing: seed_of(&sign_key)?,
            encryption: x25519_dalek::StaticSecret::random_from_rng(OsRng),
        };
        let key_path = org_dir.join("member.key");
        keys.save(&key_path)?;
        // Node TLS identity.
        let tls_key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rc)?;
        let mut p =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned(), format!("{id}.borderlink")])
                .map_err(rc)?;
        p.distinguished_name = dn;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages =
            vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let tls_cert = p.signed_by(&tls_key, &issuer).map_err(rc)?;
        std::fs::write(org_dir.join("node.pem"), tls_cert.pem()).map_err(|e| LedgerError::Io(e.to_string()))?;
        write_secret(&org_dir.join("node.key"), tls_key.serialize_pem().as_bytes())?;
        members.push(Member {
            id: id.clone(),
            name: org.name.clone(),
            role: org.role,
            country: org.country.clone(),
            trader_ids: org.trader_ids.clone(),
            signing_key: keys.signing_public_hex(),
            encryption_key: keys.encryption_public_hex(),
            certificate: sign_cert.pem(),
            status: MemberStatus::Active,
        });
        key_files.push((id, key_path));
    }
    let customs = members.iter().filter(|m| m.role == Role::Customs).count() as u32;
    let mut nodes = Vec::new();
    for m in members.iter().filter(|m| plan.roles.contains(&m.role)) {
        let k = nodes.len() as u16;
        let api = plan.base_port.checked_add(2 * k).ok_or_else(|| LedgerError::Usage("--base-port too high".into()))?;
        let peer = api.checked_add(1).ok_or_else(|| LedgerError::Usage("--base-port too high".into()))?;
        issue_api_certificate(&dir.join("orgs").join(&m.id), &m.id, &plan.host, &issuer)?;
        nodes.push(NodeSpec {
            id: u64::from(k) + 1,
            member: m.id.clone(),
            peer_addr: format!("{}:{peer}", plan.host),
            api_url: format!("{}://{}:{api}", if plan.https { "https" } else { "http" }, plan.host),
        });
    }
    let mra = default_agreements(consortium, &members);
    let genesis = Genesis {
        format: GENESIS_FORMAT.into(),
        consortium: consortium.to_owned(),
        created_at: created_at.to_owned(),
        ca_certificate: ca_cert.pem(),
        members,
        policy: DEFAULT_POLICY.to_owned(),
        read_policy: Some(crate::read_policy::DEFAULT_READ_POLICY.to_owned()),
        // A majority of the customs administrations (at least one) approves changes.
        governance: Governance { approvals_required: (customs / 2 + 1).max(1), eligible_roles: vec![Role::Customs] },
        limits: Limits::default(),
        retention_days: crate::genesis::default_retention(),
        rules: RULES_CURRENT,
        nodes,
        mra,
    };
    let genesis_path = dir.join("genesis.json");
    let text = serde_json::to_string_pretty(&genesis).map_err(|e| LedgerError::Io(e.to_string()))?;
    std::fs::write(&genesis_path, text)
        .map_err(|e| LedgerError::Io(format!("cannot write {}: {e}", genesis_path.display())))?;
    Ok(Created { genesis, genesis_path, key_files })
}
