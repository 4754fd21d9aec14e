//! Members of the consortium and their keys.
//!
//! Each organisation has an Ed25519 signing key (transactions, checkpoints, API requests) bound
//! to an X.509 certificate issued by the consortium CA, and an X25519 key to which the data keys
//! of private records are wrapped. Key files are written with mode 0600 and their contents never
//! reach a log: [`MemberKeys`] has no `Debug` that prints secrets.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::LedgerError;

/// The roles an organisation can have in the consortium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A customs administration.
    Customs,
    /// Another government agency at the border.
    Oga,
    /// An authorised economic operator (trader, broker, forwarder).
    Aeo,
    /// A carrier (shipping line, airline, road haulier).
    Carrier,
    /// A port or terminal operator.
    Port,
}

impl Role {
    /// The role's name as written in genesis files and `--org` arguments.
    pub fn name(self) -> &'static str {
        match self {
            Role::Customs => "customs",
            Role::Oga => "oga",
            Role::Aeo => "aeo",
            Role::Carrier => "carrier",
            Role::Port => "port",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s.to_ascii_lowercase().as_str() {
            "customs" => Role::Customs,
            "oga" => Role::Oga,
            "aeo" => Role::Aeo,
            "carrier" => Role::Carrier,
            "port" => Role::Port,
            _ => return None,
        })
    }
}

/// Whether a member may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Admitted and active.
    Active,
    /// Suspended by governance: its transactions are refused.
    Suspended,
}

/// A member organisation as the genesis file and governance transactions describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Short stable identifier, e.g. `gb-hmrc`.
    pub id: String,
    /// The organisation's legal name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Trader identification numbers (EORI/TIN) the organisation declares under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trader_ids: Vec<String>,
    /// Ed25519 public key (hex) that verifies its signatures.
    pub signing_key: String,
    /// X25519 public key (hex) to which private records' data keys are wrapped.
    pub encryption_key: String,
    /// Its certificate (PEM), issued by the consortium CA.
    pub certificate: String,
    /// Active or suspended.
    #[serde(default = "active")]
    pub status: MemberStatus,
}

fn active() -> MemberStatus {
    MemberStatus::Active
}

impl Member {
    /// The member's signature verification key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, LedgerError> {
        let mut a = [0u8; 32];
        hex::decode_to_slice(&self.signing_key, &mut a)
            .map_err(|_| LedgerError::Genesis(format!("member {}: signing_key is not 64 hex digits", self.id)))?;
        VerifyingKey::from_bytes(&a)
            .map_err(|_| LedgerError::Genesis(format!("member {}: signing_key is not an Ed25519 key", self.id)))
    }

    /// The member's X25519 public key.
    pub fn encryption_public(&self) -> Result<x25519_dalek::PublicKey, LedgerError> {
        let mut a = [0u8; 32];
        hex::decode_to_slice(&self.encryption_key, &mut a)
            .map_err(|_| LedgerError::Genesis(format!("member {}: encryption_key is not 64 hex digits", self.id)))?;
        Ok(x25519_dalek::PublicKey::from(a))
    }
}

/// The secret keys of one member, as kept in its `member.key` file (mode 0600).
#[derive(Clone)]
pub struct MemberKeys {
    /// Which member these keys belong to.
    pub member: String,
    /// Ed25519 signing key.
    pub signing: SigningKey,
    /// X25519 secret for private records.
    pub encryption: x25519_dalek::StaticSecret,
}

impl std::fmt::Debug for MemberKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberKeys").field("member", &self.member).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    member: String,
    signing_key: String,
    encryption_key: String,
}

impl MemberKeys {
    /// Signs `msg` with the member's Ed25519 key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The Ed25519 public key, hex.
    pub fn signing_public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().as_bytes())
    }

    /// The X25519 public key, hex.
    pub fn encryption_public_hex(&self) -> String {
        hex::encode(x25519_dalek::PublicKey::from(&self.encryption).as_bytes())
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, LedgerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LedgerError::Io(format!("cannot read key file {}: {e}", path.display())))?;
        let f: KeyFile = serde_json::from_str(&text)
            .map_err(|e| LedgerError::Key(format!("{} is not a Borderlink key file: {e}", path.display())))?;
        let mut s = [0u8; 32];
        hex::decode_to_slice(&f.signing_key, &mut s)
            .map_err(|_| LedgerError::Key(format!("{}: signing_key is not 64 hex digits", path.display())))?;
        let mut e = [0u8; 32];
        hex::decode_to_slice(&f.encryption_key, &mut e)
            .map_err(|_| LedgerError::Key(format!("{}: encryption_key is not 64 hex digits", path.display())))?;
        Ok(Self {
            member: f.member,
            signing: SigningKey::from_bytes(&s),
            encryption: x25519_dalek::StaticSecret::from(e),
        })
    }

    /// Writes a key file readable by its owner only (0600).
    pub fn save(&self, path: &Path) -> Result<(), LedgerError> {
        let f = KeyFile {
            member: self.member.clone(),
            signing_key: hex::encode(self.signing.to_bytes()),
            encryption_key: hex::encode(self.encryption.to_bytes()),
        };
        let text = serde_json::to_string_pretty(&f).map_err(|e| LedgerError::Io(e.to_string()))?;
        write_secret(path, text.as_bytes())
    }
}

/// Makes sure the file at `path` exists and is readable and writable by its owner only (mode
/// 0600 on Unix), as the keys are: databases and logs of shared trade data are created this way
/// before the storage engine opens them, and an existing file is tightened.
pub fn private_file(path: &Path) -> Result<(), LedgerError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(path).map_err(|e| LedgerError::Io(format!("cannot open {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| LedgerError::Io(format!("cannot restrict {}: {e}", path.display())))?;
    }
    drop(f);
    Ok(())
}

/// Writes a secret file with mode 0600 (created so, never widened afterwards).
pub fn write_secret(path: &Path, data: &[u8]) -> Result<(), LedgerError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| LedgerError::Io(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| LedgerError::Io(format!("cannot restrict {}: {e}", path.display())))?;
    }
    f.write_all(data).map_err(|e| LedgerError::Io(format!("cannot write {}: {e}", path.display())))?;
    f.sync_all().map_err(|e| LedgerError::Io(format!("cannot sync {}: {e}", path.display())))
}
