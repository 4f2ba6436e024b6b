//! Busy time grouped by staff member, so that "who is free from A to B" costs a binary search
//! per staff member instead of a scan of the whole book.
//!
//! The planner asks that question at every slot time of every day it lists, and the book holds
//! one entry per 15-minute lock (hundreds on a busy day): comparing every staff member's id with
//! every entry at each slot time would repeat the same string comparisons dozens of times a
//! day. The ids are matched once here, when the planner is built.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::Busy;
use crate::business::Staff;
use crate::ids::{AppointmentId, StaffId};

/// A staff member the planner may offer, with their busy time.
#[derive(Debug)]
pub(crate) struct StaffBusy<'a> {
    /// Who, as the business lists them.
    pub(crate) member: &'a Staff,
    /// Their busy intervals, from the entries of `Busy` that name them.
    pub(crate) busy: Timeline,
    /// When each of their appointments begins (its first busy step), ascending: how many
    /// they have on a day, for the "anyone" pick.
    pub(crate) starts: Vec<Timestamp>,
}

impl StaffBusy<'_> {
    /// Returns their id.
    pub(crate) fn id(&self) -> &StaffId {
        &self.member.id
    }

    /// Returns how many of their appointments begin from `from` to before `to`.
    pub(crate) fn appointments_between(&self, from: Timestamp, to: Timestamp) -> usize {
        self.starts.partition_point(|&s| s < to) - self.starts.partition_point(|&s| s < from)
    }
}

/// Returns each of `staff`, in order, with the busy time `busy` holds for them; entries for
/// anyone else are ignored, as the planner would never ask about them.
pub(crate) fn by_staff<'a>(staff: Vec<&'a Staff>, busy: &[Busy]) -> Vec<StaffBusy<'a>> {
    // A map rather than a scan of `staff` per entry: a salon may list dozens of chairs.
    type Found = (
        Vec<(Timestamp, Timestamp)>,
        BTreeMap<AppointmentId, Timestamp>,
    );
    let mut found: BTreeMap<&StaffId, Found> = staff
        .iter()
        .map(|s| (&s.id, (Vec::new(), BTreeMap::new())))
        .collect();
    for b in busy {
        if let Some((list, appointments)) = found.get_mut(&b.staff) {
            list.push((b.start, b.end));
            if let Some(id) = &b.appointment {
                let first = appointments.entry(id.clone()).or_insert(b.start);
                *first = (*first).min(b.start);
            }
        }
    }
    let mut grouped: Vec<StaffBusy<'a>> = Vec::with_capacity(staff.len());
    for member in staff {
        let (busy, starts) = match found.remove(&member.id) {
            Some((list, appointments)) => {
                let mut starts: Vec<Timestamp> = appointments.into_values().collect();
                starts.sort_unstable();
                (Timeline::new(list), starts)
            }
            // Taken already: an id listed twice (a business not validated) has the same busy
            // time in both places, as the scan this replaces found.
            None => grouped
                .iter()
                .find(|s| s.member.id == member.id)
                .map(|s| (s.busy.clone(), s.starts.clone()))
                .unwrap_or_default(),
        };
        grouped.push(StaffBusy {
            member,
            busy,
            starts,
        });
    }
    grouped
}

/// One staff member's busy intervals, sorted by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timeline {
    /// Each interval's start, ascending, with the latest end among it and those before it.
    /// The interval's own end would not do: intervals may nest or overlap (the planner takes
    /// whatever it is handed), so an earlier, longer one can cover a time later ones do not.
    reach: Vec<(Timestamp, Timestamp)>,
}

impl Timeline {
    /// Sorts `(start, end)` intervals into a timeline, in place.
    pub(crate) fn new(mut intervals: Vec<(Timestamp, Timestamp)>) -> Self {
        intervals.sort_unstable_by_key(|&(start, _)| start);
        let mut latest = Timestamp::MIN;
        for (_, end) in &mut intervals {
            latest = latest.max(*end);
            *end = latest;
        }
        Self { reach: intervals }
    }

