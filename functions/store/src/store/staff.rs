//! The stylists' own calendar: absences the owner adds (a holiday, a sick day).

use jiff::Timestamp;
use salon_domain::business::Absence;
use salon_domain::{Appointment, Business, BusinessId, StaffId};

use crate::keys;
use crate::table::{Cond, TransactError};

use super::{MAX_ATTEMPTS, Store, StoreError, decode, put};

/// Why an absence was not added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AbsenceError {
    /// No such salon, or no such stylist in it.
    #[error("no such stylist")]
    UnknownStaff,
    /// Storage failed, or the salon's profile would not be valid with it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Adds an absence to a stylist: from then on nobody can book them on those days. The
    /// appointments already booked with them on those days stay booked and are returned, for
    /// the salon to move or cancel (a person decides, not the store).
    pub async fn add_absence(
        &self,
        business: &BusinessId,
        staff: &StaffId,
        absence: Absence,
    ) -> Result<Vec<Appointment>, AbsenceError> {
        let pk = keys::business(business);
        let mut written = None;
        for _ in 0..MAX_ATTEMPTS {
            let item = self
                .table
                .get(&pk, keys::PROFILE)
                .await
                .map_err(StoreError::from)?
                .ok_or(AbsenceError::UnknownStaff)?;
            let mut b: Business = decode(&item)?;
            let member = b
                .staff
                .iter_mut()
                .find(|s| &s.id == staff)
                .ok_or(AbsenceError::UnknownStaff)?;
            member.absences.insert(absence.clone());
            b.validate().map_err(StoreError::from)?;
            let write = put(
                pk.clone(),
                keys::PROFILE.to_owned(),
                item.version + 1,
                &b,
                Cond::Version(item.version),
            );
            let result = self.table.transact(vec![write]).await;
            self.catalog.forget(business);
            match result {
                Ok(()) => {
                    written = Some(b);
                    break;
                }
                Err(TransactError::Backend(e)) => return Err(StoreError::from(e).into()),
                // Someone else changed the profile meanwhile: add it to theirs.
                Err(_) => continue,
            }
        }
        let b = written.ok_or(StoreError::Contended)?;
        Ok(self.booked_with(&b, staff, &absence).await?)
    }

    /// The appointments booked with a stylist on the days of an absence.
    async fn booked_with(
        &self,
        b: &Business,
        staff: &StaffId,
        absence: &Absence,
    ) -> Result<Vec<Appointment>, StoreError> {
        let tz = b.time_zone.tz().clone();
        let bound = |d: jiff::civil::Date| {
            d.to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MAX)
        };
        let from = bound(absence.from());
        let to = absence.to().tomorrow().map_or(Timestamp::MAX, bound);
        let mut ids: Vec<_> = self
            .booked_locks(&b.id, from, to)
            .await?
            .into_iter()
            .filter(|(lock, _)| &lock.staff == staff && lock.start < to)
            .map(|(_, id)| id)
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(a) = self.appointment(&b.id, &id).await?
                && a.is_booked()
                && &a.staff == staff
            {
                out.push(a);
            }
        }
        out.sort_by_key(|a| a.start);
        Ok(out)
    }
}
