//! Logs. In Lambda (and whenever `LECTERN_LOG_FORMAT=json`) every line is one JSON object with the
//! request span's fields (request id, route, tenant, user), which CloudWatch Logs Insights can query;
//! locally, readable text. `RUST_LOG` filters (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LECTERN_LOG_FORMAT").is_ok_and(|f| f == "json")
        || std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests building several apps) is harmless: the first subscriber stays.
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
