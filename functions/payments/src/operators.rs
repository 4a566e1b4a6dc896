//! The platform's operators: admin accounts, named in the configuration, that act above tenants.

use anyhow::Context;
use lectern_domain::TenantId;
use lectern_domain::user::Email;
use lectern_runtime::var;

/// The platform operators: admin accounts, named in the configuration, that act above tenants (every
/// tenant's dead letters). Read once at cold start from `LECTERN_PLATFORM_OPERATORS`, a comma-separated
/// list of `{tenant}:{email}`; nothing in the API can add one. A listed account acts as an operator
/// only while it is an admin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operators(Vec<(TenantId, String)>);

impl Operators {
    /// Parses `{tenant}:{email}[,…]` (blank: none).
    pub fn parse(list: &str) -> anyhow::Result<Operators> {
        let mut operators = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (tenant, email) = entry.split_once(':').with_context(|| {
                format!("LECTERN_PLATFORM_OPERATORS: {entry:?} is not {{tenant}}:{{email}}")
            })?;
            let tenant = TenantId::parse(tenant.trim()).map_err(|e| {
                anyhow::anyhow!("LECTERN_PLATFORM_OPERATORS: tenant {tenant:?}: {e}")
            })?;
            let email = Email::parse(email.trim())
                .map_err(|e| anyhow::anyhow!("LECTERN_PLATFORM_OPERATORS: email {email:?}: {e}"))?;
            operators.push((tenant, email.key()));
        }
        Ok(Operators(operators))
    }

    /// `LECTERN_PLATFORM_OPERATORS`.
    pub fn from_env() -> anyhow::Result<Operators> {
        Operators::parse(&var("LECTERN_PLATFORM_OPERATORS").unwrap_or_default())
    }

    /// Whether any operator account is in this tenant (else no account of it can be one).
    pub fn any_in(&self, tenant: &TenantId) -> bool {
        self.0.iter().any(|(t, _)| t == tenant)
    }

    /// Whether the account with this email in this tenant is listed.
    pub fn lists(&self, tenant: &TenantId, email: &Email) -> bool {
        let key = email.key();
        self.0.iter().any(|(t, e)| t == tenant && *e == key)
    }
}
