//! The single-table key layout, in one place (the README's "Data model" explains it).

use jiff::Timestamp;
use jiff::civil::Date;
use salon_domain::{
    AppointmentId, BusinessId, CallSid, IdempotencyKey, PhoneE164, ServiceId, StaffId,
};

/// Where a business lives: its profile, services, clients and appointments.
pub fn business(b: &BusinessId) -> String {
    format!("BIZ#{b}")
}
pub const PROFILE: &str = "PROFILE";
/// The sort-key range that holds a business's profile and its services and nothing else
/// ("PROFILE" < "SERVICE#…" < "SERVICE$"; clients and appointments sort before "PROFILE"), so
/// one query reads the whole catalogue.
pub const CATALOG_FIRST: &str = PROFILE;
pub const CATALOG_LAST: &str = "SERVICE$";

/// The routing item for a dialled number.
pub fn number(n: &PhoneE164) -> (String, String) {
    (format!("NUMBER#{n}"), "NUMBER".to_owned())
}

pub const SERVICE_PREFIX: &str = "SERVICE#";
pub fn service(s: &ServiceId) -> String {
    format!("SERVICE#{s}")
}

pub const CLIENT_PREFIX: &str = "CLIENT#";
pub fn client(p: &PhoneE164) -> String {
    format!("{CLIENT_PREFIX}{p}")
}

pub const APPOINTMENT_PREFIX: &str = "APPT#";
pub fn appointment(id: &AppointmentId) -> String {
    format!("APPT#{id}")
}

/// The partition holding a client's appointments (copies kept in step in every transaction).
pub fn client_appointments(b: &BusinessId, p: &PhoneE164) -> String {
    format!("BIZ#{b}#CLIENT#{p}")
}

/// The partition of a business's slot locks, sorted by time.
pub fn slots(b: &BusinessId) -> String {
    format!("BIZ#{b}#SLOTS")
}

/// Time the owner blocked for a stylist, in the salon's partition, by when it begins
/// ("BLOCK#" sorts before the catalogue's range).
pub fn block(start: Timestamp, id: &str) -> String {
    format!("BLOCK#{}#{id}", instant(start))
}

/// Formats an instant so that text order is time order.
pub fn instant(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One place in a stylist's day under the salon's daily cap (`k` below the cap), in the slots
/// partition: "CAP#" sorts after every instant, so the slot locks' range reads never see it.
pub fn cap(day: Date, staff: &StaffId, k: u8) -> String {
    format!("{CAP_PREFIX}{day}#{staff}#{k:02}")
}
pub const CAP_PREFIX: &str = "CAP#";

/// The day, stylist and place of a cap token's key.
pub fn parse_cap(sk: &str) -> Option<(Date, StaffId, u8)> {
    let rest = sk.strip_prefix(CAP_PREFIX)?;
    let (day, rest) = rest.split_once('#')?;
    let (staff, k) = rest.rsplit_once('#')?;
    Some((
        day.parse().ok()?,
        StaffId::parse(staff).ok()?,
        k.parse().ok()?,
    ))
}

/// One lock: a staff member's 15-minute step.
pub fn slot(step: Timestamp, staff: &StaffId) -> String {
    format!("{}#{staff}", instant(step))
}

/// The partition of one person's time locks (a number and a name), one per 15-minute step
/// under its instant, so they cannot overlap themselves.
pub fn person(b: &BusinessId, phone: Option<&PhoneE164>, name: &str) -> String {
    format!(
        "BIZ#{b}#PERSON#{}",
        salon_domain::person::person_key(phone, name)
    )
}

pub fn idempotency(k: &IdempotencyKey) -> String {
    format!("IDEM#{k}")
}

/// What a booking is, whatever key it came with: the same call, person (number and name),
/// service and start.
pub fn natural(
    call: &CallSid,
    client: &PhoneE164,
    name: &str,
    services: &str,
    start: Timestamp,
) -> String {
    format!(
        "BOOKING#{call}#{}#{services}#{}",
        salon_domain::person::person_key(Some(client), name),
        instant(start)
    )
}

/// A call's transcript, kept apart so it can expire.
pub const TRANSCRIPT: &str = "TRANSCRIPT";

/// One tool call of a call, in the call's partition: written alone, without reading the
/// record first, so a tool call pays one write for being recorded.
pub fn tool_call(sid: &CallSid, call_id: &str, name: &str) -> (String, String) {
    (
        format!("CALL#{sid}"),
        format!("{TOOL_PREFIX}{call_id}#{name}"),
    )
}
pub const TOOL_PREFIX: &str = "TOOL#";

/// The sort keys of everything a call's partition holds ("CALL" < "TOOL#…" < "TRANSCRIPT").
pub const CALL_FIRST: &str = "CALL";
pub const CALL_LAST: &str = TRANSCRIPT;

/// The list of what a call holds, in its business's partition.
pub fn hold(call: &CallSid) -> String {
    format!("HOLD#{call}")
}

pub fn call(sid: &CallSid) -> (String, String) {
    (format!("CALL#{sid}"), "CALL".to_owned())
}

/// A text owed to a client, kept under its appointment in the business's partition: one per
/// appointment event (`booked#1`, `moved#3`, `reminder#{start}`), so an event owes one text.
pub fn sms(appointment: &AppointmentId, event: &str) -> String {
    format!("{SMS_PREFIX}{appointment}#{event}")
}
pub const SMS_PREFIX: &str = "SMS#";

/// The text that tells the salon of a message left for it.
pub fn sms_for_message(message: &str) -> String {
    format!("{SMS_PREFIX}MSG#{message}")
}

/// The text that offers a waiting client a freed time.
pub fn sms_for_waitlist(entry: &str) -> String {
    format!("{SMS_PREFIX}WAIT#{entry}")
}

/// The partition of a salon's waitlist: one entry per client and day, under its date, so a
/// day's entries are one query.
pub fn waitlist(b: &BusinessId) -> String {
    format!("BIZ#{b}#WAIT")
}

/// A waitlist entry's key: its day, then its id.
pub fn waitlist_entry(day: Date, id: &str) -> String {
    format!("{day}#{id}")
}

/// The partition of texts waiting to be sent: one pointer to each, read by the sender with
/// one query.
pub const OUTBOX: &str = "OUTBOX";

/// A pointer's sort key: the business, then the text's own key.
pub fn outbox(business: &BusinessId, sms_key: &str) -> String {
    format!("{business}#{sms_key}")
}

/// The partition listing every business (the reminders go through them).
pub const BUSINESSES: &str = "BUSINESSES";

/// A message for the salon, in its partition.
pub fn message(id: &str) -> String {
    format!("{MESSAGE_PREFIX}{id}")
}
pub const MESSAGE_PREFIX: &str = "MSG#";

/// The partition listing a salon's calls by when they began (the owner's view of recent calls).
pub fn calls_of(b: &BusinessId) -> String {
    format!("BIZ#{b}#CALLS")
}
