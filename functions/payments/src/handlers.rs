//! The payment endpoints: create, list, read, confirm, refund. Contract: issue "Paid courses…"
//! §Creating a payment, §Money after the fact; seed 003 (`create_course_payment`, `confirm_payment`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lectern_domain::course::Course;
use lectern_domain::payment::{IdempotencyRecord, Payment, PaymentStatus};
use lectern_domain::user::{UserRole, now};
use lectern_domain::{CourseId, PaymentId};
use lectern_payments::{CreateIntent, CreateRefund, IntentStatus, ProviderError};
use lectern_queue::OutgoingMessage;
use lectern_store::Power;
use lectern_store::courses::CourseRepo;
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::payments::{CreatePaymentError, PaymentRepo};
use lectern_web::idempotency::{Idempotency, IdempotencyKey, KeySettled};
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Payments;
use crate::facts::{self, Applied, Fact, ProviderEvent};
use crate::settle::SettleMessage;
use crate::views::{PaymentCreated, PaymentView};

pub const TAG: &str = "payments";

/// `POST /payments/course`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewCoursePayment {
    #[schema(value_type = String, format = Uuid)]
    pub course_id: String,
}

/// The provider's refusal as the client sees it: our words only. The provider's own message (which
/// can name accounts, parameters and internal limits) goes to the log with the request id, where
/// support finds it from the `requestId` the client quotes.
pub(crate) fn provider_error(error: ProviderError) -> ApiError {
    match error {
        ProviderError::Rejected {
            status,
            code,
            message,
        } => {
            tracing::warn!(
                request_id = %lectern_web::request::current_request_id(),
                provider_status = status,
                provider_code = code.as_deref().unwrap_or("none"),
                provider_message = %message,
                "the payment provider refused the request"
            );
            ApiError::UpstreamRejected {
                code: "payment_provider_rejected",
                message: "the payment provider refused the request; quote the request id if you \
                          contact support"
                    .into(),
            }
        }
        ProviderError::Unavailable(e) => ApiError::Unavailable(e.context("payment provider")),
    }
}

