//! The error responses the shared edge adds to every operation's description.
//!
//! Each handler's `#[utoipa::path]` names the errors of its own logic (403 not the owner, 409 taken).
//! Others come from what all routes share, and a client can meet them on any operation: a bad or
//! missing token (the auth extractors), a body that is not JSON or too large (`Json`, the body limit),
//! an unusable parameter (`Query`, the tenant header), a write racing another one, the store going
//! away, a bug. Writing those into
//! every annotation would repeat them ninety times and drift; [`EdgeErrors`] adds them to the whole
//! description once, from what each operation declares (security, parameters, body), and gives every
//! error status the one error shape, [`ErrorBody`](crate::ErrorBody).

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// The name of the error shape's schema.
pub const ERROR_SCHEMA: &str = "ErrorBody";

/// Adds to every operation the error statuses the shared edge can answer with, each with the error
/// shape; statuses an operation documents itself keep their description.
///
/// - 400 when it takes a body, a query or a header parameter (`malformed_json`, `validation_failed`
///   naming the field, `unknown_tenant`);
/// - 401 when it accepts a bearer token (`unauthorized`: missing where required, malformed, invalid,
///   expired);
/// - 404 when its path names a resource (`not_found`);
/// - 413 when it takes a body (`payload_too_large`, over [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES));
/// - 409 when it writes to the store (`conflict`: another request changed the same items at the same
///   time, and the write's conditions or transaction refused; re-read and retry);
/// - 415 when it takes a JSON body through [`Json`](crate::Json) (`unsupported_media_type`);
/// - 403 when it accepts a bearer token and writes (`account_suspended`, `role_changed`: every write
///   checks its actor's account in its transaction);
/// - 429 always (`rate_limited`: every request meets the rate limits);
/// - 500 always (`internal_error`: a bug, logged under the request id);
/// - 503 unless it calls no dependency (`service_unavailable`, with `Retry-After`).
pub struct EdgeErrors<'a> {
    /// Operation ids of operations that call no dependency (no store, queue or object store).
    pub self_contained: &'a [&'a str],
    /// Operation ids of operations that read their body as bytes, not through `Json`.
    pub raw_body: &'a [&'a str],
    /// Operation ids of operations other than GETs that write nothing to the store.
    pub no_store_writes: &'a [&'a str],
}

impl Modify for EdgeErrors<'_> {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
                ("head", &mut item.head),
                ("options", &mut item.options),
                ("trace", &mut item.trace),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    self.complete(method, operation);
                }
            }
        }
    }
}

impl EdgeErrors<'_> {
    fn complete(&self, method: &str, operation: &mut Operation) {
        let id = operation.operation_id.clone().unwrap_or_default();
        let parameters = operation.parameters.as_deref().unwrap_or_default();
        let takes = |place: ParameterIn| parameters.iter().any(|p| p.parameter_in == place);
        let has_body = operation.request_body.is_some();
        let bearer = operation
            .security
            .iter()
            .flatten()
            .filter_map(|requirement| serde_json::to_value(requirement).ok())
            .any(|requirement| requirement.get("bearer").is_some());

        let mut add = |status: &str, description: &str| {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::T(Response::new(description)));
        };
        if has_body || takes(ParameterIn::Query) || takes(ParameterIn::Header) {
            add(
                "400",
                "A malformed body (`malformed_json`), an invalid field or parameter \
                 (`validation_failed`, named in `details`) or an unknown `x-tenant-id` \
                 (`unknown_tenant`)",
            );
        }
        if bearer {
            add(
                "401",
                "The access token is missing, malformed, invalid or expired (`unauthorized`)",
            );
        }
        if takes(ParameterIn::Path) {
            add("404", "No such resource, or one the caller may not see");
        }
        let reads_only = matches!(method, "get" | "head" | "options" | "trace")
            || self.self_contained.contains(&id.as_str())
            || self.no_store_writes.contains(&id.as_str());
        if !reads_only {
            add(
                "409",
                "Another request changed the same data at the same time (`conflict`): read it \
                 again and retry",
            );
        }
        if has_body {
            add("413", "The body is larger than 1 MiB (`payload_too_large`)");
            if !self.raw_body.contains(&id.as_str()) {
                add(
                    "415",
                    "The body is not JSON (`unsupported_media_type`): send `content-type: application/json`",
                );
            }
        }
        if bearer && !reads_only {
            add(
                "403",
                "The caller's account was suspended (`account_suspended`) or their role no longer \
                 grants this (`role_changed`) since their token was issued",
            );
        }
        // Every request meets the rate limits (`crate::limits`).
        add(
            "429",
            "Over a rate limit (`rate_limited`): retry after `Retry-After`; `RateLimit` and \
             `RateLimit-Policy` say which limit and what is left",
        );
        add(
            "500",
            "An unexpected error (`internal_error`); quote the `requestId` when reporting it",
        );
        if !self.self_contained.contains(&id.as_str()) {
            add(
                "503",
                "A dependency (the store, a queue, the object store) is unavailable \
                 (`service_unavailable`); nothing was half-written: retry after `Retry-After`",
            );
        }
        // Whatever a handler wrote for an error status, its body is the one error shape.
        for (status, response) in operation.responses.responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with(['4', '5']), response) {
                response.content.clear();
                response.content.insert(
                    "application/json".to_owned(),
                    Content::new(Some(Ref::from_schema_name(ERROR_SCHEMA))),
                );
            }
        }
    }
}
