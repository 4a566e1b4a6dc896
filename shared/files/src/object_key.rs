//! Object keys: `t/{tenant}/{purpose}/{ownerId}/{fileId}`, so a tenant's objects share a prefix and an
//! owner's (a course's, a student's) sit together. An upload lands first under `pending/` + that key;
//! confirming copies it to the key itself. The bucket's lifecycle rule expires `pending/` after a day,
//! as the table's TTL expires the pending item: an unconfirmed upload leaves nothing behind.

use lectern_domain::file::FilePurpose;
use lectern_domain::{FileId, TenantId};

use crate::limits;

/// The prefix of uploads not confirmed yet (the bucket's lifecycle rule expires it).
pub const PENDING_PREFIX: &str = "pending/";

/// The key of a confirmed file. `owner` is the id the purpose is owned by (a course, a user).
pub fn object_key(
    tenant: &TenantId,
    purpose: FilePurpose,
    owner: &impl std::fmt::Display,
    file: FileId,
) -> String {
    format!("t/{tenant}/{}/{owner}/{file}", limits::name(purpose))
}

/// Where the upload of `key` lands before it is confirmed.
pub fn pending_key(key: &str) -> String {
    format!("{PENDING_PREFIX}{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_domain::UserId;

    #[test]
    fn keys_are_scoped_by_tenant_purpose_and_owner() {
        let t = TenantId::parse("acme").unwrap();
        let (owner, file) = (UserId::new(), FileId::new());
        let key = object_key(&t, FilePurpose::Avatar, &owner, file);
        assert_eq!(key, format!("t/acme/avatar/{owner}/{file}"));
        assert_eq!(
            pending_key(&key),
            format!("pending/t/acme/avatar/{owner}/{file}")
        );
    }
}
