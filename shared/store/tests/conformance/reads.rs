//! Composite reads that repositories own: what they answer, in the order asked, across as many batch
//! gets as the keys need (`EnrollmentRepo::memberships`, `CourseRepo::page_context`).

use lectern_domain::course::{
    Course, CourseCategory, CourseDescription, CourseStatus, CourseTitle, DifficultyLevel, Price,
};
use lectern_domain::user::{Email, NewUser, PersonName, User, UserRole, Username, now};
use lectern_domain::{CourseId, TenantId, UserId};
use lectern_store::actor::{Actor, Power};
use lectern_store::courses::{CourseRepo, PageReader};
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::users::UserRepo;

use crate::support::Store;

fn tenant() -> TenantId {
    TenantId::parse("t").unwrap()
}

async fn user(s: &Store, name: &str, role: UserRole) -> User {
    let new = NewUser {
        email: Email::parse(&format!("{name}@example.org")).unwrap(),
        username: Username::parse(name).unwrap(),
        first_name: PersonName::parse("Ann").unwrap(),
        last_name: PersonName::parse("Lee").unwrap(),
        role,
        preferred_study_time: None,
    };
    let user = User::create(tenant(), new, "hash".into(), now());
    UserRepo::new(s.shared()).create(&user).await.unwrap();
    user
}

/// A published, free course of `instructor`'s.
async fn published(s: &Store, instructor: &User, title: &str) -> Course {
    let repo = CourseRepo::new(s.shared());
    let actor = Actor::new(tenant(), instructor.id, Power::Teaching);
    let draft = Course::draft(
        tenant(),
        instructor.id,
        CourseTitle::parse(title).unwrap(),
        CourseDescription::parse("").unwrap(),
        None,
        CourseCategory::Music,
        DifficultyLevel::Beginner,
        Price::parse(0, "USD").unwrap(),
        now(),
    );
    repo.create(&actor, &draft).await.unwrap();
    let mut course = draft.clone();
    course.status = CourseStatus::Published;
    course.published_at = Some(now());
    course.version += 1;
    repo.update(&actor, &draft, &course).await.unwrap();
    course
}

pub async fn memberships_answer_every_course_in_the_order_asked_across_batches(s: &Store) {
    // GIVEN two courses, a student enrolled in the second, and 60 course ids asked for (more than one
    // batch get holds: 2 keys each), the two real ones among ids of no course
    let teacher = user(s, "teacher", UserRole::Instructor).await;
    let student = user(s, "student", UserRole::Student).await;
    let (first, second) = (
        published(s, &teacher, "First").await,
        published(s, &teacher, "Second").await,
    );
    let repo = EnrollmentRepo::new(s.shared());
    let member = Actor::new(tenant(), student.id, Power::Member);
    repo.enroll(&member, &second, None, now()).await.unwrap();
    let mut asked: Vec<CourseId> = (0..58).map(|_| CourseId::new()).collect();
    asked.insert(3, first.id);
    asked.push(second.id);

    // WHEN the memberships are read
    let found = repo
        .memberships(&tenant(), student.id, &asked)
        .await
        .unwrap();

    // THEN there is one per id, in order, with the courses and the enrollment where they exist
    let ids: Vec<CourseId> = found.iter().map(|m| m.course_id).collect();
    assert_eq!(ids, asked);
    for m in &found {
        let course = m.course.as_ref().map(|c| c.id);
        if m.course_id == first.id || m.course_id == second.id {
            assert_eq!(course, Some(m.course_id));
        } else {
            assert_eq!(course, None);
        }
        let enrolled = m.enrollment.as_ref().is_some_and(|e| e.is_active());
        assert_eq!(enrolled, m.course_id == second.id, "{:?}", m.course_id);
    }
    // AND one course alone reads the same, and none reads nothing
    let one = repo
        .membership(&tenant(), student.id, second.id)
        .await
        .unwrap();
    assert_eq!(one.course.map(|c| c.id), Some(second.id));
    assert!(one.enrollment.is_some());
    assert!(
        repo.memberships(&tenant(), student.id, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let nobody = repo
        .membership(&tenant(), UserId::new(), first.id)
        .await
        .unwrap();
    assert!(nobody.course.is_some() && nobody.enrollment.is_none());
}

pub async fn the_course_page_context_names_the_instructor_the_readers_enrollment_and_the_linked_courses(
    s: &Store,
) {
    // GIVEN a course with a prerequisite, a course requiring it, and a student enrolled in it
    let teacher = user(s, "teacher", UserRole::Instructor).await;
    let student = user(s, "student", UserRole::Student).await;
    let basics = published(s, &teacher, "Basics").await;
    let course = published(s, &teacher, "Course").await;
    let advanced = published(s, &teacher, "Advanced").await;
    let repo = CourseRepo::new(s.shared());
    let actor = Actor::new(tenant(), teacher.id, Power::Teaching);
    for (dependent, prerequisite) in [(&course, &basics), (&advanced, &course)] {
        let dependent = repo.get(&tenant(), dependent.id).await.unwrap().unwrap();
        let (prerequisite, required_by) = repo
            .with_required_by(&tenant(), prerequisite.id)
            .await
            .unwrap()
            .unwrap();
        repo.link(&actor, &dependent, &prerequisite, &required_by, &[])
            .await
            .unwrap();
    }
    let course = repo.get(&tenant(), course.id).await.unwrap().unwrap();
    EnrollmentRepo::new(s.shared())
        .enroll(
            &Actor::new(tenant(), student.id, Power::Member),
            &course,
            None,
            now(),
        )
        .await
        .unwrap();
    let page = repo.page(&tenant(), course.id).await.unwrap().unwrap();

    // WHEN the page's context is read for the student, and for an anonymous reader
    let reader = PageReader {
        user: student.id,
        learner: true,
    };
    let theirs = repo.page_context(&page, Some(reader)).await.unwrap();
    let anonymous = repo.page_context(&page, None).await.unwrap();

    // THEN both name the instructor and the linked courses; only the student's has their enrollment
    for context in [&theirs, &anonymous] {
        assert_eq!(context.instructor.as_ref().map(|u| u.id), Some(teacher.id));
        let pre: Vec<CourseId> = context.prerequisites.iter().map(|c| c.id).collect();
        let req: Vec<CourseId> = context.required_by.iter().map(|c| c.id).collect();
        assert_eq!(pre, vec![basics.id]);
        assert_eq!(req, vec![advanced.id]);
        assert!(context.submissions.is_empty());
    }
    assert_eq!(
        theirs.enrollment.as_ref().map(|e| e.student_id),
        Some(student.id)
    );
    assert!(anonymous.enrollment.is_none());
}
