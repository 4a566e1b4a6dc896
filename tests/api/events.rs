//! Domain events: a write's event reaches the consumers subscribed to its type, once each, even when
//! a consumer fails a delivery (at least once from the stream, once per consumer by its marker), and
//! a consumer that keeps failing leaves a dead letter after a bounded number of deliveries.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use events_function::Consumer;
use lectern_domain::event::{DomainEvent, EventEnvelope, EventType};
use lectern_store::sqlite::SqliteTable;
use serde_json::json;

use crate::helpers::{TestApp, feed_options};

/// A consumer of `course.updated` that records every delivery, failing the first `failures`.
struct Watcher {
    name: &'static str,
    failures: usize,
    deliveries: Mutex<Vec<EventEnvelope>>,
}

impl Watcher {
    fn new(name: &'static str, failures: usize) -> Arc<Watcher> {
        Arc::new(Watcher {
            name,
            failures,
            deliveries: Mutex::new(Vec::new()),
        })
    }

    fn deliveries(&self) -> Vec<EventEnvelope> {
        self.deliveries.lock().unwrap().clone()
    }
}

#[async_trait]
impl Consumer for Watcher {
    fn name(&self) -> &str {
        self.name
    }

    fn subscribes_to(&self, event_type: EventType) -> bool {
        event_type == EventType::CourseUpdated
    }

    async fn consume(&self, event: &EventEnvelope) -> anyhow::Result<()> {
        let mut deliveries = self.deliveries.lock().unwrap();
        deliveries.push(event.clone());
        if deliveries.len() <= self.failures {
            anyhow::bail!("delivery {} refused", deliveries.len());
        }
        Ok(())
    }
}

/// Waits until `done` holds, for at most 10 seconds.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Renames a draft course as its instructor; answers the course id and the instructor's id.
async fn rename_a_course(app: &TestApp, title: &str) -> (String, String) {
    let teacher = app.user("ines@school.test", "ines", "instructor").await;
    let course = app.course(&teacher, json!({}), false).await;
    app.put(
        &format!("/api/v1/courses/{course}"),
        Some(&teacher.access),
        json!({"title": title}),
    )
    .await
    .assert(200);
    (course, teacher.id)
}

#[tokio::test]
async fn a_course_update_reaches_each_consumer_once_even_when_one_fails_its_first_delivery() {
    // Arrange: one consumer that fails its first delivery, one that never fails
    let flaky = Watcher::new("flaky", 1);
    let steady = Watcher::new("steady", 0);
    let app = TestApp::spawn_with_consumers(vec![flaky.clone(), steady.clone()]).await;

    // Act
    let (course, teacher) = rename_a_course(&app, "Ownership, gently").await;

    // Assert: the flaky consumer got it again after its failure and then handled it; the steady one,
    // whose success was marked, was not handed the redelivered event
    until("the redelivery", || flaky.deliveries().len() == 2).await;
    tokio::time::sleep(feed_options().retry_after * 2).await;
    let (flaky, steady) = (flaky.deliveries(), steady.deliveries());
    assert_eq!(flaky.len(), 2, "{flaky:?}");
    assert_eq!(steady.len(), 1, "{steady:?}");
    assert_eq!(flaky[0], flaky[1]);
    assert_eq!(flaky[0], steady[0]);
    let event = &steady[0];
    assert_eq!(event.event_type(), EventType::CourseUpdated);
    assert_eq!(event.schema_version, 1);
    assert_eq!(event.actor.map(|a| a.to_string()), Some(teacher));
    let DomainEvent::CourseUpdated(updated) = &event.event else {
        panic!("{event:?}");
    };
    assert_eq!(updated.course_id.to_string(), course);
    assert_eq!(updated.title, "Ownership, gently");
    assert_eq!(
        event.id.as_str(),
        format!("course.updated:{course}:{}", updated.version)
    );
    // …and the stream holds nothing more: delivered, not dead-lettered
    let stream = SqliteTable::open(&app.dir.path().join("lectern.db")).unwrap();
    assert!(stream.stream_dead_letters().unwrap().is_empty());
    assert!(stream.stream_take(10, i64::MAX, 0).unwrap().is_empty());
}

