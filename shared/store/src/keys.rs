//! The single-table key schema: every key builder, and every access pattern they serve.
//!
//! Every partition key starts with `T#{tenant}#`, so no query can reach across tenants: a tenant's data
//! is disjoint from every other's by construction.
//!
//! | Entity | PK | SK | GSI1PK | GSI1SK |
//! |---|---|---|---|---|
//! | User | `T#{t}#USER#{userId}` | `PROFILE` | `T#{t}#USERS` | `ROLE#{role}#{userId}` |
//! | Email claim (unique) | `T#{t}#EMAIL#{lowercase email}` | `CLAIM` | | |
//! | Username claim (unique) | `T#{t}#USERNAME#{lowercase username}` | `CLAIM` | | |
//! | Session (refresh-token family) | `T#{t}#USER#{userId}` | `SESSION#{sessionId}` | | |
//! | Refresh token | `T#{t}#USER#{userId}` | `RTOKEN#{sessionId}#{sha256(secret)}` | | |
//! | Course | `T#{t}#COURSE#{courseId}` | `COURSE` | `T#{t}#CATALOG` (absent while deleting) | `{status}#{category}#{courseId}` |
//! | Catalog entry: the course in one list (scope × order; absent while deleting) | `T#{t}#COURSE#{courseId}` | `CATALOG#{scope}#{sort}` | `T#{t}#CATALOG#{status}#{scope}#{sort}` | `{sort value}#{courseId}` ([`catalog_sort_value`]) |
//! | Catalog term entry: the course under one word prefix (≤ 16 characters) of its title or description | `T#{t}#COURSE#{courseId}` | `CATALOG#TERM#{prefix}` | `T#{t}#CATALOG#{status}#TERM#{prefix}` | newest-first value |
//! | Catalog count: courses in one list | `T#{t}#CATALOG#{status}#{scope}` | `COUNT` | | |
//! | Lesson order of a course | `T#{t}#COURSE#{courseId}` | `COURSE#OUTLINE` | | |
//! | Lesson (without its content) | `T#{t}#COURSE#{courseId}` | `COURSE#LESSON#{lessonId}` | `T#{t}#LESSON#{lessonId}` | `LESSON` |
//! | Quiz summary (for the course page) | `T#{t}#COURSE#{courseId}` | `COURSE#QUIZ#{quizId}` | | |
//! | Assignment summary (course page, lists) | `T#{t}#COURSE#{courseId}` | `COURSE#ASSIGNMENT#{assignmentId}` | | |
//! | Grade change (the course's grade log) | `T#{t}#COURSE#{courseId}` | `GRADELOG#{at}#{changeId}` | | |
//! | Latest reviews (for the course page) | `T#{t}#COURSE#{courseId}` | `COURSE#REVIEWS` | | |
//! | Courses requiring this one (≤ 40 ids; linking writes it, never the course item) | `T#{t}#COURSE#{courseId}` | `COURSE#REQUIREDBY` | | |
//! | Lesson content (markdown, ≤ 100 KB) | `T#{t}#COURSE#{courseId}` | `CONTENT#{lessonId}` | | |
//! | Enrollment with progress | `T#{t}#COURSE#{courseId}` | `ENROLL#{userId}` | `T#{t}#USER#{userId}#ENROLLMENTS` | `{courseId}` |
//! | Rating | `T#{t}#COURSE#{courseId}` | `RATING#{userId}` | `T#{t}#COURSE#{courseId}#RATINGS` | `{updatedAt}#{userId}` |
//! | Quiz with its questions | `T#{t}#QUIZ#{quizId}` | `QUIZ` | | |
//! | Attempts a student has started | `T#{t}#QUIZ#{quizId}` | `ATTEMPTS#{userId}` | | |
//! | Quiz attempt | `T#{t}#QUIZ#{quizId}` | `ATTEMPT#{userId}#{attemptId}` | | |
//! | Assignment (with rubric and late policy) | `T#{t}#ASSIGNMENT#{assignmentId}` | `ASSIGNMENT` | | |
//! | Submission (one per student, with its grade) | `T#{t}#ASSIGNMENT#{assignmentId}` | `SUBMISSION#{studentId}` | `T#{t}#ASSIGNMENT#{assignmentId}#SUBMISSIONS` | `{status}#{studentId}` |
//! | File (description; bytes in S3; `ttl` while pending) | `T#{t}#FILE#{fileId}` | `FILE` | active lesson content / media only: `T#{t}#LESSON#{lessonId}` | `FILE#{createdAt}#{fileId}` |
//! | Storage used by a user's confirmed files (counter `bytes`) | `T#{t}#USER#{userId}` | `STORAGE` | | |
//! | Storage used by a tenant's confirmed files (counter `bytes`) | `T#{t}#STORAGE` | `USAGE` | | |
//! | Invitation to register (`ttl` at its expiry; deleted when used or revoked) | `T#{t}#INVITATIONS` | `INVITE#{invitationId}` | | |
//! | Failed sign-ins in a window (in total, and per client network) | `T#{t}#EMAIL#{lowercase email}` | `SIGNIN_FAILURES#{window}` | | |
//! | Rate-limit window: requests of one policy for one subject (a client network's hash, a user, a tenant shard) in one fixed window; `ttl` one window after its end | `T#{t}#RATE#{policy}#{subject}` | `WINDOW#{window start}` | | |
//! | Payment (facts from the provider) | `T#{t}#PAYMENTS` | `PAYMENT#{paymentId}` | `T#{t}#USER#{userId}#WALLET` | `PAYMENT#{paymentId}` |
//! | A student's current payment for a course | `T#{t}#USER#{userId}` | `PURCHASE#{courseId}` | | |
//! | Entitling payments of a course (counter) | `T#{t}#PAYMENTS` | `ENTITLED#{courseId}` | | |
//! | Idempotency key of a signed-in caller's POST (`in_progress` while claimed, then `done` with the first answer; `ttl` 24 h) | `T#{t}#USER#{userId}` | `IDEMPOTENCY#{key}` | | |
//! | Idempotency key of an anonymous POST (register, sign out), by client address | `T#{t}#CLIENT#{address}` | `IDEMPOTENCY#{key}` | | |
//! | Provider payment id → tenant, payment (no tenant prefix: the webhook knows only the id) | `PROVIDER#{provider}#{pi_…}` | `PAYMENT` | | |
//! | Provider event seen (deduplication; no tenant prefix) | `EVENT#{provider}#{evt_…}` | `EVENT` | | |
//! | Invoice | `T#{t}#INVOICES` | `INVOICE#{invoiceId}` | `T#{t}#USER#{userId}#WALLET` | `INVOICE#{invoiceId}` |
//! | Invoice number counter | `T#{t}#INVOICES` | `COUNTER` | | |
//! | Open invoice by due date | `T#{t}#INVOICES` | `OPEN#{dueAt}#{invoiceId}` | | |
//! | Dispute list entry | `T#{t}#DISPUTES` | `DISPUTE#{openedAt}#{disputeId}` | | |
//! | Revenue counters per day (tenant / course) | `T#{t}#REVENUE[#COURSE#{courseId}]` | `DAY#{date}#{currency}` | | |
//! | Revenue counters per course, all time (every course's: admins; one course's: `begins_with COURSE#{courseId}#`) | `T#{t}#REVENUE` | `COURSE#{courseId}#{currency}` | | |
//! | Notification | `T#{t}#USER#{userId}` | `NOTIFICATION#{at}#{id}` | | |
//! | Domain event (outbox: written in the transaction of the change it records; `entity` = `Event` is what the stream's filter selects; `ttl` 3 days after it occurred) | `T#{t}#EVENTS#{subject}` | `EVENT#{eventId}` | | |
//! | An event handled by one consumer (the router's processed marker; `ttl` as its event's) | `T#{t}#EVENTS#{subject}` | `DELIVERED#{eventId}#{consumer}` | | |
//!
//! | Access pattern | Key condition | Where | Calls |
//! |---|---|---|---|
//! | User by id | PK = user, SK = `PROFILE` | table | 1 get |
//! | The actor of a write (every write a signed-in user causes): active, with a role that holds the write's power | PK = user, SK = `PROFILE`, checked (`status = active`, `role IN (…)`) | table | 0: one more action in the write's own transaction (a single put or update becomes a transaction of two); on refusal, 1 get says why |
//! | User by email (sign in) | email claim + current and previous failure windows → its `userId` → user | table | 1 batch get + 1 get |
//! | Count a sign-in attempt within its limits | current failure window, conditioned on each count's room | table | 1 update |
//! | Count a request in its rate-limit window within the policy's limit | PK = rate window, SK = `WINDOW#{start}`, conditioned on the count's room | table | 1 update (per policy that applies; concurrent) |
//! | Is a username taken | PK = username claim | table | 1 get |
//! | Users of a tenant, optionally by role | GSI1PK = `T#{t}#USERS`, GSI1SK begins_with `ROLE#{role}#` | GSI1 | 1 query |
//! | Refresh: user + session + token | the three keys | table | 1 batch get |
//! | Course by id | PK = course, SK = `COURSE` | table | 1 get |
//! | Course page: course, outline, lessons (≤ 500), quizzes (≤ 100), assignments (≤ 100), latest reviews, courses requiring it (≤ 40) | PK = course, SK begins_with `COURSE` | table | 1 query |
//! | …plus instructor, the reader's enrollment and (a learner's) submissions, prerequisite and dependent courses (≤ 60) | their keys | table | 1 batch get |
//! | A prerequisite with the courses requiring it (link, unlink) | PK = course, SK = `COURSE` and `COURSE#REQUIREDBY` | table | 1 batch get |
//! | An instructor's courses, every status (revenue) | GSI1PK = `T#{t}#INSTRUCTOR#{instructorId}#COURSES` | GSI1 | 1 query per 1 MB of their courses |
//! | Catalog page, any filter of category / difficulty / instructor, any order | GSI1PK = that list's entries, GSI1SK > the cursor's, limit = the page (by page number: the entries before it too, ≤ 1,000); then the page's courses, its instructors and the list's count | GSI1 + table | 1 query + 1 batch get per 100 keys |
//! | Catalog search | GSI1PK = each word's term entries (a probe of 20, then the most selective word's, ≤ 1,000); then those courses and instructors | GSI1 + table | 1 query per word (+ 1) + 1 batch get per 100 keys |
//! | Lesson with content | PK = course, SK = `COURSE#LESSON#{id}` and `CONTENT#{id}` | table | 1 batch get |
//! | Students of a course | PK = course, SK begins_with `ENROLL#` | table | 1 query (paged) |
//! | Courses with a user's enrollment in each (unenroll; a file's readers) | PK = course, SK = `COURSE` and `ENROLL#{userId}` | table | 1 batch get per 50 courses |
//! | A student's enrollments | GSI1PK = `T#{t}#USER#{userId}#ENROLLMENTS` | GSI1 | 1 query |
//! | Rate a course: the student's enrollment, their rating so far and their user | their keys | table | 1 batch get |
//! | Ratings of a course, newest first | GSI1PK = `T#{t}#COURSE#{courseId}#RATINGS`, backward | GSI1 | 1 query (paged) |
//! | Everything of a course (cascade delete) | PK = course | table | 1 query (paged) |
//! | A quiz | PK = quiz, SK = `QUIZ` | table | 1 get |
//! | A student's attempts at a quiz | PK = quiz, SK begins_with `ATTEMPT#{userId}#` | table | 1 query |
//! | Every attempt at a quiz (its instructor) | PK = quiz, SK begins_with `ATTEMPT#` | table | 1 query (paged) |
//! | Start an attempt: quiz, then course + enrollment + standing | their keys | table | 1 get + 1 batch get, then 1 transaction (standing's count conditioned) |
//! | Submit an attempt: quiz, then course + enrollment + standing + attempt | their keys | table | 1 get + 1 batch get, then 1 transaction (attempt still open, standing's version) |
//! | A student's standing in a course's quizzes | PK = each quiz, SK = `ATTEMPTS#{userId}` | table | 1 batch get |
//! | A student's work in a course (progress): their standing in each quiz and submission to each assignment | PK = each quiz, SK = `ATTEMPTS#{userId}`; PK = each assignment, SK = `SUBMISSION#{userId}` | table | 1 batch get per 100 keys |
//! | Everything of a quiz (its deletion) | PK = quiz | table | 1 query per 100 items |
//! | A course with its assignment summaries | PK = course, SK between `COURSE` and `COURSE#ASSIGNMENT$` | table | 1 query |
//! | …plus the caller's enrollment and their submission to each | their keys | table | 1 batch get per 99 assignments |
//! | A student's assignments across courses | GSI1 enrollments, then each active course's assignments, then the submissions | GSI1 + table | 1 query + 1 query per course (concurrent) + 1 batch get per 100 |
//! | An assignment (details) | PK = assignment, SK = `ASSIGNMENT`; then course + enrollment + own submission + lesson | table | 1 get + 1 batch get |
//! | Submissions of an assignment | PK = assignment, SK begins_with `SUBMISSION#` (paged); with a status: GSI1PK = its submissions, GSI1SK begins_with `{status}#` | table / GSI1 | 1 query (+ 1 batch get of names) |
//! | The files handed in with a submission (≤ 100) | the files' keys | table | 1 batch get |
//! | Submit / start: the student's submission, conditioned on the version read | PK = assignment, SK = `SUBMISSION#{studentId}` | table | 1 put (retried on a fresh read when raced) |
//! | Grade: submission (version read) + grade change (new) | their keys | table | 1 transaction |
//! | A course's grade log, newest first | PK = course, SK begins_with `GRADELOG#`, backward (paged) | table | 1 query |
//! | A student's grade book (grade report, profile statistics) | GSI1 enrollments, then each course's assignments, then the user and the submissions | GSI1 + table | 1 query + 1 query per course (concurrent) + 1 batch get per 100 |
//! | An invitation (register with it, revoke it) | PK = invitations, SK = `INVITE#{id}` | table | 1 get |
//! | Register with an invitation: claims + user + the invitation's delete (its secret hash unchanged) | their keys | table | 1 transaction |
//! | A tenant's pending invitations, newest first | PK = invitations, backward (paged) | table | 1 query |
//! | A user's sessions (suspend, a password or email change revoke them) | PK = user, SK begins_with `SESSION#` | table | 1 query |
//! | A file (metadata, confirm, secure URL, delete) | PK = file, SK = `FILE` | table | 1 get |
//! | …its course and the caller's enrollment (when neither uploader nor admin) | their keys | table | + 1 batch get |
//! | Files by id (bulk permissions, ≤ 100) | the files' keys; then their courses and the caller's enrollments | table | 1 batch get + 1 batch get per 50 courses |
//! | Attach a file: the course (+ the lesson; for a submission the caller's enrollment and the assignment's summary) | their keys | table | 1 batch get |
//! | Ask for an upload: the pending file, with the uploader's and the tenant's storage checked for room | their keys | table | 1 transaction (put + 2 condition checks) |
//! | Confirm an upload: the file (pending → active) + both storage counters (added to, each conditioned on room) | their keys | table | 1 transaction |
//! | Delete an active file: the file + both storage counters (given back) | their keys | table | 1 transaction |
//! | Storage usage: the user's counter (+ the tenant's, for admins) | their keys | table | 1 get / 1 batch get |
//! | A lesson's course, by lesson id alone (`/lessons/{id}/content`, `/media`) | GSI1PK = `T#{t}#LESSON#{lessonId}`, GSI1SK = `LESSON` | GSI1 | 1 query |
//! | A lesson with its active files (`/lessons/{id}/download`) | GSI1PK = `T#{t}#LESSON#{lessonId}` | GSI1 | 1 query |
//! | …then its course and the caller's enrollment | their keys | table | + 1 batch get |
//! | A payment by id | PK = payments, SK = `PAYMENT#{id}` | table | 1 get |
//! | A student's payments / invoices, newest first | GSI1PK = wallet, GSI1SK begins_with `PAYMENT#` / `INVOICE#`, backward | GSI1 | 1 query |
//! | The wallet: payments and invoices together | GSI1PK = wallet | GSI1 | 1 query |
//! | A tenant's payments, newest first (admin) | PK = payments, SK begins_with `PAYMENT#`, backward | table | 1 query per page |
//! | Claim an idempotency key (POST with `Idempotency-Key`): write it if absent or expired; when taken, read it (repeat, 409, 422 or takeover) | PK = scope, SK = `IDEMPOTENCY#{key}` | table | 1 conditional put (+ 1 get, + 1 conditional put on takeover) |
//! | Complete an idempotency key with its answer / release it after a 5xx | PK = scope, SK = `IDEMPOTENCY#{key}` | table | 1 conditional update / 1 conditional delete |
//! | Create a payment: purchase, then payment, invoice, open entry, provider id, purchase (and the idempotency key done, when one was claimed) | their keys | table | 1 batch get + 1 transaction |
//! | A webhook's payment: event seen?, provider id → payment | their keys | table | 1 batch get + 1 get |
//! | The tenants of dead-lettered provider events: provider id → mapping | their keys | table | 1 batch get per 100 |
//! | Refund: the payment, and the refunder's user item (active, role held: the refund is at the provider, outside any transaction of ours) | their keys | table | 2 gets (concurrent) |
//! | Record a fact: payment (version read) + event + counters (revenue; the course's entitling payments when entitlement changes) | their keys | table | 1 transaction |
//! | Delete a course: the course's entitling payments, then mark it deleting with that count unchanged | their keys | table | 1 get + 1 transaction |
//! | Pay an invoice: counter (value read) + invoice (open) + open entry + revenue counters | their keys | table | 1 batch get + 1 transaction |
//! | Overdue invoices | PK = invoices, SK between `OPEN#` and `OPEN#{now}`; then the invoices | table | 1 query + 1 batch get |
//! | Disputes, newest first (admin) | PK = disputes, backward; then the payments | table | 1 query + 1 batch get |
//! | Revenue by day over a range | PK = revenue (tenant or course), SK between `DAY#{from}` and `DAY#{to}$` | table | 1 query (per course for an instructor) |
//! | Revenue by course, all time | PK = revenue, SK begins_with `COURSE#` | table | 1 query |
//! | A user's notifications, newest first | PK = user, SK begins_with `NOTIFICATION#`, backward | table | 1 query |
//! | Record a domain event with the write that causes it | PK = the subject's events, SK = `EVENT#{id}` | table | 0: one more put in the write's own transaction (a single put becomes a transaction of two) |
//! | The events recorded since a point (the router's input) | DynamoDB Streams on the table, filtered to `entity = Event` (locally: the SQLite file's stream of outbox items) | stream | 0 table calls |
//! | Which consumers have handled an event | the event's markers | table | 1 batch get per event |
//! | Mark an event handled by one consumer | the marker, if absent | table | 1 conditional put per consumer |
//!
//! Uniqueness of emails and usernames is enforced by writing the claim items in the same transaction as
//! the user, each with "must not exist": of two concurrent registrations, one transaction is cancelled.