/// A payment the caller may see: their own, or any for an admin. Others get 404.
pub(crate) async fn visible_payment(
    state: &AppState,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<Payment> {
    let id = PaymentId::parse(id).map_err(|_| ApiError::not_found("payment"))?;
    PaymentRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?
        .filter(|p| p.user_id == caller.id || caller.is_admin())
        .ok_or_else(|| ApiError::not_found("payment"))
}

/// The client secret of a payment's intent (asked of the provider: the platform does not keep it).
async fn client_secret(ctx: &Payments, payment: &Payment) -> ApiResult<Option<String>> {
    let intent = ctx
        .provider
        .retrieve_intent(&payment.provider_payment_id)
        .await
        .map_err(provider_error)?;
    Ok(intent.client_secret)
}

/// Buys a course: a pending payment and the provider's client secret (seed 003
/// `create_course_payment`). The student pays with the client secret (Stripe.js); the provider's
/// webhook completes the payment and the confirmation worker enrolls them. A payment for the course
/// that can still be paid is returned (200) instead of a second one.
///
/// With an `Idempotency-Key` (the layer in `lectern_web::idempotency` claims it before this runs),
/// the payment's id is the one reserved with the key, and the key is marked done in the payment's
/// own transaction; a repeat is answered from the payment, its client secret asked of the provider
/// again (the platform never keeps it).
#[utoipa::path(post, path = "/api/v1/payments/course", tag = TAG,
    security(("bearer" = [])),
    request_body = NewCoursePayment,
    responses(
        (status = 201, description = "A pending payment", body = PaymentCreated),
        (status = 200, description = "The student's payment for this course that can still be paid", body = PaymentCreated),
        (status = 400, description = "Invalid course id, or the course is free (`course_is_free`)", body = ErrorBody),
        (status = 403, description = "Only students buy courses", body = ErrorBody),
        (status = 404, description = "No such published course", body = ErrorBody),
        (status = 409, description = "Already enrolled or paid (`already_enrolled`, `already_paid`), prerequisites missing, or an archived course (`course_archived`)", body = ErrorBody),
        (status = 502, description = "The payment provider refused (`payment_provider_rejected`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn create_course_payment(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    caller: AuthUser,
    Idempotency(key): Idempotency,
    Json(body): Json<NewCoursePayment>,
) -> Response {
    let (answer, settled) = create_payment(&state, &ctx, &caller, key, body).await;
    let mut response = answer.into_response();
    if let Some(settled) = settled {
        response.extensions_mut().insert(settled);
    }
    response
}

type Created = ApiResult<(StatusCode, Json<PaymentCreated>)>;

/// The answer, and (with a claimed key) what became of the key when the usual rule (keep the
/// answer, release after a 5xx) does not fit.
async fn create_payment(
    state: &AppState,
    ctx: &Payments,
    caller: &AuthUser,
    key: Option<IdempotencyKey>,
    body: NewCoursePayment,
) -> (Created, Option<KeySettled>) {
    if caller.role != UserRole::Student {
        return (
            Err(ApiError::Forbidden("only students buy courses".into())),
            None,
        );
    }
    let repo = PaymentRepo::new(state.table.clone());
    let t = &caller.tenant;
    let claimed = match key {
        Some(IdempotencyKey::Repeat { resource_id }) => {
            return (answer_repeat(ctx, &repo, t, &resource_id).await, None);
        }
        Some(IdempotencyKey::Claimed { key, digest, lease }) => Some((key, digest, lease)),
        None => None,
    };
    let course_id = match CourseId::parse(&body.course_id) {
        Ok(id) => id,
        Err(e) => {
            return (
                Err(ApiError::invalid_field("courseId", e.to_string())),
                None,
            );
        }
    };
    for _ in 0..3 {
        let purchase = match repo.before_create(t, caller.id, course_id).await {
            Ok(purchase) => purchase,
            Err(e) => return (Err(e.into()), None),
        };
        let mut replaces = None;
        if let Some(purchase) = purchase {
            let current = match repo.get(t, purchase.payment_id).await {
                Ok(current) => current,
                Err(e) => return (Err(e.into()), None),
            };
            if let Some(current) = current {
                if current.entitles() {
                    return (
                        Err(ApiError::conflict(
                            "already_paid",
                            format!(
                                "you have paid for this course (payment {}); if you left it, \
                                 enroll again",
                                current.id
                            ),
                        )),
                        None,
                    );
                }
                if !current.is_settled() {
                    // The answer carries a client secret, which is not kept: the key is given
                    // back, and a repeat finds this payment again.
                    let answer = client_secret(ctx, &current)
                        .await
                        .map(|secret| (StatusCode::OK, created(&current, secret)));
                    return (answer, Some(KeySettled::Released));
                }
                replaces = Some(current.id);
            }
        }
        let course = match purchasable_course(state, caller, course_id).await {
            Ok(course) => course,
            Err(e) => return (Err(e), None),
        };
        let mut payment = Payment::pending(
            t.clone(),
            caller.id,
            course.id,
            course.title.as_str().to_owned(),
            course.price.amount as i64,
            course.price.currency,
            ctx.provider.name().to_owned(),
            String::new(),
            now(),
        );
        payment.course_category = Some(course.category);
        // With a key, the payment is the one reserved with it: a claim taken over from a request
        // that died keeps that id, so the provider is asked the same request again.
        if let Some((key, digest, lease)) = &claimed {
            payment.id = match PaymentId::parse(&lease.resource_id) {
                Ok(id) => id,
                Err(_) => {
                    let e = anyhow::anyhow!(
                        "idempotency key record names no payment: {}",
                        lease.resource_id
                    );
                    return (Err(ApiError::Internal(e)), None);
                }
            };
            payment.idempotency = Some(IdempotencyRecord {
                key: key.clone(),
                request_digest: digest.clone(),
            });
        }
        let metadata = BTreeMap::from([
            ("tenantId".to_owned(), t.to_string()),
            ("paymentId".to_owned(), payment.id.to_string()),
            ("courseId".to_owned(), course.id.to_string()),
            ("userId".to_owned(), caller.id.to_string()),
        ]);
        let asked = ctx
            .provider
            .create_intent(&CreateIntent {
                amount: payment.amount,
                currency: payment.currency.to_string(),
                metadata,
                // Named by the payment, never by the client's key: a retry of this payment gets the
                // same intent back, and the key Stripe sees is always short enough (≤ 255).
                idempotency_key: format!("payment:{}", payment.id),
                description: Some(format!("Course: {}", payment.course_title)),
            })
            .await;
        let intent = match asked {
            Ok(intent) => intent,
            // A refusal changed nothing: the key is released (a 5xx) for a corrected retry. When
            // the provider could not be reached the claim stays, so that a retry after its lease
            // asks for the same intent again.
            Err(e @ ProviderError::Rejected { .. }) => return (Err(provider_error(e)), None),
            Err(e @ ProviderError::Unavailable(_)) => {
                return (Err(provider_error(e)), Some(KeySettled::Kept));
            }
        };
        payment.provider_payment_id = intent.id.clone();
        let lease = claimed.as_ref().map(|(_, _, lease)| lease);
        match repo
            .create(&caller.member(), &payment, replaces, lease)
            .await
        {
            Ok(_) => {
                let answer = Ok((StatusCode::CREATED, created(&payment, intent.client_secret)));
                return (answer, Some(KeySettled::Completed));
            }
            // Another request for this course won: answer with what it created.
            Err(CreatePaymentError::Raced) => continue,
            // The caller was suspended meanwhile: nothing was recorded, and the key is free again.
            Err(CreatePaymentError::Store(e @ lectern_store::StoreError::ActorRefused(_))) => {
                return (Err(e.into()), Some(KeySettled::Released));
            }
            // The intent exists: a retry after the claim's lease asks for it again.
            Err(CreatePaymentError::Store(e)) => return (Err(e.into()), Some(KeySettled::Kept)),
        }
    }
    let busy = ApiError::conflict(
        "payment_in_progress",
        "another payment for this course is being created; retry",
    );
    (Err(busy), Some(KeySettled::Released))
}

/// The answer to a repeat of a request that created a payment: the payment, with its client secret
/// asked of the provider again.
async fn answer_repeat(
    ctx: &Payments,
    repo: &PaymentRepo,
    tenant: &lectern_domain::TenantId,
    resource_id: &str,
) -> Created {
    let payment = match PaymentId::parse(resource_id) {
        Ok(id) => repo.get(tenant, id).await?,
        Err(_) => None,
    }
    .ok_or_else(|| ApiError::not_found("payment"))?;
    let secret = client_secret(ctx, &payment).await?;
    Ok((StatusCode::CREATED, created(&payment, secret)))
}

fn created(payment: &Payment, client_secret: Option<String>) -> Json<PaymentCreated> {
    Json(PaymentCreated {
        payment: PaymentView::from(payment),
        client_secret,
    })
}

/// The course, if the caller may buy it: published (not archived: 409 `course_archived`), not free,
/// not enrolled, prerequisites met.
async fn purchasable_course(
    state: &AppState,
    caller: &AuthUser,
    course_id: CourseId,
) -> ApiResult<Course> {
    let course = CourseRepo::new(state.table.clone())
        .get(&caller.tenant, course_id)
        .await?
        .filter(|c| (c.is_published() || c.is_archived()) && c.deleting_since.is_none())
        .ok_or_else(|| ApiError::not_found("course"))?;
    if course.is_archived() {
        return Err(ApiError::conflict(
            "course_archived",
            "the course is archived: it takes no new students, so it cannot be bought",
        ));
    }
    if course.price.is_free() {
        return Err(ApiError::bad_request(
            "course_is_free",
            "this course is free: enroll in it directly",
        ));
    }
    let (enrollment, missing) = EnrollmentRepo::new(state.table.clone())
        .admission(&course, caller.id)
        .await?;
    if enrollment.is_some_and(|e| e.is_active()) {
        return Err(ApiError::conflict(
            "already_enrolled",
            "you are already enrolled in this course",
        ));
    }
    if !missing.is_empty() {
        return Err(ApiError::prerequisites_missing(&missing));
    }
    Ok(course)
}

/// Filters of the payments list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    /// pending | completed | failed | refunded | disputed
    pub status: Option<String>,
    pub course_id: Option<String>,
    /// Admins: one student's payments.
    pub user_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The caller's payments, newest first; an admin's: the tenant's (or one student's).
#[utoipa::path(get, path = "/api/v1/payments", tag = TAG,
    security(("bearer" = [])),
    params(PaymentFilter),
    responses(
        (status = 200, description = "A page of payments", body = Paginated<PaymentView>),
        (status = 400, description = "Invalid filter or cursor", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(filter): Query<PaymentFilter>,
) -> ApiResult<Paginated<PaymentView>> {
    let (limit, cursor) = PageParams {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .parse()?;
    let status = filter
        .status
        .as_deref()
        .map(|s| {
            PaymentStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be pending, completed, failed, refunded or disputed",
                )
            })
        })
        .transpose()?;
    let course = filter
        .course_id
        .as_deref()
        .map(|c| CourseId::parse(c).map_err(|e| ApiError::invalid_field("courseId", e.to_string())))
        .transpose()?;
    let user = filter
        .user_id
        .as_deref()
        .map(|u| {
            lectern_domain::UserId::parse(u)
                .map_err(|e| ApiError::invalid_field("userId", e.to_string()))
        })
        .transpose()?;
    let keep = |p: &Payment| {
        status.is_none_or(|s| p.status() == s) && course.is_none_or(|c| p.course_id == c)
    };
    let repo = PaymentRepo::new(state.table.clone());
    let page = match (caller.is_admin(), user) {
        (true, None) => repo.all(&caller.tenant, limit, cursor, keep).await?,
        (true, Some(user)) => {
            repo.of_user(&caller.tenant, user, limit, cursor, keep)
                .await?
        }
        (false, _) => {
            repo.of_user(&caller.tenant, caller.id, limit, cursor, keep)
                .await?
        }
    };
    Ok(Paginated {
        data: page.payments.iter().map(PaymentView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    })
}

/// One payment (the payer's or an admin's).
#[utoipa::path(get, path = "/api/v1/payments/{paymentId}", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 404, description = "No such payment the caller may see", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(payment_id): Path<String>,
) -> ApiResult<Json<PaymentView>> {
    let payment = visible_payment(&state, &caller, &payment_id).await?;
    Ok(Json(PaymentView::from(&payment)))
}

