//! `Stripe-Signature` signing and verification against a vector computed outside this code, and
//! every way a header can be refused; the local signing secret file.

use lectern_payments::SignatureError;
use lectern_payments::webhook::{DEFAULT_TOLERANCE_SECS, load_or_generate_secret, sign, verify};
use proptest::prelude::*;

const SECRET: &str = "whsec_test_secret";
const T: i64 = 1_700_000_000;
const PAYLOAD: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;
/// python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_secret",
///   b"1700000000." + b"{\"id\":\"evt_test_webhook\",\"object\":\"event\"}", hashlib.sha256).hexdigest())'
const EXPECTED_V1: &str = "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990";

#[test]
fn signing_matches_an_independently_computed_hmac() {
    // WHEN the payload is signed
    let header = sign(SECRET, T, PAYLOAD);
    // THEN the header is Stripe's `t=…,v1=…` with the HMAC Python computes
    assert_eq!(header, format!("t={T},v1={EXPECTED_V1}"));
}

#[test]
fn a_genuine_signature_within_the_tolerance_verifies_and_returns_its_timestamp() {
    let header = format!("t={T},v1={EXPECTED_V1}");
    assert_eq!(
        verify(
            Some(&header),
            PAYLOAD,
            SECRET,
            T + 299,
            DEFAULT_TOLERANCE_SECS
        ),
        Ok(T)
    );
    assert_eq!(verify(Some(&header), PAYLOAD, SECRET, T - 300, 300), Ok(T));
}

#[test]
fn the_wrong_secret_is_a_mismatch() {
    let header = sign("whsec_other", T, PAYLOAD);
    assert_eq!(
        verify(Some(&header), PAYLOAD, SECRET, T, 300),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_tampered_body_is_a_mismatch() {
    let header = sign(SECRET, T, PAYLOAD);
    let tampered = br#"{"id":"evt_test_webhook","object":"event" }"#;
    assert_eq!(
        verify(Some(&header), tampered, SECRET, T, 300),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_changed_timestamp_is_a_mismatch() {
    // GIVEN a replayed signature with a fresh timestamp pasted in
    let header = format!("t={},v1={EXPECTED_V1}", T + 1000);
    assert_eq!(
        verify(Some(&header), PAYLOAD, SECRET, T + 1000, 300),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn an_old_signature_is_stale() {
    let header = sign(SECRET, T, PAYLOAD);
    assert_eq!(
        verify(Some(&header), PAYLOAD, SECRET, T + 301, 300),
        Err(SignatureError::Stale)
    );
}

#[test]
fn a_signature_from_the_future_is_stale() {
    let header = sign(SECRET, T + 301, PAYLOAD);
    assert_eq!(
        verify(Some(&header), PAYLOAD, SECRET, T, 300),
        Err(SignatureError::Stale)
    );
}

#[test]
fn a_missing_header_is_missing() {
    assert_eq!(
        verify(None, PAYLOAD, SECRET, T, 300),
        Err(SignatureError::Missing)
    );
}

#[test]
fn headers_without_a_timestamp_or_a_v1_signature_are_malformed() {
    for header in [
        "",
        "garbage",
        &format!("v1={EXPECTED_V1}"),
        &format!("t=soon,v1={EXPECTED_V1}"),
        &format!("t={T}"),
        &format!("t={T},v0={EXPECTED_V1}"),
    ] {
        assert_eq!(
            verify(Some(header), PAYLOAD, SECRET, T, 300),
            Err(SignatureError::Malformed),
            "{header:?}"
        );
    }
}

#[test]
fn any_one_matching_v1_signature_passes_and_other_schemes_are_ignored() {
    // GIVEN Stripe rolling its secret: an old signature, the right one, a v0 and odd spacing
    let wrong = sign("whsec_old", T, PAYLOAD);
    let wrong_v1 = wrong.split_once("v1=").map(|(_, v)| v).unwrap();
    let header = format!("t={T}, v1={wrong_v1}, v0=deadbeef, v1={EXPECTED_V1}");
    assert_eq!(verify(Some(&header), PAYLOAD, SECRET, T, 300), Ok(T));
}

#[test]
fn a_v1_value_that_is_not_hex_does_not_match() {
    let header = format!("t={T},v1=not-hex,v1={}", &EXPECTED_V1[..10]);
    assert_eq!(
        verify(Some(&header), PAYLOAD, SECRET, T, 300),
        Err(SignatureError::Mismatch)
    );
}

proptest! {
    #[test]
    fn whatever_is_signed_verifies(secret in "whsec_[A-Za-z0-9]{0,40}", t in 0i64..4_000_000_000, payload in proptest::collection::vec(any::<u8>(), 0..256)) {
        let header = sign(&secret, t, &payload);
        prop_assert_eq!(verify(Some(&header), &payload, &secret, t, 300), Ok(t));
    }

    #[test]
    fn any_header_is_refused_or_accepted_without_panicking(header in ".{0,200}") {
        let outcome = verify(Some(&header), PAYLOAD, SECRET, T, 300);
        prop_assert!(outcome != Ok(T) || header.contains(EXPECTED_V1));
    }
}

#[test]
fn the_local_secret_is_generated_once_private_and_read_back() {
    // GIVEN a data folder without a secret
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local").join("stripe-webhook-secret");

    // WHEN it is asked for twice
    let (first, generated) = load_or_generate_secret(&path).unwrap();
    let (second, generated_again) = load_or_generate_secret(&path).unwrap();

    // THEN it was generated the first time only, in Stripe's format, and kept
    assert!(generated && !generated_again);
    assert_eq!(first, second);
    assert!(
        first.starts_with("whsec_") && first.len() == "whsec_".len() + 64,
        "{first}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // AND no staging file is left beside it
    let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(entries, 1);
}

#[test]
fn a_secret_written_by_hand_is_used_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, "whsec_from_the_stripe_cli\n").unwrap();
    assert_eq!(
        load_or_generate_secret(&path).unwrap(),
        ("whsec_from_the_stripe_cli".to_owned(), false)
    );
}

#[test]
fn racing_processes_agree_on_one_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    let secrets: Vec<(String, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| load_or_generate_secret(&path).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(secrets.iter().all(|(s, _)| *s == secrets[0].0));
    assert_eq!(
        secrets.iter().filter(|(_, generated)| *generated).count(),
        1
    );
}
