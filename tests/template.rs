//! What `template.yaml` must say about secrets, logs, throttling and CORS (docs/security-model.md):
//! the template is read as data and checked, beside `cfn-lint` and `sam validate --lint`, which check
//! that it deploys.

use std::path::{Path, PathBuf};

use serde_norway::Value;

/// Variables that hold secrets: in the template they are only ever named by a Secrets Manager ARN.
const SECRET_VARIABLES: [&str; 3] = [
    "LECTERN_JWT_PRIVATE_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// The logical ids and properties of the resources of a type.
fn resources<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap(), &r["Properties"]))
        .collect()
}

/// `!Ref name` (short form) or `{Ref: name}`.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => tagged.value.as_str(),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

fn environment(properties: &Value) -> Vec<(&str, &Value)> {
    properties["Environment"]["Variables"]
        .as_mapping()
        .map(|vars| vars.iter().map(|(k, v)| (k.as_str().unwrap(), v)).collect())
        .unwrap_or_default()
}

/// The resources of a policy's statements that allow `action`.
fn allowed<'a>(properties: &'a Value, action: &str) -> Vec<&'a Value> {
    let mut found = Vec::new();
    for policy in properties["Policies"].as_sequence().into_iter().flatten() {
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions: Vec<&str> = match &statement["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Sequence(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if statement["Effect"].as_str() == Some("Allow") && actions.contains(&action) {
                match &statement["Resource"] {
                    Value::Sequence(list) => found.extend(list.iter()),
                    one => found.push(one),
                }
            }
        }
    }
    found
}

#[test]
fn no_secret_is_in_an_environment_and_each_is_read_only_by_the_functions_that_name_it() {
    let template = template();
    let parameters = template["Parameters"].as_mapping().unwrap();
    // GIVEN every function and the Globals' variables
    let globals = environment(&template["Globals"]["Function"]);
    for (name, _) in &globals {
        assert!(!SECRET_VARIABLES.contains(name), "Globals set {name}");
    }
    let functions = resources(&template, "AWS::Serverless::Function");
    assert!(functions.len() >= 9);
    let mut named_anywhere = Vec::new();
    for (id, properties) in &functions {
        let env = environment(properties);
        let mut arns = Vec::new();
        for (name, value) in &env {
            // THEN no variable holds a secret, or any parameter the template hides (NoEcho)
            assert!(!SECRET_VARIABLES.contains(name), "{id} sets {name}");
            if let Some(parameter) = reference(value) {
                let no_echo = parameters
                    .get(parameter)
                    .is_some_and(|p| p["NoEcho"].as_bool() == Some(true));
                assert!(
                    !no_echo,
                    "{id}'s {name} is the hidden parameter {parameter}"
                );
            }
            // AND a secret is named by the ARN of a parameter
            if let Some(secret) = name.strip_suffix("_SECRET_ARN") {
                assert!(
                    SECRET_VARIABLES.contains(&secret),
                    "{id}: unknown secret {name}"
                );
                let parameter = reference(value).unwrap_or_else(|| panic!("{id}'s {name}"));
                assert!(parameters.contains_key(parameter), "{parameter}");
                arns.push(parameter.to_owned());
                named_anywhere.push(secret.to_owned());
            }
        }
        // AND the function may read exactly the secrets it names
        let mut readable: Vec<String> = allowed(properties, "secretsmanager:GetSecretValue")
            .into_iter()
            .map(|r| {
                reference(r)
                    .unwrap_or_else(|| panic!("{id}: {r:?}"))
                    .to_owned()
            })
            .collect();
        readable.sort();
        arns.sort();
        assert_eq!(readable, arns, "{id}");
    }
    // AND every secret the functions use is named somewhere
    named_anywhere.sort();
    named_anywhere.dedup();
    assert_eq!(named_anywhere, {
        let mut all = SECRET_VARIABLES.map(str::to_owned).to_vec();
        all.sort();
        all
    });
}