use lectern_domain::assignment::SubmissionStatus;
use lectern_domain::catalog::{CatalogSort, Position};
use lectern_domain::course::{CourseCategory, CourseStatus};
use lectern_domain::event::{EventId, Subject};
use lectern_domain::ids::SessionId;
use lectern_domain::user::{Email, UserRole, Username};
use lectern_domain::{
    AssignmentId, AttemptId, CourseId, FileId, InvitationId, InvoiceId, LessonId, PaymentId,
    QuizId, TenantId, UserId,
};

use crate::table::{Key, SortKeyCondition};

fn tenant(t: &TenantId) -> String {
    format!("T#{t}#")
}

/// The partition of everything that belongs to one user.
pub fn user_pk(t: &TenantId, user: UserId) -> String {
    format!("{}USER#{user}", tenant(t))
}

pub fn user(t: &TenantId, user: UserId) -> Key {
    Key::new(user_pk(t, user), "PROFILE")
}

pub fn email_claim(t: &TenantId, email: &Email) -> Key {
    Key::new(format!("{}EMAIL#{}", tenant(t), email.key()), "CLAIM")
}

/// Failed sign-ins for an email in one throttling window (window = epoch seconds / window length). It
/// lives in the email claim's partition, so sign in reads both in one batch.
pub fn signin_failures(t: &TenantId, email: &Email, window: i64) -> Key {
    Key::new(
        email_claim(t, email).pk,
        format!("SIGNIN_FAILURES#{window}"),
    )
}

