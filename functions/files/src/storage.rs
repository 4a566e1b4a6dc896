//! Storage: how much of their quota the caller uses, and the file purposes with their limits.
//! Contract: issue 22 item 18 (storage quotas); seed 003 file categories.

use axum::extract::State;
use lectern_files::limits::{CATEGORIES, Category};
use lectern_store::files::FileRepo;
use lectern_web::{ApiResult, AppState, AuthUser, Json};
use serde::Serialize;
use utoipa::ToSchema;

const TAG: &str = "files";

/// Bytes used of a storage quota.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaUsage {
    /// Bytes of confirmed files (pending uploads count once confirmed).
    pub used: u64,
    /// The quota, in bytes.
    pub limit: u64,
}

/// The caller's storage, and their tenant's for admins.
#[derive(Debug, Serialize, ToSchema)]
pub struct StorageUsageView {
    /// The caller's own files.
    pub user: QuotaUsage,
    /// Every file of the tenant: present for admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<QuotaUsage>,
}

/// How much of their storage quota the caller uses, and (for admins) how much of the tenant's
/// (issue 22 item 18; Canvas shows the same as a user's and a course's "quota used").
#[utoipa::path(get, path = "/api/v1/files/usage", tag = TAG,
    security(("bearer" = [])),
    responses((status = 200, description = "Bytes used and the quota, the caller's and (admins) the tenant's", body = StorageUsageView)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn usage(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<StorageUsageView>> {
    let repo = FileRepo::new(state.table.clone());
    let quotas = state.storage_quotas;
    let view = if caller.is_admin() {
        let usage = repo.usage(&caller.tenant, caller.id).await?;
        StorageUsageView {
            user: QuotaUsage {
                used: usage.user,
                limit: quotas.per_user,
            },
            tenant: Some(QuotaUsage {
                used: usage.tenant,
                limit: quotas.per_tenant,
            }),
        }
    } else {
        StorageUsageView {
            user: QuotaUsage {
                used: repo.user_usage(&caller.tenant, caller.id).await?,
                limit: quotas.per_user,
            },
            tenant: None,
        }
    };
    Ok(Json(view))
}

#[derive(Debug, Serialize, ToSchema)]

pub struct Categories {
    pub categories: Vec<Category>,
}

/// The file purposes with their limits (seed 003 file categories). Public: clients check before they
/// ask.
#[utoipa::path(get, path = "/api/v1/files/categories", tag = TAG,
    responses((status = 200, description = "Every purpose with its content types and largest size", body = Categories)))]
pub async fn categories() -> Json<Categories> {
    Json(Categories {
        categories: CATEGORIES.to_vec(),
    })
}