/// The source of the binary a function of the template runs, from its Makefile target.
fn source_of(function: &str) -> PathBuf {
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let recipe = makefile
        .lines()
        .skip_while(|l| *l != format!("build-{function}:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no make target for {function}"));
    let (package, binary) = recipe
        .trim()
        .strip_prefix("$(call lambda,")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split_once(','))
        .unwrap();
    let dir = root()
        .join("functions")
        .join(package.strip_suffix("-function").unwrap());
    if package == binary {
        dir.join("src/main.rs")
    } else {
        dir.join(format!("src/bin/{binary}.rs"))
    }
}

#[test]
fn a_function_given_secrets_reads_them_at_cold_start() {
    let template = template();
    for (id, _) in resources(&template, "AWS::Serverless::Function") {
        let source = std::fs::read_to_string(source_of(id)).unwrap();
        // Every function starts with the runtime's start, which reads the secrets its environment
        // names before the configuration (a configuration read without them refuses to start:
        // Config::from_env), and makes no call when it names none
        assert!(source.contains("lectern_runtime::start()"), "{id}");
    }
}

#[test]
fn every_function_and_the_api_log_to_groups_with_a_retention() {
    let template = template();
    let groups = resources(&template, "AWS::Logs::LogGroup");
    let retained = |group: &str| {
        groups.iter().any(|(id, properties)| {
            *id == group && reference(&properties["RetentionInDays"]) == Some("LogRetentionDays")
        })
    };
    for (id, properties) in resources(&template, "AWS::Serverless::Function") {
        let group = reference(&properties["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{id} has no log group"));
        assert!(retained(group), "{id}'s {group}");
    }
    let (_, api) = resources(&template, "AWS::Serverless::HttpApi")[0];
    let destination = match &api["AccessLogSettings"]["DestinationArn"] {
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => tagged.value.as_str().unwrap(),
        other => panic!("the API's access logs go to {other:?}"),
    };
    let group = destination.strip_suffix(".Arn").unwrap();
    assert!(retained(group), "{group}");
    let format = api["AccessLogSettings"]["Format"].as_str().unwrap();
    for field in [
        "$context.requestId",
        "$context.identity.sourceIp",
        "$context.status",
    ] {
        assert!(format.contains(field), "{field}");
    }
}

#[test]
fn every_route_is_throttled_and_the_auth_routes_tighter() {
    let template = template();
    let (_, api) = resources(&template, "AWS::Serverless::HttpApi")[0];
    let settings = &api["DefaultRouteSettings"];
    assert_eq!(
        reference(&settings["ThrottlingRateLimit"]),
        Some("ApiRateLimit")
    );
    assert_eq!(
        reference(&settings["ThrottlingBurstLimit"]),
        Some("ApiBurstLimit")
    );
    let (_, auth) = resources(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(id, _)| *id == "AuthFunction")
        .unwrap();
    let route = &auth["Events"]["Auth"]["Properties"];
    assert_eq!(route["Path"].as_str(), Some("/api/v1/auth/{proxy+}"));
    assert_eq!(
        reference(&route["RouteSettings"]["ThrottlingRateLimit"]),
        Some("AuthRateLimit")
    );
    let number = |name: &str| template["Parameters"][name]["Default"].as_u64().unwrap();
    assert!(number("AuthRateLimit") < number("ApiRateLimit"));
}

#[test]
fn the_application_rate_limits_are_parameters_every_function_reads_as_the_code_does() {
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    for (variable, parameter) in [
        ("LECTERN_RATE_LIMIT_ANONYMOUS", "RateLimitAnonymous"),
        ("LECTERN_RATE_LIMIT_WRITES", "RateLimitWrites"),
        ("LECTERN_RATE_LIMIT_TENANT", "RateLimitTenant"),
        (
            "LECTERN_RATE_LIMIT_REGISTRATION_PROBES",
            "RateLimitRegistrationProbes",
        ),
    ] {
        assert_eq!(reference(&globals[variable]), Some(parameter), "{variable}");
        let default = template["Parameters"][parameter]["Default"]
            .as_str()
            .unwrap_or_else(|| panic!("{parameter} has a default"));
        assert!(
            lectern_web::limits::Rate::parse(default).is_ok(),
            "{parameter}: {default}"
        );
    }
}