/// Prefix of every rate-limit window's partition key after the tenant.
const RATE_PREFIX: &str = "RATE#";

/// A rate-limit window: the requests of `policy` counted for `subject` in the window starting at
/// `start` (epoch seconds). Each subject has a partition of its own, so a policy's windows never
/// share a partition's write rate with another subject's; a tenant-wide policy counts in shards
/// (subjects) for the same reason.
pub fn rate_window(t: &TenantId, policy: &str, subject: &str, start: i64) -> Key {
    Key::new(
        format!("{}{RATE_PREFIX}{policy}#{subject}", tenant(t)),
        format!("WINDOW#{start}"),
    )
}

/// Whether a key is a rate-limit window's (what the store-call budgets count apart).
pub fn is_rate_window(key: &Key) -> bool {
    key.sk.starts_with("WINDOW#")
        && key
            .pk
            .split_once('#')
            .and_then(|(_, rest)| rest.split_once('#'))
            .is_some_and(|(_, rest)| rest.starts_with(RATE_PREFIX))
}

pub fn username_claim(t: &TenantId, username: &Username) -> Key {
    Key::new(format!("{}USERNAME#{}", tenant(t), username.key()), "CLAIM")
}

/// GSI1 partition listing a tenant's users.
pub fn users_index_pk(t: &TenantId) -> String {
    format!("{}USERS", tenant(t))
}

