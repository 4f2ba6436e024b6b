//! The store's contract: every case runs against the embedded store and against DynamoDB
//! (moto on loopback, one fresh table per test), and both must behave the same.

use jiff::Timestamp;
use jiff::civil::DateTime;
use salon_domain::{
    BusinessId, CallSid, ClientName, IdempotencyKey, PhoneE164, PhoneOrigin, ServiceId, demo,
};
use salon_store::{BookingRequest, Store, seed};

mod availability;
mod blocks;
mod booking;
mod calls;
mod caps;
mod catalog;
mod changes;
mod clock;
mod holds;
mod messages;
mod notices;
mod owners;
mod persistence;
mod races;
mod segments;
mod settings;
mod stylists;
mod waitlist;
use availability::*;
use blocks::*;
use booking::*;
use calls::*;
use caps::*;
use catalog::*;
use changes::*;
use clock::*;
use holds::*;
use messages::*;
use notices::*;
use owners::*;
use persistence::*;
use races::*;
use segments::*;
use settings::*;
use stylists::*;
use waitlist::*;

// ---- fixtures ----

/// Monday 14 December 2026, 08:00 in Bucharest (winter time, UTC+2).
fn monday_morning() -> Timestamp {
    ts("2026-12-14T08:00:00+02:00")
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

fn phone(s: &str) -> PhoneE164 {
    PhoneE164::parse(s).unwrap()
}

fn demo_id() -> BusinessId {
    BusinessId::parse(demo::BUSINESS_ID).unwrap()
}

fn service(id: &str) -> ServiceId {
    ServiceId::parse(id).unwrap()
}

fn sid(n: u32) -> CallSid {
    CallSid::parse(format!("CA{n:032x}")).unwrap()
}

async fn seeded(store: &Store) {
    seed::demo_salon(store, phone(demo::DEMO_NUMBER))
        .await
        .unwrap();
}

fn request(client: &str, start: &str, key: &str) -> BookingRequest {
    BookingRequest {
        business: demo_id(),
        service: service("tuns"),
        more: Vec::new(),
        client: Some(phone(client)),
        phone_origin: PhoneOrigin::CallerId,
        client_name: Some(ClientName::parse("Ion Popescu").unwrap()),
        start: dt(start),
        staff: None,
        call_sid: Some(sid(1)),
        key: IdempotencyKey::parse(key).unwrap(),
        tool_call: None,
        source: salon_domain::Source::Voice,
    }
}

/// The nth distinct Romanian mobile number.
fn nth_phone(n: u32) -> String {
    format!("0722{n:06}")
}

fn labels(slots: &[salon_domain::Slot]) -> Vec<String> {
    slots.iter().map(|s| s.label()).collect()
}

#[tokio::test]
async fn embedded_data_survives_a_restart() {
    data_survives_a_restart_of_the_embedded_store().await;
}

/// Runs every case against one backend, each on a fresh store.
macro_rules! contract {
    ($backend:ident, $fresh:expr) => {
        mod $backend {

            contract!(@cases $fresh;
                seeding_twice_changes_nothing_and_routes_the_number,
                a_number_moves_with_its_business_and_is_never_shared,
                availability_lists_grid_times_inside_hours_and_outside_the_break,
                availability_skips_closed_days_holidays_and_the_past,
                each_refusal_says_why,
                a_booking_creates_the_client_and_holds_a_chair,
                a_new_client_must_give_a_name_and_a_known_one_need_not,
                the_same_key_books_once,
                the_same_booking_from_the_same_call_books_once_under_a_new_key,
                fifty_callers_racing_for_one_slot_get_exactly_the_free_chairs,
                racing_retries_of_one_request_book_once,
                a_taken_time_comes_back_with_the_nearest_free_ones,
                alternatives_past_a_long_closure_are_never_times_already_taken,
                cancelling_frees_the_time_and_keeps_the_record,
                moving_swaps_the_times_in_one_step,
                the_clock_changes_of_2026_and_2027_keep_wall_clock_times,
                call_records_merge_events_from_every_writer,
                a_person_cannot_overlap_themselves_but_two_people_on_one_phone_can,
                one_person_racing_for_three_chairs_books_once,
                a_spoken_number_books_without_creating_or_renaming_a_client,
                a_call_is_claimed_by_one_stream,
                transcripts_expire_by_the_stores_clock_and_carry_their_ttl,
                tool_calls_are_recorded_alone_and_read_with_the_call,
                a_salons_catalogue_is_kept_a_minute_and_an_edit_here_shows_at_once,
                an_eight_hour_service_moves_to_another_day_and_leaves_its_time_to_its_person,
                each_change_owes_one_text_and_a_replay_none,
                a_text_is_handed_over_at_most_once,
                a_reminder_is_queued_once_and_never_for_a_cancelled_appointment,
                a_message_is_kept_once_listed_newest_first_and_marked_read,
                stylists_do_their_own_services_in_their_own_hours,
                an_absence_closes_a_stylists_days_and_lists_what_was_booked,
                anyone_gets_the_last_stylist_else_the_least_booked_that_day,
                a_caller_cannot_cancel_or_move_inside_the_salons_cut_off,
                processing_time_goes_to_a_service_that_fits_and_clean_up_holds_the_stylist,
                a_combination_books_one_stylist_back_to_back_or_nothing,
                a_held_time_is_kept_for_its_call_until_it_books_ends_or_lapses,
                fifty_calls_racing_to_hold_and_book_one_time_book_it_once,
                fifty_callers_racing_for_combinations_get_what_the_stylists_allow,
                fifty_callers_racing_for_anyone_and_named_stylists_get_each_chair_once,
                a_stylist_takes_no_more_appointments_a_day_than_the_cap,
                fifty_callers_racing_for_one_stylists_day_get_the_cap,
                a_capped_salon_books_at_most_seven_and_three_quarter_hours,
                a_freed_time_goes_to_the_first_waiting_client_it_fits,
                console_accounts_sessions_and_failed_sign_ins,
                blocked_time_is_nobodys_and_conflicts_change_nothing,
                the_owners_edits_are_checked_whole_and_concurrent_ones_both_land,
                a_walk_in_without_a_number_is_booked_by_name_and_owed_no_text,
                recent_calls_come_newest_first_up_to_the_limit,
            );
        }
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                #[allow(unused_variables)]
                let (store, guard) = $fresh;
                super::$case(store).await;
            }
        )*
    };
}

contract!(embedded, salon_store::testing::embedded_store());
// The benchmarks' store: the embedded one held in memory, held to the same contract.
contract!(
    in_memory,
    (
        salon_store::Store::new(std::sync::Arc::new(
            salon_store::EmbeddedTable::in_memory().expect("an in-memory store opens")
        )),
        ()
    )
);
contract!(dynamodb, (salon_store::testing::dynamo_store().await, ()));