#[test]
fn the_buckets_cors_origins_are_a_parameter_without_a_wildcard_default() {
    let template = template();
    let origins = &template["Parameters"]["FilesAllowedOrigins"];
    assert!(origins.get("Default").is_none(), "{origins:?}");
    let (_, bucket) = resources(&template, "AWS::S3::Bucket")[0];
    let rule = &bucket["CorsConfiguration"]["CorsRules"][0];
    assert_eq!(
        reference(&rule["AllowedOrigins"]),
        Some("FilesAllowedOrigins")
    );
    // AND a rule refuses "*" at deploy time
    let assertion = &template["Rules"]["FilesOriginsAreNamed"]["Assertions"][0]["Assert"];
    let text = format!("{assertion:?}");
    assert!(
        matches!(assertion, Value::Tagged(t) if t.tag == "!Not")
            && text.contains("FilesAllowedOrigins")
            && text.contains("\"*\""),
        "{text}"
    );
}

#[test]
fn the_apis_cors_origins_are_a_parameter_without_a_wildcard_and_without_credentials() {
    // GIVEN the template
    let template = template();
    // THEN the HTTP API's origins come from a parameter without a default
    let origins = &template["Parameters"]["ApiAllowedOrigins"];
    assert!(origins.get("Default").is_none(), "{origins:?}");
    let (_, api) = resources(&template, "AWS::Serverless::HttpApi")[0];
    let cors = &api["CorsConfiguration"];
    assert_eq!(reference(&cors["AllowOrigins"]), Some("ApiAllowedOrigins"));
    // AND browsers send no credentials (bearer tokens, not cookies)
    assert_eq!(cors["AllowCredentials"].as_bool(), Some(false));
    // AND a browser may send a bearer token and conditional requests, and read tags and page links
    let listed = |name: &str| -> Vec<String> {
        cors[name]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_ascii_lowercase())
            .collect()
    };
    for header in ["authorization", "content-type", "if-match", "if-none-match"] {
        assert!(
            listed("AllowHeaders").contains(&header.to_owned()),
            "{header}"
        );
    }
    for header in ["etag", "link", "x-request-id", "retry-after"] {
        assert!(
            listed("ExposeHeaders").contains(&header.to_owned()),
            "{header}"
        );
    }
    // AND a rule refuses "*" at deploy time
    let assertion = &template["Rules"]["ApiOriginsAreNamed"]["Assertions"][0]["Assert"];
    let text = format!("{assertion:?}");
    assert!(
        matches!(assertion, Value::Tagged(t) if t.tag == "!Not")
            && text.contains("ApiAllowedOrigins")
            && text.contains("\"*\""),
        "{text}"
    );
}

/// The template's functions that serve HTTP routes, and the route group each one runs (its
/// binary's router: see the Makefile and `functions/*/src/main.rs`, `bin/stripe-webhook.rs`).
const GROUP_OF_FUNCTION: [(&str, &str); 7] = [
    ("AuthFunction", "auth"),
    ("UsersFunction", "users"),
    ("CoursesFunction", "courses"),
    ("AssignmentsFunction", "assignments"),
    ("FilesFunction", "files"),
    ("PaymentsFunction", "payments"),
    ("StripeWebhookFunction", "webhooks"),
];

/// A route of the HTTP API: a function's `HttpApi` event.
#[derive(Debug)]
struct ApiRoute {
    function: String,
    event: String,
    /// `ANY` or a method.
    method: String,
    path: String,
}

