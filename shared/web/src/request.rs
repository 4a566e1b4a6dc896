//! Request ids and the request's log span, and the client's address. The id is the Lambda invocation's
//! request id when running in Lambda (so logs, X-Ray and our responses agree), else a fresh UUID. It is
//! returned in `x-request-id` and inside every error body; the span carries it, with the tenant and user
//! once known, into every log line of the request.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use tracing::Instrument;

use crate::error::ApiError;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, or `-` outside of one.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The middleware that gives each request its id, span and closing log line.
pub async fn request_layer(request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .lambda_context_ref()
        .map(|context| context.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
        tenant = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(request_id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            "request handled"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The address the request came from: API Gateway's `requestContext.http.sourceIp` in Lambda, the
/// peer of the TCP connection locally (the server must be served with
/// `into_make_service_with_connect_info::<SocketAddr>()`). Never a header: `X-Forwarded-For` and the
/// like are whatever the client wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The network one client controls, for throttling: an IPv4 address itself, an IPv6 address's
    /// /64 (one subscriber commonly holds a whole /64, so counting single IPv6 addresses would give
    /// each client 2^64 budgets). IPv4-mapped IPv6 addresses count as their IPv4 address.
    pub fn network(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                    format!("{prefix}/64")
                }
            },
        }
    }

    /// The address the request's extensions record (what the extractor reads), if any.
    pub fn from_extensions(extensions: &http::Extensions) -> Option<ClientAddress> {
        let from_gateway = match extensions.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.as_deref(),
            _ => None,
        };
        let ip = match from_gateway {
            Some(ip) => ip.parse().ok(),
            None => extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
        };
        ip.map(ClientAddress)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Both sources are set by what runs us (API Gateway, the local server), not by the client:
        // their absence is a deployment fault.
        ClientAddress::from_extensions(&parts.extensions).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "the client address is unknown: no API Gateway source IP and no connection info"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_ipv4_by_its_address() {
        let network = |ip: &str| ClientAddress(ip.parse().unwrap()).network();
        assert_eq!(network("203.0.113.7"), "203.0.113.7");
        assert_eq!(network("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            network("2001:db8:1:2:ffff::9"),
            network("2001:db8:1:2:aaaa::1")
        );
        assert_ne!(network("2001:db8:1:3::1"), network("2001:db8:1:2::1"));
    }
}
