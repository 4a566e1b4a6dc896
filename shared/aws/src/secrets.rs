//! Secrets read from AWS Secrets Manager once, at cold start.
//!
//! A configuration variable that holds a secret (`LECTERN_JWT_PRIVATE_KEY`, `STRIPE_SECRET_KEY`,
//! `STRIPE_WEBHOOK_SECRET`) is given in AWS as `{NAME}_SECRET_ARN`, the ARN of a secret whose string
//! is the value. The template sets only ARNs, so the values are in no function's configuration (which
//! anyone allowed `lambda:GetFunctionConfiguration` can read) and each function's role may read only
//! its own secrets. [`load_from_env`] reads them all, concurrently, before the configuration is read;
//! the configuration then finds a secret with [`get`] where its variable is not set. Locally nothing
//! names a secret and nothing is called.
//!
//! `LECTERN_SECRETS_ENDPOINT` points the client elsewhere (the bench's and the tests' fake).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use anyhow::Context;

/// The suffix of a variable that names a secret instead of holding it.
pub const ARN_SUFFIX: &str = "_SECRET_ARN";

/// The secrets read at start, by the name of the variable they stand for.
static LOADED: OnceLock<BTreeMap<String, String>> = OnceLock::new();

/// The secrets that `vars` name: `(NAME, ARN)` for each `{NAME}_SECRET_ARN` with a value, sorted.
pub fn named(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut named: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(_, arn)| !arn.trim().is_empty())
        .filter_map(|(k, arn)| {
            let name = k.strip_suffix(ARN_SUFFIX)?;
            (!name.is_empty()).then(|| (name.to_owned(), arn.trim().to_owned()))
        })
        .collect();
    named.sort();
    named
}

/// Reads every secret the process's environment names and keeps them for [`get`]. Makes no call when
/// none is named. Call it once, before the configuration is read.
pub async fn load_from_env() -> anyhow::Result<()> {
    let named = named(std::env::vars());
    let values = if named.is_empty() {
        BTreeMap::new()
    } else {
        let endpoint = std::env::var("LECTERN_SECRETS_ENDPOINT").ok();
        fetch(&named, &crate::sdk_config(endpoint.as_deref()).await).await?
    };
    // A second load (never in a function, which starts once) keeps the first's values.
    let _ = LOADED.set(values);
    Ok(())
}

/// The value of the secret that stands for the variable `name`, if [`load_from_env`] read one.
pub fn get(name: &str) -> Option<String> {
    LOADED.get()?.get(name).cloned()
}

/// The first variable of the environment that names a secret, when [`load_from_env`] has not run: the
/// configuration refuses to start without the value rather than fall back to a default.
pub fn unloaded() -> Option<String> {
    if LOADED.get().is_some() {
        return None;
    }
    named(std::env::vars())
        .into_iter()
        .next()
        .map(|(name, _)| format!("{name}{ARN_SUFFIX}"))
}

/// Reads the secrets `named` (`(NAME, ARN)`) concurrently with one client of `config`. An error
/// names the variable and the ARN, never a value.
pub async fn fetch(
    named: &[(String, String)],
    config: &aws_config::SdkConfig,
) -> anyhow::Result<BTreeMap<String, String>> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let mut reads = tokio::task::JoinSet::new();
    for (name, arn) in named {
        let (client, name, arn) = (client.clone(), name.clone(), arn.clone());
        reads.spawn(async move {
            let answer = client
                .get_secret_value()
                .secret_id(&arn)
                .send()
                .await
                .with_context(|| {
                    format!("reading {name}{ARN_SUFFIX} ({arn}) from Secrets Manager")
                })?;
            let value = answer.secret_string().with_context(|| {
                format!("the secret {arn} ({name}{ARN_SUFFIX}) holds no string")
            })?;
            anyhow::Ok((name, value.to_owned()))
        });
    }
    let mut values = BTreeMap::new();
    while let Some(read) = reads.join_next().await {
        let (name, value) = read.context("a secret's read stopped")??;
        values.insert(name, value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_variables_ending_in_the_suffix_with_a_value_name_secrets() {
        let named = named(vars(&[
            (
                "STRIPE_SECRET_KEY_SECRET_ARN",
                "arn:aws:secretsmanager:eu-west-1:1:secret:s",
            ),
            ("LECTERN_JWT_PRIVATE_KEY_SECRET_ARN", " arn:j "),
            ("EMPTY_SECRET_ARN", "  "),
            ("_SECRET_ARN", "arn:nameless"),
            ("STRIPE_SECRET_KEY", "sk_test"),
        ]));
        assert_eq!(
            named,
            vars(&[
                ("LECTERN_JWT_PRIVATE_KEY", "arn:j"),
                (
                    "STRIPE_SECRET_KEY",
                    "arn:aws:secretsmanager:eu-west-1:1:secret:s"
                ),
            ])
        );
    }
}
