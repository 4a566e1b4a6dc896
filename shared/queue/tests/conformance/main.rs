//! One suite of queue behaviours, written once against the `Queue` port and run against both
//! backends: SQLite (a file in a temporary directory; once on a connection of its own and once on
//! the store's, as the payments function opens it) and SQS (a fresh queue and dead-letter queue on
//! moto's server on loopback). A behaviour that differs between them fails here.
//!
//! Each behaviour is an `async fn(&Subject)` in one of the modules below; `conformance!` turns every
//! one into a `#[tokio::test]` per backend, named `sqlite::<behaviour>` and `sqs::<behaviour>` (so
//! `cargo test -p lectern-queue --test conformance sqlite::` runs one backend). What only one backend
//! promises is in `local_only` and `sqs_only`.

/// Asserts that a value matches a pattern, printing the value when it does not.
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $value {
            $pattern $(if $guard)? => {}
            ref other => panic!(
                "expected {}, got {:?}",
                stringify!($pattern $(if $guard)?),
                other
            ),
        }
    };
}

mod support;

mod dead_letters;
mod delivery;
mod limits;
mod local_only;
mod scheduling;
mod sqs_only;

/// Generates, for one backend, a test per behaviour: `$backend::$name` runs `$module::$name` on a
/// queue made by `$make`.
macro_rules! conformance {
    ($backend:ident, $make:path) => {
        conformance!(@backend $backend, $make;
            delivery {
                an_empty_queue_receives_nothing,
                a_sent_message_is_received_with_its_body_and_a_receive_count_of_one,
                a_received_message_is_hidden_then_comes_back_with_its_count_up,
                a_deleted_message_is_never_received_again,
                deleting_with_the_same_receipt_twice_succeeds,
                a_receive_takes_at_most_max_and_each_message_once,
                bodies_come_back_character_for_character,
                a_message_sent_through_another_handle_is_received_and_deleted_there,
                concurrent_receivers_never_share_a_message,
            }
            dead_letters {
                a_message_received_max_receives_times_goes_to_the_dead_letter_queue,
                a_dead_letter_keeps_its_id_and_body_and_says_when_it_was_sent,
                dead_letters_peeks_without_removing,
                dead_letters_returns_at_most_max,
                redrive_moves_every_dead_letter_back_with_a_fresh_receive_count,
                redrive_of_an_empty_dead_letter_queue_moves_nothing,
                redrive_ids_moves_only_the_chosen_dead_letters_back,
            }
            scheduling {
                a_delayed_message_is_not_received_before_its_delay,
            }
            limits {
                requests_over_sqs_limits_are_invalid,
                a_receipt_the_queue_did_not_issue_is_invalid,
            }
        );
    };
    (@backend $backend:ident, $make:path; $($module:ident { $($name:ident),* $(,)? })*) => {
        mod $backend {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let queue = $make().await;
                    crate::$module::$name(&queue).await;
                }
            )*)*
        }
    };
}

conformance!(sqlite, crate::support::Subject::sqlite);
conformance!(sqlite_on_store, crate::support::Subject::sqlite_on_store);
conformance!(sqs, crate::support::Subject::sqs);
