//! Invitations (`InvitationRepo`): registering with one uses it up in the registration's
//! transaction, so of registrations racing with one invitation exactly one makes an account, and a
//! revoked invitation makes none.

use std::sync::Arc;

use lectern_domain::invitation::{INVITATION_LIFETIME, Invitation, InvitedRole};
use lectern_domain::user::{Email, NewUser, PersonName, User, UserRole, Username};
use lectern_domain::{InvitationId, TenantId, UserId};
use lectern_store::invitations::{AcceptError, InvitationRepo};
use lectern_store::users::UserRepo;
use time::OffsetDateTime;
use tokio::sync::Barrier;

use crate::support::Store;

fn invitation(tenant: &TenantId) -> Invitation {
    let now = OffsetDateTime::now_utc();
    Invitation {
        id: InvitationId::new(),
        tenant: tenant.clone(),
        email: Email::parse("ivy@x.org").unwrap(),
        role: InvitedRole::Instructor,
        secret_hash: "ab".repeat(32),
        invited_by: UserId::new(),
        created_at: now,
        expires_at: now + INVITATION_LIFETIME,
    }
}

/// A user invited by `invitation`, with a username of its own.
fn invited(tenant: &TenantId, invitation: &Invitation, username: &str) -> User {
    User::create(
        tenant.clone(),
        NewUser {
            email: invitation.email.clone(),
            username: Username::parse(username).unwrap(),
            first_name: PersonName::parse("Ivy").unwrap(),
            last_name: PersonName::parse("Invited").unwrap(),
            role: invitation.role.into(),
            preferred_study_time: None,
        },
        "hash".into(),
        OffsetDateTime::now_utc(),
    )
}

pub async fn of_registrations_racing_with_one_invitation_exactly_one_makes_an_account(s: &Store) {
    // GIVEN an invitation, and eight registrations with it on two handles of the store (each with
    // another username, so only the invitation and the email decide)
    let tenant = TenantId::parse("t").unwrap();
    let invitation = invitation(&tenant);
    InvitationRepo::new(s.shared())
        .create(&invitation)
        .await
        .unwrap();
    let handles = [s.shared(), s.another_handle().await];
    let start = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let repo = InvitationRepo::new(handles[i % 2].clone());
            let (start, user) = (
                start.clone(),
                invited(&tenant, &invitation, &format!("ivy{i}")),
            );
            let invitation = invitation.clone();
            tokio::spawn(async move {
                start.wait().await;
                repo.register(&user, &invitation, Vec::new())
                    .await
                    .map(|()| user.id)
            })
        })
        .collect();

    // WHEN they run at once
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    // THEN one account exists, an instructor, and the invitation is gone
    let made: Vec<UserId> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(made.len(), 1, "{results:?}");
    let user = UserRepo::new(s.shared())
        .get(&tenant, made[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, UserRole::Instructor);
    assert!(
        InvitationRepo::new(s.shared())
            .get(&tenant, invitation.id)
            .await
            .unwrap()
            .is_none()
    );
    for result in &results {
        assert!(
            matches!(
                result,
                Ok(_) | Err(AcceptError::InvitationGone) | Err(AcceptError::User(_))
            ),
            "{result:?}"
        );
    }
}

pub async fn a_revoked_invitation_makes_no_account(s: &Store) {
    // GIVEN an invitation revoked after it was read
    let tenant = TenantId::parse("t").unwrap();
    let invitation = invitation(&tenant);
    let repo = InvitationRepo::new(s.shared());
    repo.create(&invitation).await.unwrap();
    assert!(repo.revoke(&tenant, invitation.id).await.unwrap());

    // WHEN someone registers with what was read THEN it is refused and no account is made
    let user = invited(&tenant, &invitation, "ivy");
    assert!(matches!(
        repo.register(&user, &invitation, Vec::new()).await,
        Err(AcceptError::InvitationGone)
    ));
    assert!(
        UserRepo::new(s.shared())
            .get(&tenant, user.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!repo.revoke(&tenant, invitation.id).await.unwrap());
}
