//! Black-box API tests: each test starts Lectern on 127.0.0.1:0 with its own store and drives it over
//! HTTP with a typed client ([`helpers::TestApp`]). One binary, one module per capability.

mod admin;
mod archive;
mod assignments;
mod auth;
mod catalog;
mod courses;
mod dynamo;
mod enrollment;
mod failures;
mod files;
mod helpers;
mod http_glue;
mod invitations;
mod lessons;
mod parameters;
mod payments;
mod prerequisites;
mod profiles;
mod quizzes;
mod quotas;
mod ratings;
mod store_calls;
mod tenants;