/// The payment's current state (seed 003 `confirm_payment`). When the provider says the payment
/// succeeded and its webhook has not been processed yet, this records the success and queues the same
/// settlement the webhook would (once: the fact is written with a confirmation event id of its own,
/// and settling is idempotent).
#[utoipa::path(post, path = "/api/v1/payments/{paymentId}/confirm", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment as it is now", body = PaymentView),
        (status = 404, description = "No such payment the caller may see", body = ErrorBody),
        (status = 503, description = "The provider or the queue could not be reached", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn confirm_payment(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    caller: AuthUser,
    Path(payment_id): Path<String>,
) -> ApiResult<Json<PaymentView>> {
    let payment = visible_payment(&state, &caller, &payment_id).await?;
    if payment.succeeded_at.is_some() {
        return Ok(Json(PaymentView::from(&payment)));
    }
    let intent = ctx
        .provider
        .retrieve_intent(&payment.provider_payment_id)
        .await
        .map_err(provider_error)?;
    if intent.status != IntentStatus::Succeeded {
        return Ok(Json(PaymentView::from(&payment)));
    }
    let at = now();
    let event = ProviderEvent {
        provider: payment.provider.clone(),
        id: format!("confirm:{}", payment.provider_payment_id),
        event_type: "payment_intent.succeeded".into(),
        created: at,
        payment_intent: Some(payment.provider_payment_id.clone()),
        amount: Some(intent.amount),
        currency: Some(intent.currency.clone()),
        names_our_payment: true,
        fact: Some(Fact::Succeeded),
    };
    let repo = PaymentRepo::new(state.table.clone());
    let payment_id = payment.id;
    let applied = facts::apply_to(&repo, &event, Some(payment), at)
        .await
        .map_err(|e| match e {
            facts::ApplyError::Store(e) => ApiError::from(e),
            other => ApiError::Internal(other.into()),
        })?;
    let current = match applied {
        Applied::Changed { payment, .. } => *payment,
        Applied::Mismatch => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "the provider's amount or currency differs from payment {payment_id}"
            )));
        }
        // Applied by another path meanwhile: answer what it recorded.
        _ => repo
            .get(&caller.tenant, payment_id)
            .await?
            .ok_or_else(|| ApiError::not_found("payment"))?,
    };
    queue_settlement(&ctx, &current).await?;
    Ok(Json(PaymentView::from(&current)))
}

