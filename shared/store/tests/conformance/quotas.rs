//! Storage quotas (`FileRepo`): confirmed files count against their uploader's and their tenant's
//! counters, within the quotas, atomically with the confirmation; pending uploads count against
//! nothing; deleting an active file gives its bytes back; of confirmations racing for the last bytes
//! exactly one wins.

use std::sync::Arc;

use lectern_domain::file::{FilePurpose, FileStatus, QuotaScope, StorageQuotas, StoredFile};
use lectern_domain::user::{Email, NewUser, PersonName, User, UserRole, Username, now};
use lectern_domain::{FileId, TenantId, UserId};
use lectern_store::StoreError;
use lectern_store::actor::{Actor, Power};
use lectern_store::files::{ConfirmError, FileRepo, QuotaExceeded, StorageUsage, UploadError};
use lectern_store::users::UserRepo;
use time::OffsetDateTime;
use tokio::sync::Barrier;

use crate::support::Store;

const QUOTAS: StorageQuotas = StorageQuotas {
    per_user: 100,
    per_tenant: 150,
};

fn pending(tenant: &TenantId, uploader: UserId, size: u64) -> StoredFile {
    let id = FileId::new();
    StoredFile {
        id,
        tenant: tenant.clone(),
        uploader_id: uploader,
        purpose: FilePurpose::Avatar,
        file_name: "me.png".into(),
        content_type: "image/png".into(),
        size,
        course_id: None,
        lesson_id: None,
        assignment_id: None,
        object_key: format!("t/{tenant}/avatar/{uploader}/{id}"),
        status: FileStatus::Pending,
        created_at: OffsetDateTime::now_utc(),
        confirmed_at: None,
        submitted_for: None,
        deleting_since: None,
    }
}

/// A new active student of tenant `t`: every write of a file carries its uploader's check.
async fn uploader(s: &Store, name: &str) -> UserId {
    let new = NewUser {
        email: Email::parse(&format!("{name}@example.org")).unwrap(),
        username: Username::parse(name).unwrap(),
        first_name: PersonName::parse("Ann").unwrap(),
        last_name: PersonName::parse("Lee").unwrap(),
        role: UserRole::Student,
        preferred_study_time: None,
    };
    let user = User::create(TenantId::parse("t").unwrap(), new, "hash".into(), now());
    UserRepo::new(s.shared()).create(&user).await.unwrap();
    user.id
}

/// The file's uploader, acting on it.
fn by(file: &StoredFile) -> Actor {
    Actor::new(file.tenant.clone(), file.uploader_id, Power::Member)
}

async fn created(repo: &FileRepo, file: StoredFile) -> StoredFile {
    repo.create(&by(&file), &file, &QUOTAS).await.unwrap();
    file
}

