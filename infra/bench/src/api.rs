//! A small typed client of Lectern's HTTP API, for seeding data and for the load run.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

/// The password of every account the benchmark creates.
pub const PASSWORD: &str = "correct horse battery";

/// A client of one running server.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

/// A published course and its lessons, in order.
#[derive(Debug, Clone)]
pub struct SeededCourse {
    pub id: String,
    pub lessons: Vec<String>,
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> anyhow::Result<Api> {
        Ok(Api {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .context("building the HTTP client")?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends one request and answers the status and the JSON body (Null when empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Sends one request and fails unless it answers `status`; answers the body.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        status: u16,
    ) -> anyhow::Result<Value> {
        let (got, reply) = self.call(method.clone(), path, token, body).await?;
        if got != status {
            bail!("{method} {path} answered {got}, not {status}: {reply}");
        }
        Ok(reply)
    }

    /// Registers an account; answers its id.
    pub async fn register(
        &self,
        email: &str,
        username: &str,
        role: &str,
    ) -> anyhow::Result<String> {
        let body = json!({
            "email": email, "password": PASSWORD, "firstName": "Bench", "lastName": "Mark",
            "username": username, "role": role, "preferredStudyTime": "morning"
        });
        let reply = self
            .expect(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(&body),
                201,
            )
            .await?;
        text(&reply["data"]["id"])
    }

    /// Registers an account and has the admin ([`crate::server::ADMIN_EMAIL`]) make it an instructor,
    /// as a tenant does (registration makes students only); answers its id.
    pub async fn instructor(&self, email: &str, username: &str) -> anyhow::Result<String> {
        let id = self.register(email, username, "student").await?;
        let admin = self.signin(crate::server::ADMIN_EMAIL).await?;
        self.expect(
            Method::PUT,
            &format!("/api/v1/users/{id}/role"),
            Some(&admin),
            Some(&json!({ "role": "instructor" })),
            200,
        )
        .await?;
        Ok(id)
    }

    /// Signs in; answers the access token.
    pub async fn signin(&self, email: &str) -> anyhow::Result<String> {
        let body = json!({ "email": email, "password": PASSWORD });
        let reply = self
            .expect(Method::POST, "/api/v1/auth/signin", None, Some(&body), 200)
            .await?;
        text(&reply["accessToken"])
    }

    /// Creates course number `n` as the instructor at `price` cents (0: free), adds `lessons` lessons
    /// and publishes it.
    pub async fn published_course(
        &self,
        instructor: &str,
        n: usize,
        lessons: usize,
        price: i64,
    ) -> anyhow::Result<SeededCourse> {
        const CATEGORIES: [&str; 4] = ["programming", "design", "business", "science"];
        const LEVELS: [&str; 3] = ["beginner", "intermediate", "advanced"];
        let body = json!({
            "title": format!("Course {n}: learning by doing"),
            "description": format!("Lesson plans, exercises and projects for course number {n}."),
            "category": CATEGORIES[n % CATEGORIES.len()],
            "difficultyLevel": LEVELS[n % LEVELS.len()],
            "price": price
        });
        let created = self
            .expect(
                Method::POST,
                "/api/v1/courses",
                Some(instructor),
                Some(&body),
                201,
            )
            .await?;
        let id = text(&created["data"]["courseId"])?;
        let mut lesson_ids = Vec::with_capacity(lessons);
        for l in 1..=lessons {
            let body = json!({
                "title": format!("Lesson {l}"),
                "estimatedTime": 10 + 5 * l,
                "content": format!("# Lesson {l}\n\nRead, then do the exercise.")
            });
            let lesson = self
                .expect(
                    Method::POST,
                    &format!("/api/v1/courses/{id}/lessons"),
                    Some(instructor),
                    Some(&body),
                    201,
                )
                .await?;
            lesson_ids.push(text(&lesson["data"]["lessonId"])?);
        }
        self.expect(
            Method::POST,
            &format!("/api/v1/courses/{id}/publish"),
            Some(instructor),
            Some(&json!({})),
            200,
        )
        .await?;
        Ok(SeededCourse {
            id,
            lessons: lesson_ids,
        })
    }
}

/// A payment as its provider knows it.
#[derive(Debug, Clone)]
pub struct PaidPayment {
    pub id: String,
    pub intent: String,
    pub amount: i64,
    pub currency: String,
}

impl Api {
    /// Buys `course` as the student, pays through the local provider's signed webhook
    /// (`/dev/payments/{id}/simulate`), and waits until the server's workers have settled it.
    pub async fn paid_payment(&self, student: &str, course: &str) -> anyhow::Result<PaidPayment> {
        let created = self
            .expect(
                Method::POST,
                "/api/v1/payments/course",
                Some(student),
                Some(&json!({ "courseId": course })),
                201,
            )
            .await?;
        let id = text(&created["payment"]["id"])?;
        self.expect(
            Method::POST,
            &format!("/api/v1/dev/payments/{id}/simulate"),
            Some(student),
            Some(&json!({ "outcome": "succeeded" })),
            202,
        )
        .await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let payment = self
                .expect(
                    Method::GET,
                    &format!("/api/v1/payments/{id}"),
                    Some(student),
                    None,
                    200,
                )
                .await?;
            let page = self
                .expect(
                    Method::GET,
                    &format!("/api/v1/courses/{course}"),
                    Some(student),
                    None,
                    200,
                )
                .await?;
            if payment["status"] == "completed" && page["enrollment"]["status"] == "active" {
                return Ok(PaidPayment {
                    id,
                    intent: text(&payment["providerPaymentId"])?,
                    amount: payment["amount"].as_i64().context("the payment's amount")?,
                    currency: text(&payment["currency"])?,
                });
            }
            if std::time::Instant::now() > deadline {
                bail!("payment {id} was not settled within 15 s: {payment}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

fn text(value: &Value) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("expected a string, got {value}"))
}