impl ApiRoute {
    fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches('/').split('/').collect()
    }

    fn is_greedy(&self) -> bool {
        self.path.ends_with("{proxy+}")
    }

    /// Whether API Gateway could send `method path` here.
    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != "ANY" && self.method != method {
            return false;
        }
        let route = self.segments();
        let request: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if self.is_greedy() {
            let prefix = &route[..route.len() - 1];
            request.len() > prefix.len() && segments_match(prefix, &request[..prefix.len()])
        } else {
            route.len() == request.len() && segments_match(&route, &request)
        }
    }

    /// API Gateway's preference among the routes that match a request (HTTP APIs, "Routing API
    /// requests"): a route without a greedy variable before one with it, then the most specific
    /// (literal segments before variables, left to right; for greedy routes the longest prefix),
    /// then a method before `ANY`. The smallest key wins.
    fn preference(&self) -> (bool, Vec<bool>, std::cmp::Reverse<usize>, bool) {
        let route = self.segments();
        (
            self.is_greedy(),
            route.iter().map(|s| s.starts_with('{')).collect(),
            std::cmp::Reverse(route.len()),
            self.method == "ANY",
        )
    }
}

fn segments_match(route: &[&str], request: &[&str]) -> bool {
    route
        .iter()
        .zip(request)
        .all(|(r, q)| r == q || (r.starts_with('{') && !q.is_empty()))
}

/// Every `HttpApi` event of every function of the template.
fn api_routes(template: &Value) -> Vec<ApiRoute> {
    let mut routes = Vec::new();
    for (function, properties) in resources(template, "AWS::Serverless::Function") {
        for (event, spec) in properties["Events"].as_mapping().into_iter().flatten() {
            if spec["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let route = &spec["Properties"];
            assert_eq!(reference(&route["ApiId"]), Some("HttpApi"), "{function}");
            routes.push(ApiRoute {
                function: function.to_owned(),
                event: event.as_str().unwrap().to_owned(),
                method: route["Method"].as_str().unwrap().to_ascii_uppercase(),
                path: route["Path"].as_str().unwrap().to_owned(),
            });
        }
    }
    routes
}

/// The route API Gateway picks for a request, if any; two equally preferred routes are a template
/// API Gateway would refuse.
fn route_for<'a>(routes: &'a [ApiRoute], method: &str, path: &str) -> Option<&'a ApiRoute> {
    let mut matching: Vec<&ApiRoute> = routes.iter().filter(|r| r.matches(method, path)).collect();
    matching.sort_by_key(|r| r.preference());
    if let [first, second, ..] = matching.as_slice() {
        assert!(
            first.preference() != second.preference(),
            "{method} {path}: {first:?} and {second:?} are equally specific"
        );
    }
    matching.first().copied()
}

/// A request path for a route group's path: each variable an id (which no literal segment is).
fn request_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') {
                "0193a5c0-7e2f-7b44-8a21-3c7b5d9e0f12"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_route_of_every_group_reaches_its_groups_function_and_every_api_route_serves_one() {
    // GIVEN the template's HTTP routes and the route groups' tables
    let template = template();
    let routes = api_routes(&template);
    let function_of = |group: &str| {
        GROUP_OF_FUNCTION
            .iter()
            .find(|(_, g)| *g == group)
            .map(|(f, _)| *f)
            .unwrap_or_else(|| panic!("no function of the template runs the {group} group"))
    };
    let mut functions: Vec<&str> = routes.iter().map(|r| r.function.as_str()).collect();
    functions.dedup();
    let mut mapped: Vec<&str> = GROUP_OF_FUNCTION.iter().map(|(f, _)| *f).collect();
    functions.sort();
    mapped.sort();
    assert_eq!(functions, mapped, "the functions with HTTP routes");
    let mut used = std::collections::BTreeSet::new();
    let mut misrouted = Vec::new();
    for group in lectern_local::ROUTE_GROUPS {
        for (method, path) in group.route_table {
            // WHEN API Gateway routes a request for it
            let request = request_path(path);
            match route_for(&routes, method, &request) {
                // THEN it reaches the function that serves the group
                Some(route) if route.function == function_of(group.name) => {
                    used.insert((route.function.as_str(), route.event.as_str()));
                }
                Some(route) => misrouted.push(format!(
                    "{method} {path} ({}) goes to {}'s {} ({} {})",
                    group.name, route.function, route.event, route.method, route.path
                )),
                None => misrouted.push(format!(
                    "{method} {path} ({}) matches no route of the template",
                    group.name
                )),
            }
        }
    }
    assert!(misrouted.is_empty(), "{}", misrouted.join("\n"));
    // AND every route of the template is the one some route of its group takes
    let unused: Vec<String> = routes
        .iter()
        .filter(|r| !used.contains(&(r.function.as_str(), r.event.as_str())))
        .map(|r| format!("{}'s {}: {} {}", r.function, r.event, r.method, r.path))
        .collect();
    assert!(
        unused.is_empty(),
        "routes that no group serves:\n{}",
        unused.join("\n")
    );
}

