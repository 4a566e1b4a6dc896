//! One suite of store behaviours, written once against the `Table` port and run against both backends:
//! SQLite (a file in a temporary directory) and DynamoDB (a fresh table on moto's server on loopback).
//! A behaviour that differs between them fails here.
//!
//! Each behaviour is an `async fn(&Store)` in one of the modules below; `conformance!` turns every
//! one into a `#[tokio::test]` per backend, named `sqlite::<behaviour>` and `dynamo::<behaviour>`
//! (so `cargo test -p lectern-store --test conformance sqlite::` runs one backend).

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

mod actors;
mod batch;
mod concurrency;
mod conditions;
mod cursors;
mod idempotency;
mod index;
mod invitations;
mod items;
mod limits;
mod outbox;
mod queries;
mod quotas;
mod reads;
mod transactions;
mod updates;

/// Generates, for one backend, a test per behaviour: `$backend::$name` runs `$module::$name` on a
/// store made by `$make`.
macro_rules! conformance {
    ($backend:ident, $make:path) => {
        conformance!(@backend $backend, $make;
            items {
                put_then_get_returns_every_attribute_type,
                get_of_an_absent_key_returns_none,
                put_replaces_the_whole_item,
                numbers_are_stored_without_leading_or_trailing_zeros,
                a_number_dynamodb_refuses_is_an_invalid_request,
                an_item_without_string_keys_is_an_invalid_request,
                empty_or_oversized_keys_are_invalid_requests,
                an_index_key_that_is_not_a_string_is_an_invalid_request,
                delete_returns_the_old_item,
                an_item_over_400_kb_is_refused_and_nothing_is_written,
            }
            conditions {
                put_if_not_exists_on_an_existing_item_fails_and_keeps_it,
                put_if_not_exists_on_an_absent_item_writes_it,
                put_if_exists_needs_the_item,
                equals_holds_only_for_the_same_type_and_value,
                one_of_holds_when_the_attribute_equals_any_of_the_values,
                attr_not_exists_holds_for_an_absent_attribute_or_item,
                version_equals_admits_only_the_current_version,
                and_needs_every_condition,
                absent_or_below_admits_a_missing_counter_or_a_smaller_number,
                a_conditional_delete_that_fails_keeps_the_item,
                a_failed_condition_on_an_update_writes_nothing,
            }
            updates {
                update_sets_adds_and_removes_and_returns_the_new_item,
                update_creates_an_absent_item,
                update_with_exists_on_an_absent_item_fails_and_creates_nothing,
                add_on_an_absent_attribute_starts_from_zero,
                add_to_a_string_is_an_invalid_request_and_changes_nothing,
                a_failed_condition_beside_an_add_to_a_string_is_a_failed_condition,
                remove_of_an_absent_attribute_is_a_no_op,
                update_of_a_key_attribute_is_an_invalid_request,
                an_update_naming_one_attribute_twice_is_an_invalid_request,
                an_update_without_actions_is_an_invalid_request,
                updates_keep_the_index_in_sync,
                an_update_that_grows_an_item_past_400_kb_is_refused_and_changes_nothing,
            }
            queries {
                a_partition_comes_in_byte_order_of_its_sort_keys,
                each_sort_key_condition_selects_its_range_in_both_directions,
                begins_with_compares_bytes,
                an_empty_partition_has_no_items_and_no_cursor,
                malformed_queries_are_invalid_requests,
                pages_walk_a_partition_exactly_once_in_both_directions,
                a_page_that_ends_at_the_last_item_has_no_cursor,
                pages_stay_inside_the_sort_key_condition,
                a_partition_over_one_megabyte_is_read_across_dynamodb_pages,
            }
            index {
                the_index_holds_only_items_with_both_index_keys,
                an_index_query_orders_by_the_index_sort_key,
                index_pages_walk_ties_exactly_once_in_both_directions,
            }
            cursors {
                a_garbage_cursor_is_invalid,
                a_well_encoded_cursor_that_this_store_did_not_issue_is_invalid,
                a_cursor_from_another_partition_is_invalid,
                a_cursor_from_the_table_is_invalid_on_the_index_and_back,
                a_cursor_outside_the_sort_key_condition_is_invalid,
            }
            batch {
                batch_get_answers_in_request_order_with_none_for_missing_keys,
                batch_get_of_no_keys_is_empty,
                batch_get_of_100_keys_works_and_of_101_is_an_invalid_request,
            }
            transactions {
                a_transaction_applies_every_kind_of_action,
                a_failed_condition_cancels_the_whole_transaction_and_names_it,
                every_failed_condition_is_named,
                a_failed_check_cancels_the_transaction,
                two_actions_on_one_item_are_an_invalid_request,
                an_empty_transaction_is_an_invalid_request,
                a_transaction_of_100_actions_succeeds_and_of_101_is_an_invalid_request,
                an_item_over_400_kb_refuses_the_whole_transaction,
                an_add_to_a_string_refuses_the_whole_transaction,
                deleting_a_partition_takes_every_item_in_transactions_of_100,
            }
            concurrency {
                of_concurrent_puts_if_not_exists_exactly_one_wins,
                concurrent_adds_are_all_counted,
                concurrent_bounded_adds_stop_exactly_at_the_limit,
                of_concurrent_transactions_claiming_one_item_exactly_one_wins,
            }
            actors {
                a_write_lands_only_while_its_actor_is_active_and_holds_the_power,
                a_refused_actor_is_told_apart_from_the_writes_own_conditions,
                writes_beyond_one_transaction_follow_only_a_check_that_held,
            }
            quotas {
                confirmed_files_count_against_both_quotas_and_deleted_ones_give_bytes_back,
                a_file_being_deleted_cannot_be_confirmed,
                of_confirmations_racing_for_the_last_bytes_exactly_one_wins,
            }
            invitations {
                of_registrations_racing_with_one_invitation_exactly_one_makes_an_account,
                a_revoked_invitation_makes_no_account,
            }
            idempotency {
                of_concurrent_claims_of_one_key_exactly_one_acquires_it,
                a_lapsed_claim_is_taken_over_with_its_resource_and_the_first_cannot_complete,
                a_released_key_is_claimed_again_at_once_and_an_expired_one_counts_as_absent,
            }
            outbox {
                an_event_commits_with_its_change_and_not_without_it,
                an_event_published_twice_is_stored_once_as_first_recorded,
                each_consumer_is_marked_once_and_only_its_own_marker_counts,
            }
            limits {
                concurrent_takes_admit_exactly_the_limit_each_with_its_own_count,
                a_full_window_refuses_and_a_unit_given_back_is_taken_again,
            }
            reads {
                memberships_answer_every_course_in_the_order_asked_across_batches,
                the_course_page_context_names_the_instructor_the_readers_enrollment_and_the_linked_courses,
            }
        );
    };
    (@backend $backend:ident, $make:path; $($module:ident { $($name:ident),* $(,)? })*) => {
        mod $backend {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = $make().await;
                    crate::$module::$name(&store).await;
                }
            )*)*
        }
    };
}

conformance!(sqlite, crate::support::Store::sqlite);
conformance!(dynamo, crate::support::Store::dynamo);

/// SQLite only: two real processes on one file still admit exactly one writer per condition and lose
/// no increment (in one process SQLite coordinates connections itself; across processes it relies on
/// file locks, which this exercises).
#[test]
fn sqlite_processes_sharing_a_file_agree_on_conditions_and_counts() {
    concurrency::processes_sharing_a_file_agree();
}

/// The child side of the test above: does nothing unless started by it.
#[test]
fn sqlite_child_process() {
    concurrency::child_process();
}

/// SQLite only: the stream of outbox items the local router reads.
#[tokio::test]
async fn sqlite_stream_carries_committed_events_only() {
    outbox::the_sqlite_stream_carries_committed_events_only().await;
}