#[tokio::test]
async fn an_event_a_consumer_keeps_failing_is_delivered_a_bounded_number_of_times_then_dead_lettered()
 {
    // Arrange: a consumer that fails every delivery
    let broken = Watcher::new("broken", usize::MAX);
    let app = TestApp::spawn_with_consumers(vec![broken.clone()]).await;

    // Act
    let (course, _) = rename_a_course(&app, "Lifetimes, gently").await;

    // Assert: delivered as often as the router tries, then kept as a dead letter naming the event
    let attempts = usize::try_from(feed_options().max_attempts).unwrap();
    until("every attempt", || broken.deliveries().len() == attempts).await;
    let stream = SqliteTable::open(&app.dir.path().join("lectern.db")).unwrap();
    let mut dead = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while dead.is_empty() && Instant::now() < deadline {
        dead = stream.stream_dead_letters().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].error.contains("consumer broken"),
        "{}",
        dead[0].error
    );
    let recorded = lectern_store::outbox::recorded(dead[0].record.image.clone())
        .unwrap()
        .unwrap();
    assert_eq!(
        recorded.event.id.as_str().split(':').nth(1),
        Some(course.as_str())
    );
    tokio::time::sleep(feed_options().retry_after * 2).await;
    assert_eq!(broken.deliveries().len(), attempts);
}

/// A consumer of every type, recording what it is handed.
struct Everything(Mutex<Vec<EventEnvelope>>);

#[async_trait]
impl Consumer for Everything {
    fn name(&self) -> &str {
        "everything"
    }

    fn subscribes_to(&self, _: EventType) -> bool {
        true
    }

    async fn consume(&self, event: &EventEnvelope) -> anyhow::Result<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

#[tokio::test]
async fn enrolling_completing_a_lesson_submitting_and_grading_each_record_their_event_once() {
    // Arrange: a published course with a lesson and an assignment, and a student
    let seen = Arc::new(Everything(Mutex::new(Vec::new())));
    let app = TestApp::spawn_with_consumers(vec![seen.clone()]).await;
    let teacher = app.user("ines@school.test", "ines", "instructor").await;
    let course = app.course(&teacher, json!({}), false).await;
    let lesson = app.lesson(&teacher, &course, "Borrowing", 10).await;
    let assignment = app.assignment(&teacher, &course, 100).await;
    app.post(
        &format!("/api/v1/courses/{course}/publish"),
        Some(&teacher.access),
        json!({}),
    )
    .await
    .assert(200);
    let student = app.user("sam@school.test", "sam", "student").await;

    // Act: enroll, complete the lesson (twice), submit, be graded
    app.post(
        &format!("/api/v1/courses/{course}/enroll"),
        Some(&student.access),
        json!({}),
    )
    .await
    .assert(201);
    for _ in 0..2 {
        app.post(
            "/api/v1/lessons/complete",
            Some(&student.access),
            json!({"lessonId": lesson, "courseId": course}),
        )
        .await
        .assert(200);
    }
    app.post(
        "/api/v1/assignments/submit",
        Some(&student.access),
        json!({"assignmentId": assignment, "submissionContent": "My essay", "fileIds": []}),
    )
    .await
    .assert(201);
    app.post(
        &format!("/api/v1/assignments/{assignment}/grade"),
        Some(&teacher.access),
        json!({"studentId": student.id, "grade": 90}),
    )
    .await
    .assert(200);

    // Assert: each write's event arrived once, in order per subject, naming who acted
    let types = || -> Vec<EventType> {
        let mut types: Vec<EventType> = seen
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.event_type())
            .collect();
        types.sort();
        types
    };
    until("every event", || types().len() == 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        types(),
        [
            EventType::CourseUpdated,
            EventType::EnrollmentCreated,
            EventType::LessonCompleted,
            EventType::AssignmentSubmitted,
            EventType::AssignmentGraded,
        ]
    );
    let events = seen.0.lock().unwrap().clone();
    for event in &events {
        let expected = match event.event_type() {
            EventType::CourseUpdated | EventType::AssignmentGraded => &teacher.id,
            _ => &student.id,
        };
        assert_eq!(event.actor.map(|a| a.to_string()).as_ref(), Some(expected));
    }
    let payload = |t: EventType| {
        let event = events.iter().find(|e| e.event_type() == t).unwrap();
        serde_json::to_value(event).unwrap()["payload"].clone()
    };
    assert_eq!(payload(EventType::EnrollmentCreated)["courseId"], course);
    assert_eq!(payload(EventType::LessonCompleted)["lessonId"], lesson);
    assert_eq!(payload(EventType::LessonCompleted)["courseCompleted"], true);
    assert_eq!(
        payload(EventType::AssignmentSubmitted)["assignmentId"],
        assignment
    );
    assert_eq!(payload(EventType::AssignmentGraded)["newGrade"], 90.0);
}
