//! The Rust allocator of the functions as deployed: static musl binaries (the Makefile's
//! `build-<LogicalId>` targets), every one of which links this crate (HTTP functions and queue
//! workers alike).
//!
//! musl's own allocator unmaps a size class's memory as soon as it is empty and maps it again on
//! the next request, and maps and unmaps the 19 MiB block of every argon2 hash, whose pages then
//! fault in again on each sign-in: over a cold start and 400 warm requests `strace` counted 1,006
//! `mmap`s in the users function and 933 in the auth function (half of its requests hash).
//! dlmalloc keeps freed memory for reuse (it trims only beyond 2 MiB free at the top of its heap)
//! and needs no set-up at cold start: a static, and a first mapping on first use. With it (and
//! item 25's SQLite setting) the users function mapped 22 times in all, and the auth function maps
//! a hash block through its first hashes only (dlmalloc trims it while it is at the top of its
//! heap), then every hash reuses it. Against musl's allocator, the same code otherwise
//! (docs/performance.md, item 26): sign-ins 21–22 ms against 36–38, users-list 0.28–0.37 ms
//! against 0.43–0.46, init with the AWS settings lower, peak RSS 0.1–0.4 MiB higher.
//!
//! C code (SQLite, aws-lc) keeps musl's `malloc`. Local runs and the tests are glibc builds and keep
//! glibc's allocator.

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;