/// Puts a payment on the confirmation queue. The deduplication id names the payment's version, so
/// the same state is settled once however many paths ask.
pub async fn queue_settlement(ctx: &Payments, payment: &Payment) -> ApiResult<()> {
    let body = serde_json::to_string(&SettleMessage::of(payment))
        .map_err(|e| ApiError::Internal(e.into()))?;
    ctx.confirmations
        .send(OutgoingMessage {
            body,
            dedup_id: Some(format!("{}:{}", payment.id, payment.version)),
            delay: None,
        })
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e).context("confirmation queue")))
}

/// `POST /payments/{paymentId}/refund`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// Minor units; the whole remaining amount when absent.
    pub amount: Option<i64>,
    pub reason: Option<String>,
}

/// The refund the provider accepted. The payment changes when the provider's `charge.refunded` event
/// arrives (and a whole refund revokes the enrollment).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundAccepted {
    /// The provider's refund id (`re_…`).
    pub refund_id: String,
    pub status: String,
    pub amount: i64,
    pub payment: PaymentView,
}

/// Refunds a payment through the provider: admins, or the course's instructor within the refund
/// window after the payment (`LECTERN_REFUND_WINDOW_DAYS`, default 14).
#[utoipa::path(post, path = "/api/v1/payments/{paymentId}/refund", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    request_body = RefundRequest,
    responses(
        (status = 202, description = "The provider accepted the refund; the payment follows with its event", body = RefundAccepted),
        (status = 400, description = "Invalid amount", body = ErrorBody),
        (status = 403, description = "Not the course's instructor, or past the refund window", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Not paid, or refunded already (`not_refundable`)", body = ErrorBody),
        (status = 502, description = "The payment provider refused", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn refund_payment(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    caller: AuthUser,
    Path(payment_id): Path<String>,
    Json(body): Json<RefundRequest>,
) -> ApiResult<(StatusCode, Json<RefundAccepted>)> {
    let id = PaymentId::parse(&payment_id).map_err(|_| ApiError::not_found("payment"))?;
    let repo = PaymentRepo::new(state.table.clone());
    // Students refund nothing (not even courses they once taught): as for any payment not theirs
    // to refund, it is not found.
    let power = match caller.role {
        UserRole::Admin => Power::Admin,
        UserRole::Instructor => Power::Teaching,
        UserRole::Student => return Err(ApiError::not_found("payment")),
    };
    // The refund happens at the provider, where no transaction of ours can check who asks: the
    // caller's account is read instead (beside the payment, so no round trip is added) and must be
    // active and still hold the role the token claims.
    let actor = caller.actor(power);
    let (payment, ()) = tokio::try_join!(
        repo.get(&caller.tenant, id),
        actor.verify(state.table.as_ref())
    )?;
    let payment = payment.ok_or_else(|| ApiError::not_found("payment"))?;
    if !caller.is_admin() {
        let course = CourseRepo::new(state.table.clone())
            .get(&caller.tenant, payment.course_id)
            .await?;
        let owns = course.is_some_and(|c| c.instructor_id == caller.id);
        if !owns {
            return Err(ApiError::not_found("payment"));
        }
        let within = payment
            .succeeded_at
            .is_some_and(|at| now() - at <= ctx.refund_window);
        if !within {
            return Err(ApiError::Forbidden(format!(
                "instructors may refund within {} days of the payment; ask an admin",
                ctx.refund_window.whole_days()
            )));
        }
    }
    let remaining = payment.amount - payment.refunded_amount;
    if payment.succeeded_at.is_none() || remaining <= 0 {
        return Err(ApiError::conflict(
            "not_refundable",
            "only a paid payment that is not wholly refunded can be refunded",
        ));
    }
    let amount = body.amount.unwrap_or(remaining);
    if amount <= 0 || amount > remaining {
        return Err(ApiError::invalid_field(
            "amount",
            format!("must be between 1 and {remaining} (what is left to refund)"),
        ));
    }
    let mut metadata = BTreeMap::from([
        ("tenantId".to_owned(), payment.tenant.to_string()),
        ("paymentId".to_owned(), payment.id.to_string()),
        ("requestedBy".to_owned(), caller.id.to_string()),
    ]);
    if let Some(reason) = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        metadata.insert("reason".into(), reason.chars().take(500).collect());
    }
    let refund = ctx
        .provider
        .refund(&CreateRefund {
            payment_intent: payment.provider_payment_id.clone(),
            amount: Some(amount),
            // The same refund asked twice (a retried request) is one refund at the provider.
            idempotency_key: format!("refund:{}:{}:{amount}", payment.id, payment.refunded_amount),
            metadata,
        })
        .await
        .map_err(provider_error)?;
    if let Some(local) = &ctx.local {
        // Stripe sends `charge.refunded` after a refund; the local provider's is delivered here.
        crate::webhook::deliver_local_refund(&ctx, local, &payment, amount).await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(RefundAccepted {
            refund_id: refund.id,
            status: refund.status,
            amount: refund.amount,
            payment: PaymentView::from(&payment),
        }),
    ))
}
