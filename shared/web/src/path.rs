//! Ids taken from the request path: `Path<CourseId>` for a route with one parameter,
//! `Path<(CourseId, LessonId)>` for one with two, in the order the path names them.
//!
//! A path id that is not a UUID names nothing, so it is answered as an id of nothing is: 404
//! `not_found` naming the resource ("course not found"), the project's one error shape. A client
//! cannot tell a malformed id from an unknown one, and no handler parses ids by hand.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use lectern_domain::{
    AssignmentId, AttemptId, CourseId, EnrollmentId, FileId, InvitationId, InvoiceId, LessonId,
    NotificationId, PaymentId, QuestionId, QuizId, RatingId, SessionId, SubmissionId, UserId,
};

use crate::error::ApiError;

/// An id that can name a resource in a path.
pub trait PathId: Sized {
    /// The resource it names, as the 404 of a malformed one says it ("course not found").
    const RESOURCE: &'static str;

    /// The id, if `value` is one.
    fn from_path(value: &str) -> Option<Self>;
}

/// What a route's path parameters can be taken as: one id, or a tuple of ids in path order.
pub trait PathParams: Sized {
    /// How many parameters the route must have.
    const COUNT: usize;

    /// From the parameters' values, as many as [`PathParams::COUNT`], in path order.
    fn from_values(values: &[&str]) -> Result<Self, ApiError>;

    /// The answer to a path whose parameters cannot be read at all (not UTF-8 once decoded).
    fn unreadable() -> ApiError;
}

/// The path's ids, parsed; rejections are [`ApiError`]s (404 for a malformed id).
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: PathParams,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| T::unreadable())?;
        let values: Vec<&str> = params.iter().map(|(_, value)| value).collect();
        if values.len() != T::COUNT {
            // The route table and the handler disagree: a bug, not the client's fault.
            return Err(ApiError::Internal(anyhow::anyhow!(
                "the route has {} path parameters, the handler takes {}",
                values.len(),
                T::COUNT
            )));
        }
        T::from_values(&values).map(Path)
    }
}

fn one<T: PathId>(value: &str) -> Result<T, ApiError> {
    T::from_path(value).ok_or_else(|| ApiError::not_found(T::RESOURCE))
}

macro_rules! path_ids {
    ($($id:ident => $resource:literal),* $(,)?) => {$(
        impl PathId for $id {
            const RESOURCE: &'static str = $resource;

            fn from_path(value: &str) -> Option<Self> {
                $id::parse(value).ok()
            }
        }

        impl PathParams for $id {
            const COUNT: usize = 1;

            fn from_values(values: &[&str]) -> Result<Self, ApiError> {
                one(values[0])
            }

            fn unreadable() -> ApiError {
                ApiError::not_found($resource)
            }
        }
    )*};
}

path_ids! {
    UserId => "user",
    CourseId => "course",
    SessionId => "session",
    LessonId => "lesson",
    QuizId => "quiz",
    AttemptId => "attempt",
    QuestionId => "question",
    EnrollmentId => "enrollment",
    RatingId => "rating",
    FileId => "file",
    AssignmentId => "assignment",
    SubmissionId => "submission",
    PaymentId => "payment",
    InvoiceId => "invoice",
    NotificationId => "notification",
    InvitationId => "invitation",
}

impl<A: PathId, B: PathId> PathParams for (A, B) {
    const COUNT: usize = 2;

    fn from_values(values: &[&str]) -> Result<Self, ApiError> {
        Ok((one(values[0])?, one(values[1])?))
    }

    fn unreadable() -> ApiError {
        ApiError::not_found(A::RESOURCE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    async fn status_and_body(router: Router, uri: &str) -> (StatusCode, String) {
        let response = router
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn courses() -> Router {
        Router::new()
            .route(
                "/courses/{courseId}",
                get(|Path(id): Path<CourseId>| async move { id.to_string() }),
            )
            .route(
                "/courses/{courseId}/lessons/{lessonId}",
                get(
                    |Path((course, lesson)): Path<(CourseId, LessonId)>| async move {
                        format!("{course} {lesson}")
                    },
                ),
            )
    }

    #[tokio::test]
    async fn a_well_formed_id_is_parsed() {
        let id = CourseId::new();
        let (status, body) = status_and_body(courses(), &format!("/courses/{id}")).await;
        assert_eq!((status, body), (StatusCode::OK, id.to_string()));
    }

    #[tokio::test]
    async fn a_malformed_id_is_the_404_of_its_resource() {
        let (status, body) = status_and_body(courses(), "/courses/not-a-uuid").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["error"], "course not found");
    }

    #[tokio::test]
    async fn two_ids_are_parsed_in_path_order_and_each_names_its_resource() {
        let (course, lesson) = (CourseId::new(), LessonId::new());
        let (status, body) =
            status_and_body(courses(), &format!("/courses/{course}/lessons/{lesson}")).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, format!("{course} {lesson}"))
        );
        let (status, body) =
            status_and_body(courses(), &format!("/courses/{course}/lessons/7")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("lesson not found"), "{body}");
    }
}
