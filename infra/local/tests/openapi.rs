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

/// What a Lambda serves (`plain_routes`, from each group's route table) is exactly what the group
/// describes (`routes`, from the handlers' `#[utoipa::path]`).
#[test]
fn each_groups_route_table_is_its_description() {
    for group in lectern_local::ROUTE_GROUPS {
        let (name, table) = (group.name, group.route_table);
        let api = (group.routes)().split_for_parts().1;
        let served: std::collections::BTreeSet<(String, String)> = table
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(served.len(), table.len(), "{name}: a route is listed twice");
        assert_eq!(served, described(&api), "{name}");
    }
}

/// The whole description as JSON.
fn description() -> serde_json::Value {
    serde_json::to_value(lectern_local::description()).unwrap()
}

#[test]
fn every_reference_in_the_description_resolves() {
    // GIVEN the description WHEN its `$ref`s are followed
    let dangling = lectern_testkit::openapi::dangling_refs(&description());

    // THEN each points at something (a generator stops at, or types as `any`, one that does not)
    assert!(
        dangling.is_empty(),
        "references to nothing:\n{}",
        dangling.join("\n")
    );
}

/// Every operation of every route group, described alone: (operation, description).
fn operations_alone() -> Vec<(String, serde_json::Value)> {
    lectern_local::ROUTE_GROUPS
        .iter()
        .flat_map(|group| (group.operation_descriptions)())
        .map(|(name, api)| (name, serde_json::to_value(api).unwrap()))
        .collect()
}

#[test]
fn no_two_types_share_a_schema_name() {
    // GIVEN each operation described alone, where each schema is its own type's
    let alone = operations_alone();
    assert_eq!(
        alone.len(),
        lectern_testkit::openapi::operations(&description()).len()
    );

    // WHEN its schemas are compared with the merged description's of the same name
    let collisions = lectern_testkit::openapi::schema_collisions(&description(), &alone);

    // THEN none was replaced by another type's
    assert!(
        collisions.is_empty(),
        "schema names shared by different types (give one a name of its own):\n{}",
        collisions.join("\n")
    );
}

#[test]
fn every_operation_has_an_id_a_typed_success_and_its_errors_in_the_error_shape() {
    let doc = description();
    let error_shape = serde_json::json!({
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
    });
    let mut ids = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for (method, path) in lectern_testkit::openapi::operations(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let name = format!("{method} {path}");
        match operation["operationId"].as_str() {
            Some(id) if ids.insert(id.to_owned()) => {}
            Some(id) => problems.push(format!("{name}: operationId `{id}` is not unique")),
            None => problems.push(format!("{name}: no operationId")),
        }
        let responses = operation["responses"].as_object().unwrap();
        let mut successes = 0;
        for (status, response) in responses {
            let content = &response["content"];
            if status.starts_with('2') {
                successes += 1;
                let typed = content["application/json"]["schema"]
                    .as_object()
                    .is_some_and(|schema| !schema.is_empty());
                if !(status == "204" && content.is_null() || typed) {
                    problems.push(format!(
                        "{name}: {status} is neither a typed JSON body nor 204"
                    ));
                }
            } else if status.starts_with(['4', '5']) && *content != error_shape {
                problems.push(format!(
                    "{name}: {status} is not the error shape: {content}"
                ));
            }
        }
        if successes == 0 {
            problems.push(format!("{name}: no success response"));
        }
    }
    for id in lectern_local::SELF_CONTAINED_OPERATIONS
        .iter()
        .chain(lectern_local::RAW_BODY_OPERATIONS)
        .chain(lectern_local::NO_STORE_WRITE_OPERATIONS)
    {
        if !ids.contains(*id) {
            problems.push(format!(
                "`{id}` is named as an exception but is no operation"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_description_is_valid_openapi_3_1() {
    // GIVEN the committed description and a real OpenAPI validator (installed on first use)
    let validator = lectern_testkit::tools::venv_program("openapi-spec-validator").unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    // WHEN it validates the file
    let output = std::process::Command::new(&validator)
        .arg(path)
        .output()
        .unwrap();

    // THEN it finds nothing wrong
    assert!(
        output.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
