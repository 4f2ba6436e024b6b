//! The waitlist: entries kept once, a freed time offered to the first entry it fits (first
//! come first), recorded on the entry with one text owed, and an entry's day its end.

use jiff::civil::{Date, time};
use jiff::{SignedDuration, Timestamp};
use salon_domain::sms::Notice;
use salon_domain::{Appointment, CallSid, StaffId, WaitlistEntry, Window, demo};
use salon_store::{Store, Stylist};

use super::{demo_id, dt, monday_morning, nth_phone, phone, request, service, sid};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

const TUESDAY: &str = "2026-12-15";

fn entry(n: u32, what: &str, who: Option<&str>, from: (i8, i8), until: (i8, i8)) -> WaitlistEntry {
    WaitlistEntry {
        id: format!("{}:call_{n}", sid(n)),
        business: demo_id(),
        client: phone(&nth_phone(n)),
        client_name: "Ion Popescu".into(),
        service: service(what),
        more: Vec::new(),
        service_name: what.into(),
        staff: who.map(staff),
        date: TUESDAY.parse().unwrap(),
        window: Window::new(time(from.0, from.1, 0, 0), time(until.0, until.1, 0, 0)).unwrap(),
        call_sid: CallSid::parse(sid(n).as_str()).unwrap(),
        // First come first: a second apart.
        created: monday_morning() + SignedDuration::from_secs(i64::from(n)),
        offer: None,
    }
}

async fn book(store: &Store, n: u32, at: &str, who: &str) -> Appointment {
    let mut r = request(&nth_phone(n), at, &format!("k{n}"));
    r.staff = Some(staff(who));
    r.call_sid = Some(sid(n));
    store.book(&r, monday_morning()).await.unwrap().appointment
}

async fn offered(store: &Store) -> Vec<(String, Option<(String, StaffId)>)> {
    let b = store.business(&demo_id()).await.unwrap().unwrap();
    store
        .waitlist_on(&demo_id(), TUESDAY.parse::<Date>().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let offer = e.offer.map(|o| {
                let at = o.start.to_zoned_datetime(b.time_zone.tz().clone());
                (at.strftime("%H:%M").to_string(), o.staff)
            });
            (e.id, offer)
        })
        .collect()
}

pub(crate) async fn a_freed_time_goes_to_the_first_waiting_client_it_fits(store: Store) {
    salon_store::seed::demo_salon_texting(&store, phone(demo::DEMO_NUMBER), Some(true))
        .await
        .unwrap();
    let now = monday_morning();
    // Tuesday 10:00 is taken with everyone, and Ana is busy at 11:00 too.
    let ana = book(&store, 1, "2026-12-15T10:00", "ana").await;
    let maria = book(&store, 2, "2026-12-15T10:00", "maria").await;
    book(&store, 3, "2026-12-15T10:00", "ion").await;
    book(&store, 4, "2026-12-15T11:00", "ana").await;
    // Waiting, in this order: a cut with Maria in the morning; a colour at 10:00 (it needs its
    // stylist at 11:00 as well); a cut at 10 or 11 with anyone; another such cut.
    let waiting = [
        entry(11, "tuns", Some("maria"), (9, 0), (12, 0)),
        entry(12, "vopsit", None, (10, 0), (10, 0)),
        entry(13, "tuns", None, (10, 0), (11, 0)),
        entry(14, "tuns", None, (10, 0), (11, 0)),
    ];
    for e in &waiting {
        assert_eq!(store.join_waitlist(e).await.unwrap(), *e);
    }
    // An entry expires when its day is over (the table's TTL).
    let item = store
        .table()
        .get(
            "BIZ#salon-demo#WAIT",
            &format!("{TUESDAY}#{}", waiting[0].id),
        )
        .await
        .unwrap()
        .expect("kept");
    let midnight: Timestamp = "2026-12-16T00:00:00+02:00".parse().unwrap();
    assert_eq!(item.expires_at, Some(midnight.as_second()));
    // The same request again keeps the first.
    let mut again = waiting[2].clone();
    again.created = now + SignedDuration::from_mins(5);
    assert_eq!(store.join_waitlist(&again).await.unwrap(), waiting[2]);
    let texts_before = store.waiting_sms().await.unwrap().len();

    // Ana's 10:00 is cancelled: not Maria's client, not the colour (Ana is busy at 11:00):
    // the first cut with anyone.
    store.cancel(&demo_id(), &ana.id, None, now).await.unwrap();
    let ids: Vec<String> = waiting.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        offered(&store).await,
        [
            (ids[0].clone(), None),
            (ids[1].clone(), None),
            (ids[2].clone(), Some(("10:00".into(), staff("ana")))),
            (ids[3].clone(), None),
        ]
    );
    // One text owed, to that client, saying what freed up.
    let texts: Vec<Notice> = store
        .waiting_sms()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.notice().clone())
        .filter(|n| matches!(n, Notice::Waitlist { .. }))
        .collect();
    assert_eq!(
        store.waiting_sms().await.unwrap().len(),
        texts_before + 2,
        "the cancellation's and the offer's"
    );
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].to(), Some(&phone(&nth_phone(13))));

    // Maria's 10:00 moves to the afternoon: her waiting client, first in line, gets it.
    store
        .reschedule(
            &demo_id(),
            &maria.id,
            None,
            dt("2026-12-15T15:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    let now_offered = offered(&store).await;
    assert_eq!(now_offered[0].1, Some(("10:00".into(), staff("maria"))));
    assert_eq!(now_offered[3].1, None, "the later one still waits");

    // Its day past, an entry is offered nothing: Ion's 10:00, freed on Wednesday, goes to nobody.
    let wednesday: Timestamp = "2026-12-16T08:00:00+02:00".parse().unwrap();
    let b = store.business(&demo_id()).await.unwrap().unwrap();
    let ion = store
        .client_appointments(&demo_id(), &phone(&nth_phone(3)))
        .await
        .unwrap();
    assert!(
        store
            .offer_freed(&b, &ion[0], wednesday)
            .await
            .unwrap()
            .is_none()
    );
}
