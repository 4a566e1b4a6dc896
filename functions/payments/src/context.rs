//! What the payments group needs beside the store: the payment provider, the webhook signing secret,
//! the queues ([`crate::queues`]) and the platform operators ([`crate::operators`]). Read once at
//! cold start from the environment (see the README's configuration table); handlers reach them as
//! `Extension<Arc<Payments>>` and `Extension<Arc<Ingest>>`. Each Lambda builds only what it uses: the
//! webhook function the secret and the events queue, the workers their queue, the payments function
//! everything.

use std::sync::Arc;

use anyhow::Context;
use lectern_payments::{LocalProvider, PaymentProvider, StripeClient};
use lectern_queue::{Queue, QueuePolicy};
use lectern_runtime::{Config, var};
use lectern_store::sqlite::SharedConnection;

use crate::operators::Operators;
use crate::queues::{CONFIRMATIONS_QUEUE, EVENTS_QUEUE, LocalQueues, local_queues, queue, queues};

/// What the webhook endpoint needs: the signing secret and the events queue.
pub struct Ingest {
    /// Signs (locally) and verifies (always) the provider's webhooks. `None` only in the payments
    /// function with the Stripe provider: it serves no webhook route, so the template gives it neither
    /// the secret nor the right to read it, and its cold start reads one secret fewer.
    pub webhook_secret: Option<String>,
    /// Raw provider events, from the webhook endpoint to the events worker.
    pub events: Arc<dyn Queue>,
}

/// The payments group's dependencies.
#[derive(Clone)]
pub struct Payments {
    pub provider: Arc<dyn PaymentProvider>,
    /// Set when the provider is the local one: the simulate route exists only then.
    pub local: Option<Arc<LocalProvider>>,
    pub ingest: Arc<Ingest>,
    /// `{tenant, paymentId}` to settle, from the events worker (and confirm) to the confirmation
    /// worker.
    pub confirmations: Arc<dyn Queue>,
    /// How long after a payment its course's instructor may still refund it (admins: always).
    pub refund_window: time::Duration,
    /// The local queues' settings (when the queues are local).
    pub local_queues: LocalQueues,
    /// The platform's operators: they see and redrive every tenant's dead letters.
    pub operators: Operators,
}

/// A whole-number setting, `default` when unset.
pub(crate) fn number(name: &str, default: u64) -> anyhow::Result<u64> {
    var(name).map_or(Ok(default), |v| {
        v.trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number, not {v:?}"))
    })
}

/// Which provider: `LECTERN_PAYMENTS_PROVIDER` (see [`lectern_payments::provider_name`]).
pub fn provider_name() -> anyhow::Result<&'static str> {
    lectern_payments::provider_name(var)
}

impl Ingest {
    /// The signing secret (`STRIPE_WEBHOOK_SECRET`; locally, when unset, generated into the data
    /// folder on first start and printed) and the events queue.
    pub async fn from_env(config: &Config, policy: &QueuePolicy) -> anyhow::Result<Ingest> {
        let ingest = Self::with_queue(config, queue(config, EVENTS_QUEUE, policy, None).await?)?;
        ingest.require_secret()?;
        Ok(ingest)
    }

    /// Refuses to start an app that serves the webhook endpoint without its signing secret.
    pub fn require_secret(&self) -> anyhow::Result<()> {
        match self.webhook_secret {
            Some(_) => Ok(()),
            None => anyhow::bail!("STRIPE_WEBHOOK_SECRET must be set with the Stripe provider"),
        }
    }

    /// The signing secret, for a route that signs or verifies a webhook.
    pub fn secret(&self) -> Result<&str, lectern_web::ApiError> {
        self.webhook_secret.as_deref().ok_or_else(|| {
            lectern_web::ApiError::Internal(anyhow::anyhow!(
                "a webhook route is served without STRIPE_WEBHOOK_SECRET"
            ))
        })
    }

    /// The signing secret, as [`Ingest::from_env`] reads it, and the given events queue.
    fn with_queue(config: &Config, events: Arc<dyn Queue>) -> anyhow::Result<Ingest> {
        let webhook_secret = match var("STRIPE_WEBHOOK_SECRET") {
            Some(secret) => Some(secret),
            // The payments function (no webhook route); apps serving it call `require_secret`.
            None if provider_name()? == "stripe" => None,
            None => {
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("creating {}", config.data_dir.display()))?;
                let path = config.data_dir.join("stripe-webhook-secret");
                let (secret, generated) =
                    lectern_payments::webhook::load_or_generate_secret(&path)?;
                if generated {
                    println!(
                        "generated a webhook signing secret into {} (set STRIPE_WEBHOOK_SECRET to use your own)",
                        path.display()
                    );
                }
                Some(secret)
            }
        };
        Ok(Ingest {
            webhook_secret,
            events,
        })
    }
}

impl Payments {
    /// Builds the dependencies from the environment. No network calls: SDK and HTTP clients connect
    /// on first use. Local queues in the store's SQLite file go on `store`, the store's connection,
    /// where given (see [`queues`]).
    pub async fn from_env(
        config: &Config,
        store: Option<&SharedConnection>,
    ) -> anyhow::Result<Payments> {
        Self::build(config, local_queues()?, store).await
    }

    /// As [`Payments::from_env`], with the local queues' settings given (tests use short timeouts).
    pub async fn build(
        config: &Config,
        local_queues: LocalQueues,
        store: Option<&SharedConnection>,
    ) -> anyhow::Result<Payments> {
        let policy = &local_queues.policy;
        let (provider, local): (Arc<dyn PaymentProvider>, _) = match provider_name()? {
            "stripe" => {
                let key = var("STRIPE_SECRET_KEY")
                    .context("STRIPE_SECRET_KEY must be set with the Stripe provider")?;
                let client = StripeClient::new(key, var("STRIPE_API_BASE"))
                    .context("STRIPE_SECRET_KEY / STRIPE_API_BASE")?;
                (Arc::new(client), None)
            }
            _ => {
                let local = Arc::new(LocalProvider::new());
                (local.clone() as Arc<dyn PaymentProvider>, Some(local))
            }
        };
        let [events, confirmations] =
            queues(config, [EVENTS_QUEUE, CONFIRMATIONS_QUEUE], policy, store)
                .await?
                .try_into()
                .map_err(|_| anyhow::anyhow!("two queues asked, another number built"))?;
        Ok(Payments {
            provider,
            local,
            ingest: Arc::new(Ingest::with_queue(config, events)?),
            confirmations,
            refund_window: time::Duration::days(
                i64::try_from(number("LECTERN_REFUND_WINDOW_DAYS", 14)?)
                    .context("LECTERN_REFUND_WINDOW_DAYS is too large")?,
            ),
            local_queues,
            operators: Operators::from_env()?,
        })
    }
}
