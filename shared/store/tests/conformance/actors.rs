//! The actor's check: a write made for a signed-in user lands only while that user's item says they
//! are active and hold the power the write needs, and a refusal says which of the two failed.

use lectern_domain::user::{Email, NewUser, PersonName, User, UserRole, UserStatus, Username, now};
use lectern_domain::{TenantId, UserId};
use lectern_store::actor::{Actor, Power, Refusal, commit, commit_in_batches};
use lectern_store::users::UserRepo;
use lectern_store::{AttrValue, Condition, Key, StoreError, TxAction};

use crate::support::{Store, item};

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// Stores a new active user with `role`.
async fn user(s: &Store, role: UserRole) -> User {
    let new = NewUser {
        email: Email::parse("ada@example.org").unwrap(),
        username: Username::parse("ada").unwrap(),
        first_name: PersonName::parse("Ada").unwrap(),
        last_name: PersonName::parse("Lovelace").unwrap(),
        role,
        preferred_study_time: None,
    };
    let user = User::create(tenant(), new, "hash".into(), now());
    UserRepo::new(s.shared()).create(&user).await.unwrap();
    user
}

/// Changes the stored user. Made as the user themselves (judged on the item as read, which is still
/// active), since no admin's item is in this table.
async fn change(s: &Store, before: &User, edit: impl FnOnce(&mut User)) -> User {
    let mut after = before.clone();
    edit(&mut after);
    after.version = before.version + 1;
    UserRepo::new(s.shared())
        .update(
            &Actor::new(tenant(), before.id, Power::Member),
            before,
            &after,
            Vec::new(),
        )
        .await
        .map(|()| after)
        .unwrap_or_else(|e| panic!("changing the user failed: {e}"))
}

fn mark(sk: &str) -> TxAction {
    TxAction::Put {
        item: item("p", sk, &[("n", AttrValue::int(1))]),
        condition: Some(Condition::NotExists),
    }
}

async fn written(s: &Store, sk: &str) -> bool {
    s.get(&Key::new("p", sk)).await.unwrap().is_some()
}

pub async fn a_write_lands_only_while_its_actor_is_active_and_holds_the_power(s: &Store) {
    // GIVEN an active instructor
    let ada = user(s, UserRole::Instructor).await;
    let teaching = Actor::new(tenant(), ada.id, Power::Teaching);
    // WHEN she writes as a member and as a teacher, THEN both land
    commit(&**s, &teaching.with_power(Power::Member), vec![mark("a")])
        .await
        .unwrap();
    commit(&**s, &teaching, vec![mark("b")]).await.unwrap();
    assert!(written(s, "a").await && written(s, "b").await);
    // BUT an admin's write is refused: her role lacks the power, and nothing is written
    let refused = commit(&**s, &teaching.with_power(Power::Admin), vec![mark("c")]).await;
    assert_matches!(refused, Err(StoreError::ActorRefused(Refusal::RoleChanged)));
    assert!(!written(s, "c").await);

    // WHEN she is made a student, THEN her teacher's writes are refused, her own still land
    let ada = change(s, &ada, |u| u.role = UserRole::Student).await;
    assert_matches!(
        commit(&**s, &teaching, vec![mark("d")]).await,
        Err(StoreError::ActorRefused(Refusal::RoleChanged))
    );
    commit(&**s, &teaching.with_power(Power::Member), vec![mark("e")])
        .await
        .unwrap();
    assert!(!written(s, "d").await && written(s, "e").await);

    // WHEN she is suspended, THEN nothing of hers lands, whatever the power
    change(s, &ada, |u| u.status = UserStatus::Suspended).await;
    for power in [Power::Member, Power::Teaching, Power::Admin] {
        assert_matches!(
            commit(&**s, &teaching.with_power(power), vec![mark("f")]).await,
            Err(StoreError::ActorRefused(Refusal::Suspended))
        );
    }
    assert!(!written(s, "f").await);

    // AND an actor with no user item is refused as suspended
    let nobody = Actor::new(tenant(), UserId::new(), Power::Member);
    assert_matches!(
        commit(&**s, &nobody, vec![mark("g")]).await,
        Err(StoreError::ActorRefused(Refusal::Suspended))
    );
    assert!(!written(s, "g").await);
}

pub async fn a_refused_actor_is_told_apart_from_the_writes_own_conditions(s: &Store) {
    // GIVEN an active student and an item her write must not find
    let ada = user(s, UserRole::Student).await;
    let actor = Actor::new(tenant(), ada.id, Power::Member);
    s.put(item("p", "taken", &[]), None).await.unwrap();
    // WHEN only the write's own condition fails, THEN the cancellation names that action alone
    let own = commit(&**s, &actor, vec![mark("free"), mark("taken")]).await;
    assert_matches!(own, Err(StoreError::TransactionCanceled { failed }) if failed == [1]);
    assert!(!written(s, "free").await);
    // WHEN she is suspended and the same write is tried, THEN the refusal is the actor's
    change(s, &ada, |u| u.status = UserStatus::Suspended).await;
    assert_matches!(
        commit(&**s, &actor, vec![mark("free"), mark("taken")]).await,
        Err(StoreError::ActorRefused(Refusal::Suspended))
    );
}

pub async fn writes_beyond_one_transaction_follow_only_a_check_that_held(s: &Store) {
    // GIVEN an active instructor and 150 writes (more than one transaction holds with the check)
    let ada = user(s, UserRole::Instructor).await;
    let actor = Actor::new(tenant(), ada.id, Power::Teaching);
    let writes = |prefix: &str| -> Vec<TxAction> {
        (0..150).map(|i| mark(&format!("{prefix}{i:03}"))).collect()
    };
    // WHEN she makes them, THEN all land
    commit_in_batches(&**s, &actor, vec![mark("first")], writes("w"))
        .await
        .unwrap();
    assert!(written(s, "first").await && written(s, "w000").await && written(s, "w149").await);
    // WHEN she is suspended, THEN none of another 150 lands
    change(s, &ada, |u| u.status = UserStatus::Suspended).await;
    assert_matches!(
        commit_in_batches(&**s, &actor, vec![mark("again")], writes("x")).await,
        Err(StoreError::ActorRefused(Refusal::Suspended))
    );
    assert!(!written(s, "again").await && !written(s, "x000").await && !written(s, "x149").await);
}
