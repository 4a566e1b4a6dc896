//! List parameters: `limit` (1–100, default 20) and an opaque `cursor` from the previous page's
//! `nextCursor`; the page envelope; and the `Link` header (RFC 8288) that names a page's neighbours
//! beside the body's pagination.

use axum::Extension;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lectern_store::Cursor;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
/// Longer than any cursor a list gives out (a key or two, base64-encoded).
pub const MAX_CURSOR_LEN: usize = 2048;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The limit and cursor, checked: a limit out of range is 400 naming `limit`, an overlong cursor
    /// 400 `invalid_cursor` (its content is checked by the query it is used with).
    pub fn parse(&self) -> Result<(usize, Option<Cursor>), ApiError> {
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
            }
        };
        let cursor = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) if c.len() > MAX_CURSOR_LEN => return Err(ApiError::invalid_cursor()),
            Some(c) => Some(Cursor::from_client(c)),
        };
        Ok((limit, cursor))
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paginated<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T: Serialize> IntoResponse for Paginated<T> {
    fn into_response(self) -> Response {
        let links = PageLinks::cursor(self.next_cursor.as_deref());
        (Extension(links), axum::Json(self)).into_response()
    }
}

/// Where a `Link` header's target starts: the request's own URI with its page parameters (`cursor`,
/// `page`) replaced.
#[derive(Debug, Clone)]
pub enum PageTarget {
    /// The list's first page: no page parameter.
    First,
    /// The page after a cursor.
    Cursor(String),
    /// A page by its number (lists that count their pages).
    Number(usize),
}

/// The `Link` header of a page (RFC 8288), as Canvas sends one beside the body's pagination:
/// relations (`next`, `prev`, `first`, `last`) and their pages. A handler puts it on its response as
/// an extension (lists of [`Paginated`] do it themselves); [`page_links`], which knows the request's
/// URI, writes the header.
#[derive(Debug, Clone, Default)]
pub struct PageLinks(Vec<(&'static str, PageTarget)>);

impl PageLinks {
    /// The links of a cursor list: `first`, and `next` while more follow. Its cursors only go forward,
    /// so it knows no `prev` and no `last`.
    pub fn cursor(next: Option<&str>) -> Self {
        let links = PageLinks::default().with("first", PageTarget::First);
        match next {
            Some(cursor) => links.with("next", PageTarget::Cursor(cursor.to_owned())),
            None => links,
        }
    }

    /// Adds the link `rel` to `target`.
    pub fn with(mut self, rel: &'static str, target: PageTarget) -> Self {
        self.0.push((rel, target));
        self
    }
}

/// The page parameters a link replaces.
const PAGE_PARAMETERS: [&str; 2] = ["cursor", "page"];

/// The middleware that writes a response's [`PageLinks`] as its `Link` header. Targets are the
/// request's path and query with the page parameters replaced, as references relative to the
/// request (RFC 8288 §3.1), so that they hold behind any host name or proxy.
pub async fn page_links(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let mut response = next.run(request).await;
    let Some(PageLinks(links)) = response.extensions_mut().remove::<PageLinks>() else {
        return response;
    };
    if links.is_empty() {
        return response;
    }
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| !PAGE_PARAMETERS.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let value = links
        .iter()
        .map(|(rel, target)| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(&kept);
            match target {
                PageTarget::First => {}
                PageTarget::Cursor(cursor) => {
                    query.append_pair("cursor", cursor);
                }
                PageTarget::Number(n) => {
                    query.append_pair("page", &n.to_string());
                }
            }
            let query = query.finish();
            if query.is_empty() {
                format!("<{path}>; rel=\"{rel}\"")
            } else {
                format!("<{path}?{query}>; rel=\"{rel}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}
