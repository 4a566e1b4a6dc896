//! The committed `docs/openapi.json` is what the code generates. When this fails, regenerate it:
//! `LECTERN_UPDATE_OPENAPI=1 cargo test -p lectern-local --test openapi` (or
//! `cargo run -p lectern-local -- openapi > docs/openapi.json`).

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let generated = lectern_local::openapi_json();
    if std::env::var("LECTERN_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `LECTERN_UPDATE_OPENAPI=1 cargo test -p lectern-local --test openapi`"
    );
}

#[test]
fn every_route_is_described() {
    let doc: serde_json::Value = serde_json::from_str(&lectern_local::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/signin",
        "/api/v1/auth/refresh",
        "/api/v1/auth/signout",
        "/api/v1/auth/check",
        "/.well-known/jwks.json",
        "/api/v1/users/{userId}/profile",
        "/api/v1/profile",
        "/api/v1/profile/preferences",
        "/api/v1/profile/check-username",
        "/api/v1/users",
        "/api/v1/users/{userId}/role",
        "/api/v1/users/{userId}/suspend",
        "/api/v1/users/{userId}/unsuspend",
        "/api/v1/courses/{courseId}/quizzes",
        "/api/v1/quizzes/{quizId}",
        "/api/v1/quizzes/{quizId}/attempts",
        "/api/v1/quizzes/{quizId}/attempts/{attemptId}/submit",
        "/api/v1/quizzes/{quizId}/results",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} is not in the OpenAPI document"
        );
    }
}

/// The (method, path) pairs of an OpenAPI document.
fn described(api: &utoipa::openapi::OpenApi) -> std::collections::BTreeSet<(String, String)> {
    lectern_testkit::openapi::operations(&serde_json::to_value(api).unwrap())
}

/// A route group: its name, its route table, its description.
type Group = (
    &'static str,
    &'static [(&'static str, &'static str)],
    utoipa::openapi::OpenApi,
);

/// What a Lambda serves (`plain_routes`, from each group's route table) is exactly what the group
/// describes (`routes`, from the handlers' `#[utoipa::path]`).
#[test]
fn each_groups_route_table_is_its_description() {
    let groups: [Group; 7] = [
        (
            "auth",
            auth_function::ROUTE_TABLE,
            auth_function::routes().split_for_parts().1,
        ),
        (
            "users",
            users_function::ROUTE_TABLE,
            users_function::routes().split_for_parts().1,
        ),
        (
            "courses",
            courses_function::ROUTE_TABLE,
            courses_function::routes().split_for_parts().1,
        ),
        (
            "assignments",
            assignments_function::ROUTE_TABLE,
            assignments_function::routes().split_for_parts().1,
        ),
        (
            "files",
            files_function::ROUTE_TABLE,
            files_function::routes().split_for_parts().1,
        ),
        (
            "payments",
            payments_function::ROUTE_TABLE,
            payments_function::routes().split_for_parts().1,
        ),
        (
            "webhooks",
            payments_function::webhook_group::ROUTE_TABLE,
            payments_function::webhook_group::routes()
                .split_for_parts()
                .1,
        ),
    ];
    for (name, table, api) in groups {
        let served: std::collections::BTreeSet<(String, String)> = table
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(served.len(), table.len(), "{name}: a route is listed twice");
        assert_eq!(served, described(&api), "{name}");
    }
}
