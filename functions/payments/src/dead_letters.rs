//! Dead letters: what the payment queues could not process after their max receive count. Admins list
//! them and send them back once the cause is fixed. Contract: issue "Paid courses…" (admin
//! dead letters); issue "Hardening" (dead letters stay within their tenant).
//!
//! A tenant's admin sees and redrives only their tenant's letters; a platform operator (an admin
//! account named in `LECTERN_PLATFORM_OPERATORS`, see [`crate::operators::Operators`]) sees and
//! redrives all. A letter's tenant is read from the message: a settlement names it; a provider event
//! is traced to its payment through our provider-id mapping (or, for an intent of ours not recorded,
//! the tenant our own metadata on it names). A letter no tenant can be found for is the operators'.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use lectern_domain::TenantId;
use lectern_payments::{EventObject, StripeEvent};
use lectern_queue::{DeadLetter, Queue};
use lectern_store::StoreError;
use lectern_store::payments::PaymentRepo;
use lectern_store::users::UserRepo;
use lectern_web::{Admin, ApiError, ApiResult, AppState, ErrorBody, Json, Query, RequireRole};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{LetterScope, letter_scope, letter_scope_of};
use crate::{Payments, TAG};

/// A message in a dead-letter queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    /// `payment-events` or `payment-confirmations`.
    pub queue: String,
    pub message_id: String,
    /// The tenant the message belongs to (absent when none can be found: operators only).
    pub tenant: Option<String>,
    /// The message as it was sent (a provider event, or `{tenant, paymentId}`).
    pub body: String,
    /// How often it was received before it was set aside.
    pub receive_count: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<String>,
}

/// Which queue (both when absent).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct QueueSelection {
    /// `payment-events` or `payment-confirmations`.
    pub queue: Option<String>,
}

/// What a queue's messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carries {
    /// Raw provider events.
    Events,
    /// `{tenant, paymentId}`.
    Settlements,
}

impl Carries {
    fn name(self) -> &'static str {
        match self {
            Carries::Events => crate::queues::EVENTS_QUEUE,
            Carries::Settlements => crate::queues::CONFIRMATIONS_QUEUE,
        }
    }
}

/// How many dead letters of each queue are looked at per request: each is traced to its tenant.
const PEEK: usize = 100;
/// How many of them are shown per queue.
const SHOWN: usize = 10;

fn selected(ctx: &Payments, which: Option<&str>) -> ApiResult<Vec<(Carries, Arc<dyn Queue>)>> {
    let all = [
        (Carries::Events, ctx.ingest.events.clone()),
        (Carries::Settlements, ctx.confirmations.clone()),
    ];
    match which {
        None => Ok(all.to_vec()),
        Some(name) => all
            .into_iter()
            .find(|(carries, _)| carries.name() == name)
            .map(|q| vec![q])
            .ok_or_else(|| {
                ApiError::invalid_field("queue", "must be payment-events or payment-confirmations")
            }),
    }
}

fn unavailable(e: lectern_queue::QueueError) -> ApiError {
    ApiError::Unavailable(anyhow::Error::new(e).context("dead-letter queue"))
}

/// The tenant of each letter, in order.
async fn tenants_of(
    state: &AppState,
    ctx: &Payments,
    carries: Carries,
    letters: &[DeadLetter],
) -> ApiResult<Vec<Option<TenantId>>> {
    match carries {
        Carries::Settlements => Ok(letters
            .iter()
            .map(|letter| {
                #[derive(Deserialize)]
                struct Named {
                    tenant: String,
                }
                let named: Named = serde_json::from_str(&letter.body).ok()?;
                TenantId::parse(&named.tenant).ok()
            })
            .collect()),
        Carries::Events => {
            let provider = ctx.provider.name();
            let events: Vec<Option<StripeEvent>> = letters
                .iter()
                .map(|letter| StripeEvent::parse(letter.body.as_bytes()).ok())
                .collect();
            let intents: Vec<Option<String>> = events
                .iter()
                .map(|event| {
                    event
                        .as_ref()
                        .and_then(|e| crate::workers::provider_event(provider, e).payment_intent)
                })
                .collect();
            let asked: Vec<String> = intents.iter().flatten().cloned().collect();
            let mapped = if asked.is_empty() {
                Vec::new()
            } else {
                PaymentRepo::new(state.table.clone())
                    .tenants_of_provider_payments(provider, &asked)
                    .await?
            };
            let mut mapped = mapped.into_iter();
            Ok(events
                .iter()
                .zip(&intents)
                .map(|(event, intent)| {
                    let found = intent.as_ref().and_then(|_| mapped.next().flatten());
                    found.or_else(|| match event.as_ref().map(|e| &e.object) {
                        // An intent of ours not recorded (yet): the tenant we wrote on it.
                        Some(EventObject::PaymentIntent { metadata, .. }) => metadata
                            .get("tenantId")
                            .and_then(|t| TenantId::parse(t).ok()),
                        _ => None,
                    })
                })
                .collect())
        }
    }
}