    /// Returns whether an interval overlaps `start..end`.
    ///
    /// It is the test a scan would make (`b.start < end && start < b.end` for some `b`), so an
    /// empty or reversed interval answers as it always did: the intervals starting before
    /// `end` are a prefix of the timeline, and one of them overlaps exactly when the latest
    /// end among them is after `start`.
    pub(crate) fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        let before_end = self.reach.partition_point(|&(s, _)| s < end);
        before_end > 0 && self.reach[before_end - 1].1 > start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns an instant `minutes` after a fixed hour.
    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap()
    }

    fn staff(id: &str) -> Staff {
        Staff::new(StaffId::parse(id).unwrap(), id)
    }

    #[test]
    fn a_timeline_answers_like_a_scan_of_its_intervals() {
        // Arrange: back-to-back locks, a long interval nesting a short one, an empty one and
        // a reversed one, in no particular order.
        let intervals: Vec<(Timestamp, Timestamp)> = [
            (60, 75),
            (0, 15),
            (15, 30),
            (100, 200),
            (120, 130),
            (250, 250),
            (300, 280),
        ]
        .into_iter()
        .map(|(s, e)| (at(s), at(e)))
        .collect();
        let timeline = Timeline::new(intervals.clone());

        // Act and assert: every query on a 5-minute grid around them, empty and reversed ones
        // included.
        for s in (-10..=320).step_by(5) {
            for e in (-10..=320).step_by(5) {
                let (start, end) = (at(s), at(e));
                let scan = intervals.iter().any(|&(b0, b1)| b0 < end && start < b1);
                assert_eq!(timeline.overlaps(start, end), scan, "{s}..{e}");
            }
        }
    }

    #[test]
    fn an_empty_timeline_overlaps_nothing() {
        let timeline = Timeline::new(Vec::new());
        assert!(!timeline.overlaps(Timestamp::MIN, Timestamp::MAX));
    }

    #[test]
    fn busy_time_is_grouped_by_staff_in_the_order_given() {
        // Arrange: a lock for someone not asked about, and an id listed twice.
        let (ana, ion, maria) = (staff("ana"), staff("ion"), staff("maria"));
        let (a1, a2) = (
            AppointmentId::parse("a1").unwrap(),
            AppointmentId::parse("a2").unwrap(),
        );
        let lock = |who: &Staff, from: i64, appointment: &AppointmentId| Busy {
            staff: who.id.clone(),
            start: at(from),
            end: at(from + 15),
            appointment: Some(appointment.clone()),
        };
        let busy = [
            lock(&ion, 30, &a2),
            lock(&maria, 0, &a1),
            lock(&ion, 15, &a1),
            lock(&ion, 0, &a1),
            lock(&ana, 60, &a1),
        ];

        // Act
        let grouped = by_staff(vec![&ion, &ana, &ion], &busy);

        // Assert
        let ids: Vec<&StaffId> = grouped.iter().map(|s| s.id()).collect();
        assert_eq!(ids, [&ion.id, &ana.id, &ion.id]);
        let ions = Timeline::new(vec![(at(0), at(15)), (at(15), at(30)), (at(30), at(45))]);
        assert_eq!(grouped[0].busy, ions);
        assert_eq!(grouped[1].busy, Timeline::new(vec![(at(60), at(75))]));
        assert_eq!(grouped[2].busy, ions);
        // Ion's two appointments begin at 0 and 30: one lock each counts once.
        assert_eq!(grouped[0].starts, [at(0), at(30)]);
        assert_eq!(grouped[0].appointments_between(at(0), at(30)), 1);
        assert_eq!(grouped[0].appointments_between(at(0), at(31)), 2);
        assert_eq!(grouped[1].appointments_between(at(0), at(100)), 1);
    }
}
