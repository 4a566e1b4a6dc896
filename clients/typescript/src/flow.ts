// A whole course, end to end, written against the generated client only: an instructor and a student
// register, the tenant's admin makes one an instructor, the instructor builds and publishes a course,
// the student enrolls, completes the lesson, uploads a file through its presigned URL and hands in the
// assignment, the instructor grades it, and the student reads the grade report.
//
// `LECTERN_BASE_URL` is the server; `LECTERN_ADMIN_EMAIL` / `LECTERN_ADMIN_PASSWORD` sign in an admin
// of the default tenant. Exits non-zero at the first answer that is not the one expected.
import {
  completeLesson,
  confirmUpload,
  createAssignment,
  createCourse,
  createLesson,
  createUpload,
  enroll,
  grade,
  publishCourse,
  register,
  report,
  setRole,
  signin,
  submit,
} from './generated/lectern';
import { settings } from './http';

/** The body of an answer with the expected status; anything else ends the flow. */
function expect<R extends { status: number; data: unknown }, S extends R['status']>(
  step: string,
  reply: R,
  status: S,
): Extract<R, { status: S }>['data'] {
  if (reply.status !== status) {
    throw new Error(`${step}: expected ${status}, got ${reply.status}: ${JSON.stringify(reply.data)}`);
  }
  console.log(`${step}: ${reply.status}`);
  return reply.data as Extract<R, { status: S }>['data'];
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

async function signedIn(email: string, password: string): Promise<string> {
  const tokens = expect(`sign in ${email}`, await signin({ email, password }), 200);
  return tokens.accessToken;
}

async function main(): Promise<void> {
  settings.baseUrl = env('LECTERN_BASE_URL');
  const password = process.env.LECTERN_FLOW_PASSWORD ?? 'a long enough password';
  // Distinct accounts per run (`LECTERN_FLOW_RUN` names them, for a caller that checks them after).
  const run = process.env.LECTERN_FLOW_RUN ?? Date.now().toString(36);

  // Two people register (self-registration makes students).
  const teacher = expect(
    'register the instructor',
    await register({
      email: `teacher-${run}@example.org`,
      username: `teacher${run}`,
      password,
      firstName: 'Grace',
      lastName: 'Hopper',
    }),
    201,
  ).data;
  const student = expect(
    'register the student',
    await register({
      email: `student-${run}@example.org`,
      username: `student${run}`,
      password,
      firstName: 'Ada',
      lastName: 'Lovelace',
    }),
    201,
  ).data;

  // The tenant's admin makes the first an instructor.
  settings.token = await signedIn(env('LECTERN_ADMIN_EMAIL'), env('LECTERN_ADMIN_PASSWORD'));
  expect('grant the instructor role', await setRole(teacher.id, { role: 'instructor' }), 200);

  // The instructor builds a course with a lesson and an assignment, and publishes it.
  const teacherToken = await signedIn(teacher.email, password);
  settings.token = teacherToken;
  const course = expect(
    'create the course',
    await createCourse({
      title: 'Compilers, gently',
      description: 'From tokens to machine code.',
      category: 'programming',
      difficultyLevel: 'beginner',
    }),
    201,
  ).data;
  const lesson = expect(
    'add a lesson',
    await createLesson(course.courseId, {
      title: 'Lexing',
      content: '# Lexing\n\nCharacters become tokens.',
      estimatedTime: 20,
    }),
    201,
  ).data;
  const due = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
  const assignment = expect(
    'add an assignment',
    await createAssignment(course.courseId, {
      title: 'Write a lexer',
      description: 'Tokenise arithmetic expressions.',
      dueDate: due,
      points: 10,
    }),
    201,
  ).data;
  expect('publish the course', await publishCourse(course.courseId), 200);

  // The student enrolls, completes the lesson, uploads their work and hands it in.
  const studentToken = await signedIn(student.email, password);
  settings.token = studentToken;
  expect('enroll', await enroll(course.courseId), 201);
  const progress = expect(
    'complete the lesson',
    await completeLesson({ courseId: course.courseId, lessonId: lesson.lessonId }),
    200,
  ).data;
  console.log(`  progress: ${JSON.stringify(progress.progress)}`);
  const work = new TextEncoder().encode('let tokens = lex("1 + 2");\n');
  const ticket = expect(
    'ask for an upload URL',
    await createUpload({
      purpose: 'submission',
      courseId: course.courseId,
      assignmentId: assignment.assignmentId,
      fileName: 'lexer.txt',
      contentType: 'text/plain',
      size: work.byteLength,
    }),
    201,
  );
  const put = await fetch(ticket.uploadUrl, {
    method: 'PUT',
    headers: ticket.headers as Record<string, string>,
    body: work,
  });
  if (!put.ok) throw new Error(`upload through the presigned URL: ${put.status} ${await put.text()}`);
  console.log(`upload through the presigned URL: ${put.status}`);
  const file = expect('confirm the upload', await confirmUpload(ticket.fileId), 200);
  const submission = expect(
    'submit the assignment',
    await submit({
      assignmentId: assignment.assignmentId,
      submissionContent: 'My lexer, attached.',
      fileIds: [file.fileId],
    }),
    201,
  );
  console.log(`  submission: ${submission.submissionId} (${submission.status})`);

  // The instructor grades it; the student reads the grade report.
  settings.token = teacherToken;
  expect(
    'grade the submission',
    await grade(assignment.assignmentId, {
      studentId: student.id,
      grade: 9,
      feedback: 'Clean and correct.',
    }),
    200,
  );
  settings.token = studentToken;
  const grades = expect('read the grade report', await report(student.id), 200);
  if (grades.gradedAssignments !== 1) {
    throw new Error(`grade report: expected 1 graded assignment, got ${JSON.stringify(grades)}`);
  }
  console.log(`  graded assignments: ${grades.gradedAssignments}, average: ${grades.averageGrade}`);
  console.log('flow complete');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
