//! Reading an OpenAPI description as tests need it.

use std::collections::BTreeSet;

use serde_json::Value;

/// The operations of an OpenAPI description (JSON) as (METHOD, path) pairs, the method upper-case:
/// `("GET", "/api/v1/courses/{courseId}")`.
pub fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];
    let Some(paths) = doc["paths"].as_object() else {
        return BTreeSet::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|methods| methods.keys())
                .filter(|method| METHODS.contains(&method.as_str()))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}
