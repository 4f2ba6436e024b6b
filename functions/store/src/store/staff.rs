//! The stylists' own calendar: absences the owner adds (a holiday, a sick day).

use jiff::Timestamp;
use salon_domain::business::Absence;
use salon_domain::{Appointment, Business, BusinessId, ConfigError, StaffId};

use super::{Store, StoreError};

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
        let edited = self
            .edit_business(business, |b| {
                b.staff_mut(staff)?.absences.insert(absence.clone());
                Ok(())
            })
            .await;
        let b = match edited {
            Ok(Some(b)) => b,
            Ok(None) | Err(StoreError::InvalidBusiness(ConfigError::UnknownStaff(_))) => {
                return Err(AbsenceError::UnknownStaff);
            }
            Err(e) => return Err(e.into()),
        };
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
