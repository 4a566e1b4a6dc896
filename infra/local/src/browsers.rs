//! What browsers need of the local server: CORS for the web clients' origins, and compressed answers.
//!
//! In AWS, the HTTP API answers CORS itself (`CorsConfiguration` in `template.yaml`, origins from the
//! `ApiAllowedOrigins` parameter); the functions do not compress (docs/performance.md explains why);
//! here both are layers around the merged app.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The variable naming the origins allowed to call the local server from a browser, comma-separated.
pub const ORIGINS_VARIABLE: &str = "LECTERN_CORS_ORIGINS";

/// Without [`ORIGINS_VARIABLE`]: the development servers of the usual front-end tool chains on this
/// laptop (Vite 5173, Create React App and Next.js 3000/3001, Angular 4200, webpack 8080).
pub const DEFAULT_ORIGINS: &[&str] = &[
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:3001",
    "http://127.0.0.1:3001",
    "http://localhost:4200",
    "http://127.0.0.1:4200",
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:8080",
    "http://127.0.0.1:8080",
];

/// Responses smaller than this are sent as they are: below about a kilobyte, the encoding's framing
/// and the work outweigh the bytes saved.
pub const MIN_COMPRESSED_BYTES: u16 = 1024;

/// The request headers a web client sends beside the simple ones.
const ALLOWED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "idempotency-key",
];

/// The response headers a web client's script may read.
const EXPOSED_HEADERS: [&str; 8] = [
    "etag",
    "link",
    "location",
    "retry-after",
    "x-request-id",
    "ratelimit",
    "ratelimit-policy",
    "idempotent-replayed",
];

/// The allowed origins: [`ORIGINS_VARIABLE`], else [`DEFAULT_ORIGINS`]. `*` is refused: an origin
/// list names the clients, as the template's parameter does.
pub fn origins_from_env() -> anyhow::Result<Vec<HeaderValue>> {
    match std::env::var(ORIGINS_VARIABLE) {
        Ok(list) => parse_origins(&list),
        Err(_) => parse_origins(&DEFAULT_ORIGINS.join(",")),
    }
}

fn parse_origins(list: &str) -> anyhow::Result<Vec<HeaderValue>> {
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            anyhow::ensure!(
                origin != "*",
                "{ORIGINS_VARIABLE} must name origins (https://app.example.org); \"*\" is not allowed"
            );
            anyhow::ensure!(
                origin.starts_with("http://") || origin.starts_with("https://"),
                "{ORIGINS_VARIABLE}: {origin} is not an origin (scheme://host[:port])"
            );
            Ok(HeaderValue::from_str(origin.trim_end_matches('/'))?)
        })
        .collect()
}

/// CORS for `origins`: the API's methods, bearer tokens and conditional and idempotent requests'
/// headers, the headers clients read exposed, preflights cached for an hour. No credentials mode:
/// the API authenticates with bearer tokens, never cookies, so a browser has nothing to attach.
pub fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(3600))
}

/// gzip or brotli, as the client's `Accept-Encoding` prefers, for answers of at least
/// [`MIN_COMPRESSED_BYTES`].
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_BYTES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_named_and_a_wildcard_is_refused() {
        let parsed = parse_origins("https://app.example.org, http://localhost:5173/").unwrap();
        assert_eq!(parsed, ["https://app.example.org", "http://localhost:5173"]);
        assert!(parse_origins("*").is_err());
        assert!(parse_origins("app.example.org").is_err());
        assert_eq!(
            parse_origins(&DEFAULT_ORIGINS.join(",")).unwrap().len(),
            DEFAULT_ORIGINS.len()
        );
    }
}