/// `!GetAtt a.b` (short form) or `{Fn::GetAtt: [a, b]}`, as `a.b`.
fn get_att(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => {
            tagged.value.as_str().map(str::to_owned)
        }
        Value::Mapping(m) => m
            .get("Fn::GetAtt")
            .and_then(Value::as_sequence)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(".")
            }),
        _ => None,
    }
}

#[test]
fn the_tables_stream_feeds_one_router_filtered_to_outbox_items_with_bounded_retries_and_a_watched_dlq()
 {
    // GIVEN the template
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    // THEN the table streams new images
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_IMAGE")
    );
    // AND exactly one function reads the stream
    let readers: Vec<(&str, &Value)> = resources(&template, "AWS::Serverless::Function")
        .into_iter()
        .flat_map(|(id, f)| {
            f["Events"]
                .as_mapping()
                .into_iter()
                .flatten()
                .filter(|(_, e)| e["Type"].as_str() == Some("DynamoDB"))
                .map(move |(_, e)| (id, &e["Properties"]))
        })
        .collect();
    assert_eq!(readers.len(), 1, "{readers:?}");
    let (router, source) = readers[0];
    assert_eq!(router, "EventRouterFunction");
    assert_eq!(
        get_att(&source["Stream"]).as_deref(),
        Some("Table.StreamArn")
    );
    // AND only new outbox items reach it, as the store tags them
    let filters = source["FilterCriteria"]["Filters"].as_sequence().unwrap();
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(filters[0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["NewImage"]["entity"]["S"],
        serde_json::json!([lectern_store::outbox::EVENT_ENTITY])
    );
    // AND failures are reported per record, bisected, retried a bounded number of times, then sent to
    // a queue whose depth is alarmed
    assert_eq!(
        source["FunctionResponseTypes"].as_sequence().unwrap()[0].as_str(),
        Some("ReportBatchItemFailures")
    );
    assert_eq!(source["BisectBatchOnFunctionError"].as_bool(), Some(true));
    let retries = source["MaximumRetryAttempts"].as_u64().unwrap();
    assert!((1..=10).contains(&retries), "{retries}");
    let on_failure = &source["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"].as_str(), Some("SQS"));
    let dlq = get_att(&on_failure["Destination"]).unwrap();
    let dlq = dlq.strip_suffix(".Arn").unwrap();
    let alarmed = resources(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .any(|(_, alarm)| {
            alarm["Dimensions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|d| get_att(&d["Value"]) == Some(format!("{dlq}.QueueName")))
        });
    assert!(alarmed, "no alarm watches {dlq}");
    // AND the router may read markers and write markers and notifications, nothing more
    let props = &template["Resources"][router]["Properties"];
    for action in ["dynamodb:BatchGetItem", "dynamodb:PutItem"] {
        assert_eq!(allowed(props, action).len(), 1, "{action}");
    }
    for action in [
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:Scan",
    ] {
        assert!(allowed(props, action).is_empty(), "{action}");
    }
}