/// GSI1 sort key of a user: grouped by role, then by id (UUIDv7, so by creation time).
pub fn users_index_sk(role: UserRole, user: UserId) -> String {
    format!("ROLE#{role}#{user}")
}

/// GSI1 sort-key prefix of the users with one role.
pub fn users_index_role_prefix(role: UserRole) -> String {
    format!("ROLE#{role}#")
}

/// The partition of a course's item collection.
pub fn course_pk(t: &TenantId, course: CourseId) -> String {
    format!("{}COURSE#{course}", tenant(t))
}

pub fn course(t: &TenantId, course: CourseId) -> Key {
    Key::new(course_pk(t, course), "COURSE")
}

/// Sort-key prefix of the course page's items (the course and its bounded parts). Enrollments,
/// ratings and lesson contents sort outside it, so the course page never reads them.
pub const COURSE_PAGE_PREFIX: &str = "COURSE";

/// GSI1 partition of a tenant's catalog.
pub fn catalog_index_pk(t: &TenantId) -> String {
    format!("{}CATALOG", tenant(t))
}

fn enum_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The catalog list a course is in, by filter: every subset of {category, difficulty, instructor}
/// the list is narrowed by, written `ALL` or e.g. `C=music,D=beginner,I={id}` (in that order).
pub fn catalog_scope(
    category: Option<CourseCategory>,
    difficulty: Option<lectern_domain::course::DifficultyLevel>,
    instructor: Option<UserId>,
) -> String {
    let parts: Vec<String> = [
        category.map(|c| format!("C={}", enum_name(c))),
        difficulty.map(|d| format!("D={}", enum_name(d))),
        instructor.map(|i| format!("I={i}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "ALL".into()
    } else {
        parts.join(",")
    }
}

pub const CATALOG_ENTRY_PREFIX: &str = "CATALOG#";

/// A course's entry in one catalog list (scope and order), in the course's own partition: deleting
/// the course's partition deletes its entries.
pub fn catalog_entry(t: &TenantId, course: CourseId, scope: &str, sort: CatalogSort) -> Key {
    Key::new(
        course_pk(t, course),
        format!("{CATALOG_ENTRY_PREFIX}{scope}#{}", enum_name(sort)),
    )
}

/// GSI1 partition of one catalog list: the entries of the courses with a status in a scope, in
/// one order.
pub fn catalog_list_index_pk(
    t: &TenantId,
    status: CourseStatus,
    scope: &str,
    sort: CatalogSort,
) -> String {
    format!(
        "{}#{}#{scope}#{}",
        catalog_index_pk(t),
        enum_name(status),
        enum_name(sort)
    )
}

/// The count of the courses with a status in a scope.
pub fn catalog_count(t: &TenantId, status: CourseStatus, scope: &str) -> Key {
    Key::new(
        format!("{}#{}#{scope}", catalog_index_pk(t), enum_name(status)),
        "COUNT",
    )
}

/// Longest word prefix the search index holds: a longer search word is looked up by its first
/// [`MAX_TERM_CHARS`] characters, and the rest of it is checked on the courses read.
pub const MAX_TERM_CHARS: usize = 16;

pub const CATALOG_TERM_PREFIX: &str = "CATALOG#TERM#";

/// A course's entry under one word prefix (lowercase, at most [`MAX_TERM_CHARS`] characters).
pub fn catalog_term(t: &TenantId, course: CourseId, prefix: &str) -> Key {
    Key::new(
        course_pk(t, course),
        format!("{CATALOG_TERM_PREFIX}{prefix}"),
    )
}

/// GSI1 partition of the courses with a status that have a word starting with `prefix`.
pub fn catalog_term_index_pk(t: &TenantId, status: CourseStatus, prefix: &str) -> String {
    format!(
        "{}#{}#TERM#{prefix}",
        catalog_index_pk(t),
        enum_name(status)
    )
}

/// A number as a fixed-width sort-key part that sorts descending (larger numbers first).
fn descending(value: u64, width: usize) -> String {
    let max = 10u64.saturating_pow(width as u32).saturating_sub(1);
    format!("{:0width$}", max.saturating_sub(value.min(max)))
}

/// A UUID's hex digits complemented, so ids sort descending.
fn descending_id(id: CourseId) -> String {
    id.to_string()
        .chars()
        .map(|c| match c.to_digit(16) {
            Some(d) => char::from_digit(15 - d, 16).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// GSI1 sort key of a course in a catalog list: its [`Position`] in that order as a string that
/// sorts (byte-wise, ascending) exactly as positions compare. Descending numbers are complemented
/// at a fixed width; a title ends with `\u{1}`, below every character a title keeps, so a title
/// sorts before its extensions.
pub fn catalog_sort_value(position: &Position) -> String {
    let created = |c: &std::cmp::Reverse<i64>| descending(u64::try_from(c.0).unwrap_or(0), 15);
    match position {
        Position::Newest { created: c, id } => format!("{}#{}", created(c), descending_id(id.0)),
        Position::Title { title, id } => format!("{title}\u{1}{id}"),
        Position::Rating {
            rating,
            ratings,
            created: c,
            id,
        } => format!(
            "{}#{}#{}#{}",
            descending(u64::from(rating.0), 5),
            descending(u64::from(ratings.0), 10),
            created(c),
            descending_id(id.0)
        ),
        Position::Enrollments {
            enrollments,
            created: c,
            id,
        } => format!(
            "{}#{}#{}",
            descending(u64::from(enrollments.0), 10),
            created(c),
            descending_id(id.0)
        ),
    }
}

/// GSI1 partition of one instructor's courses, every status: their revenue reads them, and its
/// cost grows with their courses only, never with the tenant's catalog.
pub fn instructor_courses_index_pk(t: &TenantId, instructor: UserId) -> String {
    format!("{}INSTRUCTOR#{instructor}#COURSES", tenant(t))
}

/// GSI1 sort key of a course among its instructor's: by status, then category, then id (creation
/// time).
pub fn instructor_courses_index_sk(
    status: CourseStatus,
    category: CourseCategory,
    course: CourseId,
) -> String {
    format!("{}#{}#{course}", enum_name(status), enum_name(category))
}

/// The courses that name a course as a prerequisite (`lectern_domain::course::RequiredBy`): inside the
/// course page's range, and bounded.
pub fn course_required_by(t: &TenantId, course: CourseId) -> Key {
    Key::new(course_pk(t, course), "COURSE#REQUIREDBY")
}

pub fn course_outline(t: &TenantId, course: CourseId) -> Key {
    Key::new(course_pk(t, course), "COURSE#OUTLINE")
}

pub const LESSON_PREFIX: &str = "COURSE#LESSON#";

pub fn lesson(t: &TenantId, course: CourseId, lesson: LessonId) -> Key {
    Key::new(course_pk(t, course), format!("{LESSON_PREFIX}{lesson}"))
}

/// GSI1 partition of a lesson: the lesson item (GSI1SK [`LESSON_INDEX_SK`]) and its active files
/// (GSI1SK [`lesson_file_index_sk`]). Lessons live in their course's partition, so this is how a lesson
/// id alone finds its course. Index reads are eventually consistent: a lesson created a moment ago may
/// not be found yet, and what is found is re-read by its table key where it matters.
pub fn lesson_index_pk(t: &TenantId, lesson: LessonId) -> String {
    format!("{}LESSON#{lesson}", tenant(t))
}

pub const LESSON_INDEX_SK: &str = "LESSON";

pub const LESSON_FILE_INDEX_PREFIX: &str = "FILE#";

/// GSI1 sort key of an active lesson file in its lesson's partition: oldest first.
pub fn lesson_file_index_sk(created_at: time::OffsetDateTime, file: FileId) -> String {
    format!(
        "{LESSON_FILE_INDEX_PREFIX}{}#{file}",
        sortable_time(created_at)
    )
}

pub fn lesson_content(t: &TenantId, course: CourseId, lesson: LessonId) -> Key {
    Key::new(course_pk(t, course), format!("CONTENT#{lesson}"))
}

pub const QUIZ_SUMMARY_PREFIX: &str = "COURSE#QUIZ#";

pub fn quiz_summary(t: &TenantId, course: CourseId, quiz: QuizId) -> Key {
    Key::new(course_pk(t, course), format!("{QUIZ_SUMMARY_PREFIX}{quiz}"))
}

pub const ASSIGNMENT_SUMMARY_PREFIX: &str = "COURSE#ASSIGNMENT#";

pub fn assignment_summary(t: &TenantId, course: CourseId, assignment: AssignmentId) -> Key {
    Key::new(
        course_pk(t, course),
        format!("{ASSIGNMENT_SUMMARY_PREFIX}{assignment}"),
    )
}

/// The course item and its assignment summaries, and nothing else of the course page: `COURSE` sorts
/// first, and no other part of the page sorts between `COURSE#` and `COURSE#ASSIGNMENT#` ('$' is the
/// byte after '#').
pub fn course_with_assignments() -> SortKeyCondition {
    SortKeyCondition::Between(COURSE_PAGE_PREFIX.into(), "COURSE#ASSIGNMENT$".into())
}

/// A time as a sort-key part: fixed-width UTC with milliseconds, so keys sort by time (RFC 3339 as
/// `time` writes it drops trailing zeros of the fraction, and `.12Z` would sort after `.123Z`).
pub fn sortable_time(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

pub const GRADE_LOG_PREFIX: &str = "GRADELOG#";

/// A grade change in its course's log: by time (RFC 3339 UTC, fixed width), then id.
pub fn grade_change(t: &TenantId, course: CourseId, at: &str, change: uuid::Uuid) -> Key {
    Key::new(
        course_pk(t, course),
        format!("{GRADE_LOG_PREFIX}{at}#{change}"),
    )
}

/// The partition of an assignment and its submissions.
pub fn assignment_pk(t: &TenantId, assignment: AssignmentId) -> String {
    format!("{}ASSIGNMENT#{assignment}", tenant(t))
}

pub fn assignment(t: &TenantId, assignment: AssignmentId) -> Key {
    Key::new(assignment_pk(t, assignment), "ASSIGNMENT")
}

pub const SUBMISSION_PREFIX: &str = "SUBMISSION#";

pub fn submission(t: &TenantId, assignment: AssignmentId, student: UserId) -> Key {
    Key::new(
        assignment_pk(t, assignment),
        format!("{SUBMISSION_PREFIX}{student}"),
    )
}

/// GSI1 partition of an assignment's submissions, by status.
pub fn submissions_index_pk(t: &TenantId, assignment: AssignmentId) -> String {
    format!("{}#SUBMISSIONS", assignment_pk(t, assignment))
}

pub fn submissions_index_sk(status: SubmissionStatus, student: UserId) -> String {
    format!("{}#{student}", status.as_str())
}

pub fn submissions_index_prefix(status: SubmissionStatus) -> String {
    format!("{}#", status.as_str())
}

pub fn course_reviews(t: &TenantId, course: CourseId) -> Key {
    Key::new(course_pk(t, course), "COURSE#REVIEWS")
}

pub const ENROLLMENT_PREFIX: &str = "ENROLL#";

pub fn enrollment(t: &TenantId, course: CourseId, student: UserId) -> Key {
    Key::new(
        course_pk(t, course),
        format!("{ENROLLMENT_PREFIX}{student}"),
    )
}

/// GSI1 partition of a student's enrollments.
pub fn enrollments_index_pk(t: &TenantId, student: UserId) -> String {
    format!("{}#ENROLLMENTS", user_pk(t, student))
}

pub const RATING_PREFIX: &str = "RATING#";

pub fn rating(t: &TenantId, course: CourseId, student: UserId) -> Key {
    Key::new(course_pk(t, course), format!("{RATING_PREFIX}{student}"))
}

/// GSI1 partition of a course's ratings.
pub fn ratings_index_pk(t: &TenantId, course: CourseId) -> String {
    format!("{}#RATINGS", course_pk(t, course))
}

/// The partition of a quiz and its attempts.
pub fn quiz_pk(t: &TenantId, quiz: QuizId) -> String {
    format!("{}QUIZ#{quiz}", tenant(t))
}

pub fn quiz(t: &TenantId, quiz: QuizId) -> Key {
    Key::new(quiz_pk(t, quiz), "QUIZ")
}

pub fn quiz_attempt_counter(t: &TenantId, quiz: QuizId, student: UserId) -> Key {
    Key::new(quiz_pk(t, quiz), format!("ATTEMPTS#{student}"))
}

pub const ATTEMPT_PREFIX: &str = "ATTEMPT#";

/// Sort-key prefix of one student's attempts at a quiz.
pub fn quiz_attempts_of(student: UserId) -> String {
    format!("{ATTEMPT_PREFIX}{student}#")
}

pub fn quiz_attempt(t: &TenantId, quiz: QuizId, student: UserId, attempt: AttemptId) -> Key {
    Key::new(
        quiz_pk(t, quiz),
        format!("{}{attempt}", quiz_attempts_of(student)),
    )
}

/// A file's description (its bytes are in object storage).
pub fn file(t: &TenantId, file: FileId) -> Key {
    Key::new(format!("{}FILE#{file}", tenant(t)), "FILE")
}

/// The bytes of a user's confirmed files, counted against their storage quota.
pub fn user_storage(t: &TenantId, user: UserId) -> Key {
    Key::new(user_pk(t, user), "STORAGE")
}

/// The bytes of a tenant's confirmed files, counted against its storage quota.
pub fn tenant_storage(t: &TenantId) -> Key {
    Key::new(format!("{}STORAGE", tenant(t)), "USAGE")
}

/// The partition of a tenant's pending invitations (ids are UUIDv7: in creation order).
pub fn invitations_pk(t: &TenantId) -> String {
    format!("{}INVITATIONS", tenant(t))
}

pub fn invitation(t: &TenantId, invitation: InvitationId) -> Key {
    Key::new(invitations_pk(t), format!("INVITE#{invitation}"))
}

pub const SESSION_PREFIX: &str = "SESSION#";

pub fn session(t: &TenantId, user: UserId, session: SessionId) -> Key {
    Key::new(user_pk(t, user), format!("{SESSION_PREFIX}{session}"))
}

pub fn refresh_token(t: &TenantId, user: UserId, session: SessionId, secret_hash: &str) -> Key {
    Key::new(user_pk(t, user), format!("RTOKEN#{session}#{secret_hash}"))
}

/// The partition of a tenant's payments (newest last: payment ids are UUIDv7).
pub fn payments_pk(t: &TenantId) -> String {
    format!("{}PAYMENTS", tenant(t))
}

pub const PAYMENT_PREFIX: &str = "PAYMENT#";

pub fn payment(t: &TenantId, payment: PaymentId) -> Key {
    Key::new(payments_pk(t), format!("{PAYMENT_PREFIX}{payment}"))
}

/// How many of a course's payments entitle their students now (`count`): a course with any cannot be
/// deleted. Beside the payments, not in the course's partition, so a course's deletion leaves it and a
/// late payment's fact can still be counted.
pub fn course_entitlements(t: &TenantId, course: CourseId) -> Key {
    Key::new(payments_pk(t), format!("ENTITLED#{course}"))
}

/// GSI1 partition of a student's wallet: their payments (`PAYMENT#{id}`) and invoices (`INVOICE#{id}`).
pub fn wallet_index_pk(t: &TenantId, user: UserId) -> String {
    format!("{}USER#{user}#WALLET", tenant(t))
}

/// The student's current payment for a course (at most one that can still be paid or is paid).
pub fn purchase(t: &TenantId, user: UserId, course: CourseId) -> Key {
    Key::new(user_pk(t, user), format!("PURCHASE#{course}"))
}

/// Whose an `Idempotency-Key` is: keys of two scopes never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdempotencyScope<'a> {
    /// A signed-in caller's.
    User(UserId),
    /// An anonymous caller's, by the address the request came from.
    Client(&'a str),
}

/// A client's `Idempotency-Key` (1 to 255 printable ASCII characters without `#`), in its scope.
pub fn idempotency(t: &TenantId, scope: IdempotencyScope<'_>, key: &str) -> Key {
    let pk = match scope {
        IdempotencyScope::User(user) => user_pk(t, user),
        IdempotencyScope::Client(address) => format!("{}CLIENT#{address}", tenant(t)),
    };
    Key::new(pk, format!("IDEMPOTENCY#{key}"))
}

/// The provider's payment id → tenant and payment. Not under a tenant: a webhook names only the
/// provider's id, and that id is unique across the provider.
pub fn provider_payment(provider: &str, provider_payment_id: &str) -> Key {
    Key::new(
        format!("PROVIDER#{provider}#{provider_payment_id}"),
        "PAYMENT",
    )
}

/// A provider event, recorded once (the webhook worker's deduplication). Not under a tenant, as above.
pub fn provider_event(provider: &str, event_id: &str) -> Key {
    Key::new(format!("EVENT#{provider}#{event_id}"), "EVENT")
}

/// The partition of a tenant's invoices, their number counter and the open-invoice list.
pub fn invoices_pk(t: &TenantId) -> String {
    format!("{}INVOICES", tenant(t))
}

pub const INVOICE_PREFIX: &str = "INVOICE#";

pub fn invoice(t: &TenantId, invoice: InvoiceId) -> Key {
    Key::new(invoices_pk(t), format!("{INVOICE_PREFIX}{invoice}"))
}

/// The tenant's last invoice number.
pub fn invoice_counter(t: &TenantId) -> Key {
    Key::new(invoices_pk(t), "COUNTER")
}

pub const OPEN_INVOICE_PREFIX: &str = "OPEN#";

/// An open invoice, by due date (what the overdue list reads).
pub fn open_invoice(t: &TenantId, due_at: time::OffsetDateTime, invoice: InvoiceId) -> Key {
    Key::new(
        invoices_pk(t),
        format!("{OPEN_INVOICE_PREFIX}{}#{invoice}", sortable_time(due_at)),
    )
}

/// The partition listing a tenant's disputes.
pub fn disputes_pk(t: &TenantId) -> String {
    format!("{}DISPUTES", tenant(t))
}

/// A dispute in the tenant's list, by when it was opened; it points at its payment.
pub fn dispute_entry(t: &TenantId, opened_at: time::OffsetDateTime, dispute: &str) -> Key {
    Key::new(
        disputes_pk(t),
        format!("DISPUTE#{}#{dispute}", sortable_time(opened_at)),
    )
}

/// The partition of revenue counters: the tenant's (`scope` = None) or one course's.
pub fn revenue_pk(t: &TenantId, course: Option<CourseId>) -> String {
    match course {
        None => format!("{}REVENUE", tenant(t)),
        Some(c) => format!("{}REVENUE#COURSE#{c}", tenant(t)),
    }
}

pub const REVENUE_DAY_PREFIX: &str = "DAY#";
pub const REVENUE_COURSE_PREFIX: &str = "COURSE#";

/// One day's revenue counters in a currency (`date` is `YYYY-MM-DD`, UTC).
pub fn revenue_day(t: &TenantId, course: Option<CourseId>, currency: &str, date: &str) -> Key {
    Key::new(
        revenue_pk(t, course),
        format!("{REVENUE_DAY_PREFIX}{date}#{currency}"),
    )
}

/// A course's all-time revenue counters in a currency, in the tenant's partition.
pub fn revenue_course_total(t: &TenantId, currency: &str, course: CourseId) -> Key {
    Key::new(
        revenue_pk(t, None),
        format!("{REVENUE_COURSE_PREFIX}{course}#{currency}"),
    )
}

/// Sort-key prefix of one course's all-time totals (every currency).
pub fn revenue_course_totals_prefix(course: CourseId) -> String {
    format!("{REVENUE_COURSE_PREFIX}{course}#")
}

pub const NOTIFICATION_PREFIX: &str = "NOTIFICATION#";

/// A user's notification (ids are `{kind}:{cause}`), newest reads need the time first.
pub fn notification(t: &TenantId, user: UserId, at: time::OffsetDateTime, id: &str) -> Key {
    Key::new(
        user_pk(t, user),
        format!("{NOTIFICATION_PREFIX}{}#{id}", sortable_time(at)),
    )
}

/// The partition of one subject's events: its events are delivered in the order they were recorded
/// (DynamoDB Streams orders the records of one partition key).
pub fn events_pk(t: &TenantId, subject: &Subject) -> String {
    let subject = match subject {
        Subject::Course { course_id } => format!("COURSE#{course_id}"),
        Subject::Enrollment {
            course_id,
            student_id,
        } => format!("ENROLLMENT#{course_id}#{student_id}"),
        Subject::Submission {
            assignment_id,
            student_id,
        } => format!("SUBMISSION#{assignment_id}#{student_id}"),
        Subject::Payment { payment_id } => format!("PAYMENT#{payment_id}"),
        Subject::User { user_id } => format!("USER#{user_id}"),
    };
    format!("{}EVENTS#{subject}", tenant(t))
}

/// A domain event in the outbox.
pub fn event(t: &TenantId, subject: &Subject, id: &EventId) -> Key {
    Key::new(events_pk(t, subject), format!("EVENT#{id}"))
}

/// The marker that `consumer` has handled an event (`event` is the event's own key).
pub fn event_delivered(event: &Key, id: &EventId, consumer: &str) -> Key {
    Key::new(event.pk.clone(), format!("DELIVERED#{id}#{consumer}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_key_starts_with_its_tenant() {
        let t = TenantId::parse("acme").unwrap();
        let u = UserId::new();
        let email = Email::parse("A@b.org").unwrap();
        let name = Username::parse("Ann").unwrap();
        for key in [
            user(&t, u),
            email_claim(&t, &email),
            username_claim(&t, &name),
            session(&t, u, SessionId::new()),
            refresh_token(&t, u, SessionId::new(), "ab"),
            course(&t, CourseId::new()),
            enrollment(&t, CourseId::new(), u),
            quiz_attempt(&t, QuizId::new(), u, AttemptId::new()),
            file(&t, FileId::new()),
            rate_window(&t, "anonymous", "0a1b", 60),
            user_storage(&t, u),
            tenant_storage(&t),
            invitation(&t, InvitationId::new()),
            event(
                &t,
                &Subject::User { user_id: u },
                &EventId::of(lectern_domain::event::EventType::NotificationNew, "x"),
            ),
        ] {
            assert!(key.pk.starts_with("T#acme#"), "{key:?}");
        }
        assert!(users_index_pk(&t).starts_with("T#acme#"));
        assert!(lesson_index_pk(&t, LessonId::new()).starts_with("T#acme#"));
    }

    #[test]
    fn only_rate_windows_are_taken_for_rate_windows() {
        let t = TenantId::parse("acme").unwrap();
        assert!(is_rate_window(&rate_window(&t, "tenant", "shard3", 120)));
        let email = Email::parse("a@b.org").unwrap();
        for other in [
            user(&t, UserId::new()),
            signin_failures(&t, &email, 7),
            course(&t, CourseId::new()),
            // A user whose id spelled RATE would still not be a window: the SK says what it is.
            Key::new("T#acme#RATE#x", "PROFILE"),
            Key::new("RATE#x", "WINDOW#1"),
        ] {
            assert!(!is_rate_window(&other), "{other:?}");
        }
    }

    #[test]
    fn the_course_page_range_holds_its_bounded_parts_only() {
        let t = TenantId::parse("acme").unwrap();
        let (c, u) = (CourseId::new(), UserId::new());
        for inside in [
            course(&t, c),
            course_outline(&t, c),
            lesson(&t, c, LessonId::new()),
            quiz_summary(&t, c, QuizId::new()),
            assignment_summary(&t, c, AssignmentId::new()),
            course_reviews(&t, c),
            course_required_by(&t, c),
        ] {
            assert!(inside.sk.starts_with(COURSE_PAGE_PREFIX), "{inside:?}");
        }
        for outside in [
            enrollment(&t, c, u),
            rating(&t, c, u),
            lesson_content(&t, c, LessonId::new()),
            grade_change(&t, c, "2030-01-01T00:00:00Z", uuid::Uuid::now_v7()),
        ] {
            assert!(!outside.sk.starts_with(COURSE_PAGE_PREFIX), "{outside:?}");
        }
        // The course-with-assignments range holds the course and its assignments, no other part.
        let range = course_with_assignments();
        assert!(range.matches(&course(&t, c).sk));
        assert!(range.matches(&assignment_summary(&t, c, AssignmentId::new()).sk));
        for other in [
            course_outline(&t, c),
            lesson(&t, c, LessonId::new()),
            quiz_summary(&t, c, QuizId::new()),
            course_reviews(&t, c),
            course_required_by(&t, c),
            enrollment(&t, c, u),
        ] {
            assert!(!range.matches(&other.sk), "{other:?}");
        }
        assert!(
            !quiz_attempt_counter(&t, QuizId::new(), u)
                .sk
                .starts_with(ATTEMPT_PREFIX)
        );
        assert_eq!(
            instructor_courses_index_sk(CourseStatus::Published, CourseCategory::Music, c),
            format!("published#music#{c}")
        );
        assert_eq!(
            instructor_courses_index_pk(&t, u),
            format!("T#{t}#INSTRUCTOR#{u}#COURSES")
        );
    }

    fn any_position() -> impl Strategy<Value = Position> {
        use std::cmp::Reverse;
        let id = any::<u128>()
            .prop_map(|n| CourseId::parse(&uuid::Uuid::from_u128(n).to_string()).unwrap());
        let created = 0i64..4_000_000_000_000;
        prop_oneof![
            (created.clone(), id.clone()).prop_map(|(c, id)| Position::Newest {
                created: Reverse(c),
                id: Reverse(id)
            }),
            ("[a-zé ]{0,6}", id.clone()).prop_map(|(title, id)| Position::Title { title, id }),
            (0u32..=500, 0u32..5, created.clone(), id.clone()).prop_map(|(r, n, c, id)| {
                Position::Rating {
                    rating: Reverse(r),
                    ratings: Reverse(n),
                    created: Reverse(c),
                    id: Reverse(id),
                }
            }),
            (any::<u32>(), created, id).prop_map(|(e, c, id)| Position::Enrollments {
                enrollments: Reverse(e),
                created: Reverse(c),
                id: Reverse(id),
            }),
        ]
    }

    proptest! {
        #[test]
        fn catalog_sort_values_sort_as_positions_do(a in any_position(), b in any_position()) {
            prop_assume!(a.sort() == b.sort());
            prop_assert_eq!(
                catalog_sort_value(&a).cmp(&catalog_sort_value(&b)),
                a.cmp(&b),
                "{:?} / {:?}", catalog_sort_value(&a), catalog_sort_value(&b)
            );
        }

        #[test]
        fn sortable_times_sort_as_the_times_do(a in 0i64..4_000_000_000_000, b in 0i64..4_000_000_000_000) {
            let t = |ms: i64| time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            prop_assert_eq!(sortable_time(t(a)).cmp(&sortable_time(t(b))), a.cmp(&b));
        }

        #[test]
        fn tenants_never_share_a_partition(a in "[a-z0-9][a-z0-9-]{0,31}", b in "[a-z0-9][a-z0-9-]{0,31}") {
            prop_assume!(a != b);
            let (ta, tb) = (TenantId::parse(&a).unwrap(), TenantId::parse(&b).unwrap());
            let u = UserId::new();
            prop_assert_ne!(user(&ta, u).pk, user(&tb, u).pk);
            // No tenant's prefix is a prefix of another's partition keys (the '#' ends the tenant).
            let prefix = format!("T#{a}#");
            prop_assert!(!user(&tb, u).pk.starts_with(&prefix));
        }

        #[test]
        fn a_role_prefix_matches_exactly_that_role(role in prop_oneof![Just(UserRole::Student), Just(UserRole::Instructor), Just(UserRole::Admin)]) {
            let sk = users_index_sk(role, UserId::new());
            for other in [UserRole::Student, UserRole::Instructor, UserRole::Admin] {
                prop_assert_eq!(sk.starts_with(&users_index_role_prefix(other)), other == role);
            }
        }
    }
}