pub async fn confirmed_files_count_against_both_quotas_and_deleted_ones_give_bytes_back(s: &Store) {
    // GIVEN two users of one tenant, two pending uploads of ann's that together overflow her quota,
    // and one of bob's that fills his
    let repo = FileRepo::new(s.shared());
    let tenant = TenantId::parse("t").unwrap();
    let (ann, bob) = (uploader(s, "ann").await, uploader(s, "bob").await);
    let first = created(&repo, pending(&tenant, ann, 60)).await;
    let second = created(&repo, pending(&tenant, ann, 60)).await;
    let bobs = created(&repo, pending(&tenant, bob, 100)).await;
    assert_eq!(
        repo.usage(&tenant, ann).await.unwrap(),
        StorageUsage::default(),
        "pending uploads count against nothing"
    );

    // WHEN the first is confirmed THEN it counts against ann and the tenant
    let first = repo
        .activate(&by(&first), &first, OffsetDateTime::now_utc(), &QUOTAS)
        .await
        .unwrap();
    assert_eq!(
        repo.usage(&tenant, ann).await.unwrap(),
        StorageUsage {
            user: 60,
            tenant: 60
        }
    );
    // AND the second no longer fits: refused with the figures, and it stays pending
    let refused = repo
        .activate(&by(&second), &second, OffsetDateTime::now_utc(), &QUOTAS)
        .await;
    assert_matches!(
        refused,
        Err(ConfirmError::QuotaExceeded(QuotaExceeded {
            scope: QuotaScope::User,
            used: 60,
            limit: 100,
            size: 60
        }))
    );
    assert_eq!(
        repo.get(&tenant, second.id).await.unwrap().unwrap().status,
        FileStatus::Pending
    );
    // AND a new upload that does not fit is not recorded
    let too_big = pending(&tenant, ann, 41);
    assert_matches!(
        repo.create(&by(&too_big), &too_big, &QUOTAS).await,
        Err(UploadError::QuotaExceeded(QuotaExceeded {
            scope: QuotaScope::User,
            used: 60,
            ..
        }))
    );
    assert!(repo.get(&tenant, too_big.id).await.unwrap().is_none());
    // AND bob's own room is bounded by what the tenant has left
    assert_matches!(
        repo.activate(&by(&bobs), &bobs, OffsetDateTime::now_utc(), &QUOTAS)
            .await,
        Err(ConfirmError::QuotaExceeded(QuotaExceeded {
            scope: QuotaScope::Tenant,
            used: 60,
            limit: 150,
            ..
        }))
    );

    // WHEN ann deletes the active file
    let marked = repo
        .start_deleting(&by(&first), &first, OffsetDateTime::now_utc(), false)
        .await
        .unwrap()
        .unwrap();
    assert!(repo.delete(&marked).await.unwrap());
    // THEN its bytes are given back, once
    assert!(!repo.delete(&marked).await.unwrap());
    assert_eq!(
        repo.usage(&tenant, ann).await.unwrap(),
        StorageUsage::default()
    );
    // AND bob's upload now fits in the tenant's room
    repo.activate(&by(&bobs), &bobs, OffsetDateTime::now_utc(), &QUOTAS)
        .await
        .unwrap();
    assert_eq!(
        repo.usage(&tenant, bob).await.unwrap(),
        StorageUsage {
            user: 100,
            tenant: 100
        }
    );
}

pub async fn a_file_being_deleted_cannot_be_confirmed(s: &Store) {
    // GIVEN a pending upload whose deletion has started
    let repo = FileRepo::new(s.shared());
    let tenant = TenantId::parse("t").unwrap();
    let file = created(&repo, pending(&tenant, uploader(s, "ann").await, 10)).await;
    repo.start_deleting(&by(&file), &file, OffsetDateTime::now_utc(), false)
        .await
        .unwrap()
        .unwrap();

    // WHEN it is confirmed THEN it is refused, and nothing is counted
    assert_matches!(
        repo.activate(&by(&file), &file, OffsetDateTime::now_utc(), &QUOTAS)
            .await,
        Err(ConfirmError::NotPending)
    );
    assert_eq!(
        repo.usage(&tenant, file.uploader_id).await.unwrap(),
        StorageUsage::default()
    );
}

pub async fn of_confirmations_racing_for_the_last_bytes_exactly_one_wins(s: &Store) {
    // GIVEN eight pending uploads of 60 bytes of one user (quota 100), on two handles of the store
    let tenant = TenantId::parse("t").unwrap();
    let ann = uploader(s, "ann").await;
    let repo = FileRepo::new(s.shared());
    let mut files = Vec::new();
    for _ in 0..8 {
        files.push(created(&repo, pending(&tenant, ann, 60)).await);
    }
    let handles = [s.shared(), s.another_handle().await];
    let start = Arc::new(Barrier::new(files.len()));

    // WHEN they are confirmed at once
    let tasks: Vec<_> = files
        .into_iter()
        .enumerate()
        .map(|(i, file)| {
            let repo = FileRepo::new(handles[i % 2].clone());
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                repo.activate(&by(&file), &file, OffsetDateTime::now_utc(), &QUOTAS)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    // THEN one is active, the others were refused (or collided, on DynamoDB), and 60 bytes count
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for result in &results {
        match result {
            Ok(_)
            | Err(ConfirmError::QuotaExceeded(_))
            | Err(ConfirmError::Store(StoreError::TransactionConflict)) => {}
            Err(other) => panic!("a losing confirmation failed with {other:?}"),
        }
    }
    assert_eq!(repo.usage(&tenant, ann).await.unwrap().user, 60);
}
