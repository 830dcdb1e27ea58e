//! Secrets at rest: a connection's secret map is encrypted with XChaCha20-Poly1305 under a
//! 32-byte [`SecretKey`], with a random nonce per write and the connection id as associated
//! data (so a ciphertext copied onto another connection's row does not decrypt).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{KeyError, StoreError};
use crate::ids::ConnectionId;

/// Environment variable holding the key as base64 of 32 bytes.
pub const SECRET_KEY_ENV: &str = "SWITCHYARD_SECRET_KEY";
/// Environment variable naming a file that holds the key as base64 of 32 bytes.
pub const SECRET_KEY_FILE_ENV: &str = "SWITCHYARD_SECRET_KEY_FILE";

const NONCE_LEN: usize = 24;

/// The 32-byte key that encrypts connection secrets. Its Debug output hides the bytes.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SecretKey(bytes)
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        SecretKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// Parses base64 (standard alphabet, padding optional, surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        Self::parse(text, "base64 text")
    }

    /// The key as base64, the format of key files and of `SWITCHYARD_SECRET_KEY`.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Reads `SWITCHYARD_SECRET_KEY`, else the file named by `SWITCHYARD_SECRET_KEY_FILE`.
    pub fn from_env_or_file() -> Result<Self, KeyError> {
        Self::from_sources(
            std::env::var(SECRET_KEY_ENV).ok(),
            std::env::var_os(SECRET_KEY_FILE_ENV).map(PathBuf::from),
        )
    }

    /// The rule behind [`SecretKey::from_env_or_file`], taking the variables' values;
    /// an inline key wins over a key file.
    pub fn from_sources(inline: Option<String>, file: Option<PathBuf>) -> Result<Self, KeyError> {
        match (inline.filter(|s| !s.trim().is_empty()), file) {
            (Some(text), _) => Self::parse(&text, SECRET_KEY_ENV),
            (None, Some(path)) => Self::from_file(&path),
            (None, None) => Err(KeyError::Missing),
        }
    }

    /// Reads a key file holding the key as base64.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads the key file at `path`, or creates it with a random key (mode 0600 on Unix)
    /// when it does not exist. This is the embedded default: nothing to configure.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io_err = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        match Self::from_file(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {}
            other => return other,
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let key = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(format!("{}\n", key.to_base64()).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(io_err)?;
                Ok(key)
            }
            // Another process created it between our read and our create: use theirs.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Self::from_file(path),
            Err(e) => Err(io_err(e)),
        }
    }

    fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim();
        let bytes = BASE64
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| KeyError::NotBase64 {
                origin: origin.to_owned(),
            })?;
        let len = bytes.len();
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            origin: origin.to_owned(),
            len,
        })?;
        Ok(SecretKey(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Encrypts `secrets` for `connection`: base64(nonce ‖ ciphertext).
    pub(crate) fn seal(
        &self,
        connection: ConnectionId,
        secrets: &Secrets,
    ) -> Result<String, StoreError> {
        let plaintext = serde_json::to_vec(&secrets.0)
            .map_err(|e| StoreError::InvalidInput(format!("secrets not serialisable: {e}")))?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = connection.to_string();
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::InvalidInput("secrets could not be encrypted".into()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(BASE64.encode(sealed))
    }

    /// Decrypts what [`SecretKey::seal`] produced for the same connection.
    pub(crate) fn open(
        &self,
        connection: ConnectionId,
        sealed: &str,
    ) -> Result<Secrets, StoreError> {
        let corrupt =
            || StoreError::Corrupt(format!("secrets of connection {connection} are malformed"));
        let bytes = BASE64.decode(sealed.trim()).map_err(|_| corrupt())?;
        if bytes.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = connection.to_string();
        // An AEAD failure cannot tell a wrong key from tampering; the wrong key is by far the
        // common case, so that is what the error says.
        let plaintext = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::WrongKey { connection })?;
        let map: BTreeMap<String, String> =
            serde_json::from_slice(&plaintext).map_err(|_| corrupt())?;
        Ok(Secrets(map))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// A connection's credentials: secret name → value.
///
/// Debug prints the names only, every value as `***`. It deliberately implements neither
/// `Display` nor `Serialize`, so it cannot slip into a log line or an API answer by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(BTreeMap<String, String>);

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Sets a secret, returning the builder for chaining.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets a secret, replacing any old value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// Removes a secret; true if it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.0.remove(name).is_some()
    }

    /// A secret's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The secret names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Name and value pairs, sorted by name (for the host's redaction and auth injection).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many secrets there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Secrets {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Secrets(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, Masked)))
            .finish()
    }
}

/// Prints `***` without quotes in Debug output.
struct Masked;

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
