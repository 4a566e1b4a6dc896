//! Body and query extractors whose rejections are `ApiError`s naming the field at fault: malformed JSON,
//! a wrong type, an unknown enum value (with the allowed values) or a missing field is a 400 with
//! `details: {"<field>": "<why>"}`; an oversized body a 413; a non-JSON body a 415. `RawBody` is the
//! body's bytes, with the same 413.

use axum::extract::{FromRequest, FromRequestParts, Request, rejection::BytesRejection};
use axum::http::{header, request::Parts};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use lectern_domain::FieldErrors;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body parsed into `T`, or a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let RawBody(bytes) = RawBody::from_request(request, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// The request body as it came, for handlers that check a signature over its bytes (Stripe's
/// webhook). Unlike axum's `Bytes`, whose rejections are plain text, a body over the limit is the
/// JSON 413 of every other route.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl<S> FromRequest<S> for RawBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(|rejection| match rejection {
                BytesRejection::FailedToBufferBody(_) if is_length_limit(&rejection) => {
                    ApiError::PayloadTooLarge
                }
                other => ApiError::bad_request(
                    "unreadable_body",
                    format!("the request body could not be read: {}", other.body_text()),
                ),
            })
    }
}

fn is_length_limit(rejection: &BytesRejection) -> bool {
    rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
}

/// Parses JSON into `T`, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
                "malformed_json",
                format!("the request body is not valid JSON: {inner}"),
            ),
            Category::Data => {
                let message = strip_position(&inner.to_string());
                let field = field_name(&path, &message);
                ApiError::Validation(FieldErrors::one(&field, message))
            }
        }
    })
}

/// serde_json appends " at line 1 column 20"; the field name says more to a client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The field a data error is about: the path, or for a missing field the name inside the message.
fn field_name(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(field)) => field.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(field)) => format!("{path}.{field}"),
        (path, None) => path.to_owned(),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query parameters parsed into `T`; a bad one is a 400 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                let field = field_name(&path, &message);
                ApiError::Validation(FieldErrors::one(&field, message))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        first_name: String,
        role: lectern_domain::user::SelfServiceRole,
        goal: Option<u32>,
    }

    fn details(error: ApiError) -> std::collections::BTreeMap<String, String> {
        match error {
            ApiError::Validation(errors) => errors.fields().clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        let d = details(parse_json::<Body>(br#"{"role":"student"}"#).unwrap_err());
        assert_eq!(d["firstName"], "missing field `firstName`");
    }

    #[test]
    fn an_unknown_enum_value_names_the_allowed_ones() {
        let d = details(parse_json::<Body>(br#"{"firstName":"a","role":"admin"}"#).unwrap_err());
        assert!(
            d["role"].contains("expected `student` or `instructor`"),
            "{d:?}"
        );
    }

    #[test]
    fn a_wrong_type_is_named() {
        let d = details(
            parse_json::<Body>(br#"{"firstName":"a","role":"student","goal":"x"}"#).unwrap_err(),
        );
        assert!(d["goal"].starts_with("invalid type"), "{d:?}");
    }

    #[test]
    fn malformed_json_is_its_own_error() {
        assert!(matches!(
            parse_json::<Body>(b"{nope").unwrap_err(),
            ApiError::BadRequest {
                code: "malformed_json",
                ..
            }
        ));
    }
}
