//! Logs. In Lambda (and whenever `LECTERN_LOG_FORMAT=json`) every line is one JSON object with the
//! request span's fields (request id, route, tenant, user), which CloudWatch Logs Insights can query;
//! locally, readable text. `RUST_LOG` filters by level and target (default `info`; for example
//! `debug` or `lectern_store=debug,info`).
//!
//! The filter is `tracing-subscriber`'s `Targets`, not `EnvFilter`: the same `target=level`
//! directives without `EnvFilter`'s span and field matchers, whose regex engine every function
//! carried for a syntax no deployment uses (docs/performance.md, item 20).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init() {
    let (filter, unreadable) = filter(std::env::var("RUST_LOG").ok().as_deref());
    let json = std::env::var("LECTERN_LOG_FORMAT").is_ok_and(|f| f == "json")
        || std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok();
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests building several apps) is harmless: the first subscriber stays.
    let installed = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .without_time(),
            )
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().compact())
            .try_init()
    };
    if let (Ok(()), Some(error)) = (installed, unreadable) {
        tracing::warn!(%error, "RUST_LOG is not a list of target=level directives; logging at info");
    }
}

/// The filter `RUST_LOG` asks for (unset or empty: `info`), or `info` and why it could not be read.
fn filter(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let info = || Targets::new().with_default(LevelFilter::INFO);
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => (info(), None),
        Some(directives) => match directives.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(e) => (info(), Some(e.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn no_rust_log_is_info() {
        let (targets, error) = filter(None);
        assert!(error.is_none());
        assert!(targets.would_enable("lectern_store", &Level::INFO));
        assert!(!targets.would_enable("lectern_store", &Level::DEBUG));
        assert!(filter(Some("  ")).0.would_enable("h2", &Level::INFO));
    }

    #[test]
    fn a_level_and_per_target_directives_are_read() {
        let (targets, error) = filter(Some("lectern_store=debug,info"));
        assert!(error.is_none());
        assert!(targets.would_enable("lectern_store::sqlite", &Level::DEBUG));
        assert!(!targets.would_enable("lectern_store", &Level::TRACE));
        assert!(targets.would_enable("hyper", &Level::INFO));
        assert!(!targets.would_enable("hyper", &Level::DEBUG));
        let (debug, _) = filter(Some("debug"));
        assert!(debug.would_enable("anything", &Level::DEBUG));
    }

    #[test]
    fn an_unreadable_rust_log_is_info_and_says_why() {
        let (targets, error) = filter(Some("lectern_store=loud"));
        assert!(error.is_some());
        assert!(targets.would_enable("lectern_store", &Level::INFO));
        assert!(!targets.would_enable("lectern_store", &Level::DEBUG));
    }
}
