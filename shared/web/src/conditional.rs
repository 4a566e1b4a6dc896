//! Conditional requests (RFC 9110 §13): the entity tags of versioned resources, `If-None-Match` on
//! reads (304) and `If-Match` on writes (412).
//!
//! A tag is `"<version>-<fingerprint>"`, strong:
//! - `version` is the stored item's optimistic-locking version, the one a write is conditioned on;
//! - `fingerprint` is the first 64 bits of the SHA-256 of the response body, so that everything a
//!   representation embeds from other items (a course page's lessons and ratings, a lesson's position,
//!   the caller's own enrollment or submission) changes the tag too, and two callers who see different
//!   bodies never share a tag.
//!
//! Reads compare the whole tag ([`not_modified`], weak comparison as RFC 9110 §13.1.2 asks). Writes
//! compare the version ([`IfMatch`]): it is what the write's store condition checks, so `If-Match`
//! costs no read of its own and guards exactly the state the write changes; comparing the fingerprint
//! would mean rebuilding the page (its reads) before every write.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// What a tagged response asks of caches: keep it for this user only, and revalidate before each
/// reuse (a conditional GET that answers 304 while nothing changed).
const CACHE_CONTROL: &str = "private, no-cache";

/// A JSON response of a versioned resource, with its `ETag`.
pub struct Tagged<T> {
    version: u64,
    body: T,
}

impl<T: Serialize> Tagged<T> {
    /// `body` as the representation of a resource whose stored item is at `version`.
    pub fn new(version: u64, body: T) -> Self {
        Tagged { version, body }
    }
}

/// The entity tag of a body of a resource at `version`.
fn entity_tag(version: u64, body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let fingerprint: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{version}-{fingerprint}\"")
}

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let bytes = match serde_json::to_vec(&self.body) {
            Ok(bytes) => bytes,
            Err(e) => return ApiError::Internal(e.into()).into_response(),
        };
        let tag = entity_tag(self.version, &bytes);
        let mut response = bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
        // The tag is ASCII digits, hex and quotes: always a valid header value.
        if let Ok(value) = HeaderValue::from_str(&tag) {
            headers.insert(header::ETAG, value);
        }
        response
    }
}

/// The opaque part of each entity tag in a list header (`If-Match`, `If-None-Match`): `Some` for a
/// strong tag, `None` for a weak one (`W/"…"`); `*` and malformed members are left out.
fn listed_tags(headers: &HeaderMap, name: header::HeaderName) -> Vec<(bool, String)> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter_map(|member| {
            let (weak, quoted) = match member.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, member),
            };
            let opaque = quoted.strip_prefix('"')?.strip_suffix('"')?;
            Some((weak, opaque.to_owned()))
        })
        .collect()
}

fn lists_any(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|member| member.trim() == "*")
}

/// The middleware that answers a GET or HEAD whose `If-None-Match` names the tag of the response it
/// would get with `304 Not Modified`: the same headers (`ETag`, `Cache-Control`, …), no body.
/// Responses without a tag pass unchanged.
pub async fn not_modified(request: Request, next: Next) -> Response {
    let conditional = matches!(*request.method(), Method::GET | Method::HEAD)
        && request.headers().contains_key(header::IF_NONE_MATCH);
    if !conditional {
        return next.run(request).await;
    }
    let any = lists_any(request.headers(), header::IF_NONE_MATCH);
    let wanted = listed_tags(request.headers(), header::IF_NONE_MATCH);
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let Some(current) = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix('"')?.strip_suffix('"'))
    else {
        return response;
    };
    // Weak comparison: a weak tag in the request matches its strong twin.
    if !(any || wanted.iter().any(|(_, opaque)| opaque == current)) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::empty())
}

/// A write's `If-Match` precondition, when it has one: the write goes ahead only if the resource is
/// still at the version of a listed tag (`*`: whatever its version).
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Precondition>);

#[derive(Debug, Clone)]
enum Precondition {
    /// `*`: the resource exists.
    Any,
    /// The versions of the strong tags listed; weak and foreign tags never match (strong comparison,
    /// RFC 9110 §13.1.1).
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Whether the request carries `If-Match` at all.
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// 412 `precondition_failed` when the resource, read at `current`, is at none of the listed
    /// versions. The write that follows is conditioned on `current` as every write is, so a change
    /// between this read and that write fails too ([`IfMatch::lost_race`]).
    pub fn check(&self, current: u64) -> Result<(), ApiError> {
        match &self.0 {
            None | Some(Precondition::Any) => Ok(()),
            Some(Precondition::Versions(versions)) if versions.contains(&current) => Ok(()),
            Some(Precondition::Versions(_)) => Err(ApiError::precondition_failed(current)),
        }
    }

    /// A write that lost the race to another one (`stale_version`) is, for a request with `If-Match`,
    /// the precondition failing: 412 rather than 409.
    pub fn lost_race(&self, error: impl Into<ApiError>) -> ApiError {
        match error.into() {
            ApiError::Conflict {
                code: "stale_version",
                ..
            } if self.is_present() => ApiError::PreconditionFailed(
                "the resource was changed by another request; read it again and retry".into(),
            ),
            other => other,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(header::IF_MATCH) {
            return Ok(IfMatch(None));
        }
        if lists_any(&parts.headers, header::IF_MATCH) {
            return Ok(IfMatch(Some(Precondition::Any)));
        }
        let versions = listed_tags(&parts.headers, header::IF_MATCH)
            .into_iter()
            .filter(|(weak, _)| !weak)
            .filter_map(|(_, opaque)| {
                let version = opaque.split_once('-').map_or(opaque.as_str(), |(v, _)| v);
                version.parse::<u64>().ok()
            })
            .collect();
        Ok(IfMatch(Some(Precondition::Versions(versions))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_match(value: &str) -> IfMatch {
        let (mut parts, ()) = axum::http::Request::builder()
            .header(header::IF_MATCH, value)
            .body(())
            .unwrap()
            .into_parts();
        block_on(IfMatch::from_request_parts(&mut parts, &()))
    }

    fn block_on(f: impl std::future::Future<Output = Result<IfMatch, ApiError>>) -> IfMatch {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
            .unwrap()
    }

    #[test]
    fn a_tag_names_the_version_and_changes_with_the_body() {
        let a = entity_tag(3, b"{\"a\":1}");
        let b = entity_tag(3, b"{\"a\":2}");
        assert!(a.starts_with("\"3-") && a.ends_with('"'));
        assert_eq!(a.len(), "\"3-\"".len() + 16);
        assert_ne!(a, b);
    }

    #[test]
    fn if_match_compares_the_version_of_strong_tags_only() {
        assert!(if_match("\"3-0123456789abcdef\"").check(3).is_ok());
        assert!(if_match("\"2-00\", \"3-11\"").check(3).is_ok());
        assert!(if_match("\"2-0123456789abcdef\"").check(3).is_err());
        assert!(if_match("W/\"3-0123456789abcdef\"").check(3).is_err());
        assert!(if_match("not-a-tag").check(3).is_err());
        assert!(if_match("*").check(7).is_ok());
        assert!(IfMatch::default().check(7).is_ok());
    }
}
