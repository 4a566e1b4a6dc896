//! Stripe webhook signatures (the `Stripe-Signature` header): signing, as Stripe does, for the
//! local provider and tests; verifying, with a replay window and a constant-time comparison, for
//! the webhook function; and the local signing secret, generated once when `STRIPE_WEBHOOK_SECRET`
//! is not set.
//!
//! The header is `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…][,v0=…]`, the MAC is over
//! `"{t}.{raw body}"` keyed with the whole secret string (`whsec_…`, prefix included), and only
//! the `v1` scheme counts. See <https://docs.stripe.com/webhooks#verify-manually>.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

/// The header Stripe signs its webhook requests in.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// How far (seconds) a signature's timestamp may be from now: Stripe's libraries' default, and the
/// platform's security baseline.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook request is not accepted as coming from Stripe.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("the Stripe-Signature header is missing")]
    Missing,
    /// The header has no timestamp, or no `v1` signature.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// The signature is right but its timestamp is outside the tolerance (a replay, or a clock far
    /// off).
    #[error("the Stripe-Signature timestamp is outside the tolerance")]
    Stale,
    /// No `v1` signature matches the body with this secret.
    #[error("no Stripe-Signature signature matches the payload")]
    Mismatch,
}

/// The `Stripe-Signature` header value Stripe would send for `payload` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let tag = mac(secret, timestamp, payload).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Checks a `Stripe-Signature` header against the raw body and returns its timestamp. Any one `v1`
/// signature matching passes (Stripe sends two while a secret is being rolled); other schemes are
/// ignored. The signature is checked before the time, so `Stale` is only said of genuine events.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secret: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => timestamp = value.parse::<i64>().ok(),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }

    let expected = mac(secret, timestamp, payload);
    let matches = signatures.iter().any(|signature| {
        // Not hex cannot match; the comparison itself is constant-time (`verify_slice`).
        hex::decode(signature).is_ok_and(|bytes| expected.clone().verify_slice(&bytes).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }

    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now.abs_diff(timestamp) > tolerance {
        return Err(SignatureError::Stale);
    }
    Ok(timestamp)
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed, short ones padded), so `new_from_slice`
    // never fails for `Hmac`; the fallback only spares an `expect`.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// The local webhook signing secret kept at `path`: read if the file exists, otherwise generated
/// (`whsec_` + 64 hex digits from the OS's randomness) and written with mode 0600. Returns the
/// secret and whether it was generated now. Processes racing here agree on one secret: the file
/// appears complete and only once (written aside, then hard-linked into place), and the loser
/// reads the winner's.
pub fn load_or_generate_secret(path: &Path) -> anyhow::Result<(String, bool)> {
    if let Some(secret) = read_secret(path)? {
        return Ok((secret, false));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("whsec_{}", hex::encode(bytes));

    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the folder of {}", path.display()))?;
    }
    let aside = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = write_private(&aside, &secret)
        .with_context(|| format!("writing the webhook secret to {}", aside.display()));
    let linked = written.and_then(|()| {
        std::fs::hard_link(&aside, path).or_else(|error| {
            if error.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(error)
                    .with_context(|| format!("putting the webhook secret at {}", path.display()))
            }
        })
    });
    // The aside copy is only a staging name; losing it is harmless, so its removal is best effort.
    let _ = std::fs::remove_file(&aside);
    linked?;

    match read_secret(path)? {
        Some(stored) if stored == secret => Ok((secret, true)),
        Some(stored) => Ok((stored, false)),
        None => anyhow::bail!("the webhook secret file {} is empty", path.display()),
    }
}

fn read_secret(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim();
            anyhow::ensure!(
                !secret.is_empty(),
                "the webhook secret file {} is empty",
                path.display()
            );
            Ok(Some(secret.to_owned()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => {
            Err(error).with_context(|| format!("reading the webhook secret {}", path.display()))
        }
    }
}

fn write_private(path: &Path, secret: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}
