//! List parameters: `limit` (1–100, default 20) and an opaque `cursor` from the previous page's
//! `nextCursor`.

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
