//! The payment provider's answers as the API gives them: its refusals in our words, and the client
//! secret of a payment's intent (asked again each time: the platform does not keep it).

use lectern_domain::payment::Payment;
use lectern_payments::ProviderError;
use lectern_web::{ApiError, ApiResult};

use crate::Payments;

/// The provider's refusal as the client sees it: our words only. The provider's own message (which
/// can name accounts, parameters and internal limits) goes to the log with the request id, where
/// support finds it from the `requestId` the client quotes.
pub fn provider_error(error: ProviderError) -> ApiError {
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

/// The client secret of a payment's intent (asked of the provider: the platform does not keep it).
pub async fn client_secret(ctx: &Payments, payment: &Payment) -> ApiResult<Option<String>> {
    let intent = ctx
        .provider
        .retrieve_intent(&payment.provider_payment_id)
        .await
        .map_err(provider_error)?;
    Ok(intent.client_secret)
}
