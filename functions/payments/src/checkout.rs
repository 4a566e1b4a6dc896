//! Buying a course: a pending payment and the provider's client secret. Contract: issue "Paid
//! courses…" §Creating a payment; seed 003 (`create_course_payment`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lectern_domain::course::Course;
use lectern_domain::payment::{IdempotencyRecord, Payment};
use lectern_domain::user::{UserRole, now};
use lectern_domain::{CourseId, PaymentId};
use lectern_payments::{CreateIntent, ProviderError};
use lectern_store::courses::CourseRepo;
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::payments::{CreatePaymentError, PaymentRepo};
use lectern_web::idempotency::{Idempotency, IdempotencyKey, KeySettled};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::provider::{client_secret, provider_error};
use crate::views::{PaymentCreated, PaymentView};
use crate::{Payments, TAG};

/// `POST /payments/course`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewCoursePayment {
    pub course_id: CourseId,
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
    let course_id = body.course_id;
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