/// The caller's dead letters of one queue, with their tenants.
async fn visible(
    state: &AppState,
    ctx: &Payments,
    scope: &LetterScope,
    carries: Carries,
    queue: &Arc<dyn Queue>,
) -> ApiResult<Vec<(DeadLetter, Option<TenantId>)>> {
    let letters = queue.dead_letters(PEEK).await.map_err(unavailable)?;
    let tenants = tenants_of(state, ctx, carries, &letters).await?;
    Ok(letters
        .into_iter()
        .zip(tenants)
        .filter(|(_, tenant)| scope.admits(tenant.as_ref()))
        .collect())
}

/// Up to 10 messages of each dead-letter queue (looking does not remove them): the caller's tenant's,
/// or every tenant's for a platform operator.
#[utoipa::path(get, path = "/api/v1/admin/dead-letters", tag = TAG,
    security(("bearer" = [])),
    params(QueueSelection),
    responses(
        (status = 200, description = "Dead letters", body = [DeadLetterView]),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
pub async fn dead_letters(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    admin: RequireRole<Admin>,
    Query(selection): Query<QueueSelection>,
) -> ApiResult<Json<Vec<DeadLetterView>>> {
    let scope = letter_scope(&state, &ctx, &admin).await?;
    let mut out = Vec::new();
    for (carries, queue) in selected(&ctx, selection.queue.as_deref())? {
        let letters = visible(&state, &ctx, &scope, carries, &queue).await?;
        for (letter, tenant) in letters.into_iter().take(SHOWN) {
            out.push(DeadLetterView {
                queue: carries.name().to_owned(),
                message_id: letter.id,
                tenant: tenant.map(|t| t.to_string()),
                body: letter.body,
                receive_count: letter.receive_count,
                sent_at: letter.sent_at.map(lectern_web::views::timestamp),
            });
        }
    }
    Ok(Json(out))
}

/// How many messages went back.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redriven {
    pub redriven: usize,
}

/// Sends dead letters back to their queue, to be processed again: a tenant's admin their tenant's
/// (up to 100 per queue and call), a platform operator every one.
#[utoipa::path(post, path = "/api/v1/admin/dead-letters/redrive", tag = TAG,
    security(("bearer" = [])),
    params(QueueSelection),
    responses(
        (status = 200, description = "Moved back", body = Redriven),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
pub async fn redrive(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    admin: RequireRole<Admin>,
    Query(selection): Query<QueueSelection>,
) -> ApiResult<Json<Redriven>> {
    // Redriving changes queues, not the table, so no transaction can check who asks: the admin's
    // account is read (the read that also says whether they are an operator), and must still be an
    // active admin.
    let user = UserRepo::new(state.table.clone())
        .get(&admin.tenant, admin.id)
        .await?;
    admin
        .actor()
        .judge(user.as_ref())
        .map_err(StoreError::ActorRefused)?;
    let scope = letter_scope_of(&ctx, &admin, user.as_ref());
    let mut redriven = 0;
    for (carries, queue) in selected(&ctx, selection.queue.as_deref())? {
        redriven += match scope {
            LetterScope::Everything => queue.redrive().await.map_err(unavailable)?,
            LetterScope::Tenant(_) => {
                let ids: Vec<String> = visible(&state, &ctx, &scope, carries, &queue)
                    .await?
                    .into_iter()
                    .map(|(letter, _)| letter.id)
                    .collect();
                if ids.is_empty() {
                    0
                } else {
                    queue.redrive_ids(&ids).await.map_err(unavailable)?
                }
            }
        };
    }
    Ok(Json(Redriven { redriven }))
}
