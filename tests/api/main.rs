//! Black-box API tests: each test starts Lectern on 127.0.0.1:0 with its own store and drives it over
//! HTTP with a typed client ([`helpers::TestApp`]), which checks every response against the API
//! description (`contract`). One binary, one module per capability.

mod admin;
mod archive;
mod assignments;
mod auth;
mod browsers;
mod catalog;
mod conditional;
mod contract;
mod courses;
mod dynamo;
mod enrollment;
mod events;
mod failures;
mod files;
mod fuzz;
mod helpers;
mod http_glue;
mod idempotency;
mod invitations;
mod lessons;
mod limits;
mod parameters;
mod payments;
mod prerequisites;
mod profiles;
mod quizzes;
mod quotas;
mod ratings;
mod revoked_powers;
mod seed_bodies;
mod store_calls;
mod tenants;
mod typescript;
