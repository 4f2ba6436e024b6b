//! The salon's catalogue and clients: businesses, their numbers, services, clients.

use std::sync::Arc;

use salon_domain::service::ServiceError;
use salon_domain::{Business, BusinessId, Client, ConfigError, PhoneE164, Service};

use crate::keys;
use crate::table::{Cond, SkRange, TransactError, Write};

use super::cache::Catalog;
use super::{MAX_ATTEMPTS, NumberRecord, Store, StoreError, decode, put};

impl Store {
    /// Writes a business and routes its numbers to it; numbers it no longer has stop routing.
    pub async fn put_business(&self, business: &Business) -> Result<(), StoreError> {
        business.validate()?;
        // A cap shortens what one booking can hold: no service may be longer then.
        let max = business.rules.max_booking_minutes();
        if let Some(long) = self
            .services(&business.id)
            .await?
            .into_iter()
            .find(|s| s.active && s.duration.get() + s.buffer_minutes() > max)
        {
            return Err(ConfigError::TooLongForCap(long.id).into());
        }
        for attempt in 0.. {
            let pk = keys::business(&business.id);
            let old = self.table.get(&pk, keys::PROFILE).await?;
            let mut writes = Vec::new();
            let (version, cond) = match &old {
                Some(item) => {
                    let old: Business = decode(item)?;
                    for n in old.numbers.iter().filter(|n| !business.numbers.contains(n)) {
                        let (npk, nsk) = keys::number(n);
                        writes.push(Write::Delete {
                            pk: npk,
                            sk: nsk,
                            cond: Cond::Any,
                        });
                    }
                    (item.version + 1, Cond::Version(item.version))
                }
                None => (1, Cond::Absent),
            };
            for n in &business.numbers {
                let (npk, nsk) = keys::number(n);
                if let Some(item) = self.table.get(&npk, &nsk).await? {
                    let owner = decode::<NumberRecord>(&item)?.business;
                    if owner != business.id {
                        return Err(StoreError::NumberTaken {
                            number: n.clone(),
                            owner,
                        });
                    }
                }
                writes.push(put(
                    npk,
                    nsk,
                    1,
                    &NumberRecord {
                        business: business.id.clone(),
                    },
                    Cond::Any,
                ));
            }
            writes.push(put(pk, keys::PROFILE.to_owned(), version, business, cond));
            // Listed, for what goes through every salon (the reminders).
            writes.push(put(
                keys::BUSINESSES.to_owned(),
                business.id.to_string(),
                1,
                &NumberRecord {
                    business: business.id.clone(),
                },
                Cond::Any,
            ));
            let written = self.table.transact(writes).await;
            self.catalog.forget(&business.id);
            match written {
                Ok(()) => return Ok(()),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) if attempt + 1 < MAX_ATTEMPTS => continue,
                Err(_) => break,
            }
        }
        Err(StoreError::Contended)
    }

    /// Changes a salon's profile with `edit` (the owner's console): read, changed, checked as
    /// a whole and written on condition of the version read, so two edits at once both land
    /// (the later one is applied again to the profile the earlier one wrote). `None`: no such
    /// salon. The numbers it answers are not changed here.
    pub async fn edit_business(
        &self,
        id: &BusinessId,
        edit: impl Fn(&mut Business) -> Result<(), ConfigError>,
    ) -> Result<Option<Business>, StoreError> {
        let pk = keys::business(id);
        for attempt in 0..MAX_ATTEMPTS {
            let Some(item) = self.table.get(&pk, keys::PROFILE).await? else {
                return Ok(None);
            };
            let mut b: Business = decode(&item)?;
            let numbers = b.numbers.clone();
            edit(&mut b)?;
            b.numbers = numbers;
            b.validate()?;
            let write = put(
                pk.clone(),
                keys::PROFILE.to_owned(),
                item.version + 1,
                &b,
                Cond::Version(item.version),
            );
            let written = self.table.transact(vec![write]).await;
            self.catalog.forget(id);
            match written {
                Ok(()) => return Ok(Some(b)),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => super::jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended)
    }

    /// Lists every business, with one query.
    pub async fn business_ids(&self) -> Result<Vec<BusinessId>, StoreError> {
        // Business ids are printable ASCII.
        let items = self
            .table
            .query(keys::BUSINESSES, SkRange::Between("!", "~"))
            .await?;
        items
            .iter()
            .map(|i| decode::<NumberRecord>(i).map(|r| r.business))
            .collect()
    }

    /// Reads a business (through the catalogue cache).
    pub async fn business(&self, id: &BusinessId) -> Result<Option<Business>, StoreError> {
        Ok(self.catalog(id).await?.business.clone())
    }

    /// A salon's profile and services: kept from an earlier read for up to
    /// [`super::CATALOG_TTL`], else read in one query (the profile and the services sort next
    /// to each other in the salon's partition: `keys::CATALOG_FIRST..=keys::CATALOG_LAST`).
    pub(crate) async fn catalog(&self, id: &BusinessId) -> Result<Arc<Catalog>, StoreError> {
        let now = self.clock.now();
        if let Some(c) = self.catalog.salon(id, now) {
            return Ok(c);
        }
        let items = self
            .table
            .query(
                &keys::business(id),
                SkRange::Between(keys::CATALOG_FIRST, keys::CATALOG_LAST),
            )
            .await?;
        let mut business = None;
        let mut services = Vec::new();
        for item in &items {
            if item.sk == keys::PROFILE {
                business = Some(decode::<Business>(item)?);
            } else if item.sk.starts_with(keys::SERVICE_PREFIX) {
                services.push(decode::<Service>(item)?);
            }
        }
        services.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
        let catalog = Arc::new(Catalog { business, services });
        self.catalog.keep_salon(id.clone(), now, catalog.clone());
        Ok(catalog)
    }

    /// Finds the business that answers a dialled number.
    pub async fn business_by_number(
        &self,
        number: &PhoneE164,
    ) -> Result<Option<Business>, StoreError> {
        let now = self.clock.now();
        let owner = match self.catalog.number(number, now) {
            Some(owner) => owner,
            None => {
                let (pk, sk) = keys::number(number);
                let owner = match self.table.get(&pk, &sk).await? {
                    Some(item) => Some(decode::<NumberRecord>(&item)?.business),
                    None => None,
                };
                self.catalog.keep_number(number.clone(), now, owner.clone());
                owner
            }
        };
        match owner {
            Some(id) => self.business(&id).await,
            None => Ok(None),
        }
    }

    /// Writes a service (creating or replacing it), refusing one that does not hold together.
    pub async fn put_service(
        &self,
        business: &BusinessId,
        service: &Service,
    ) -> Result<(), StoreError> {
        service.validate()?;
        // A salon with a daily cap books a little less than 8 hours.
        if let Some(b) = self.business(business).await? {
            let max = b.rules.max_booking_minutes();
            if service.duration.get() + service.buffer_minutes() > max {
                return Err(ServiceError::TooLong(max).into());
            }
        }
        let w = put(
            keys::business(business),
            keys::service(&service.id),
            1,
            service,
            Cond::Any,
        );
        let written = self.table.transact(vec![w]).await;
        self.catalog.forget(business);
        written.map_err(|e| match e {
            TransactError::Backend(e) => e.into(),
            _ => StoreError::Contended,
        })
    }

    /// Lists a business's services, active or not, by category then name.
    pub async fn services(&self, business: &BusinessId) -> Result<Vec<Service>, StoreError> {
        Ok(self.catalog(business).await?.services.clone())
    }

    // ---- clients ----

    /// Reads a client by number.
    pub async fn client(
        &self,
        business: &BusinessId,
        phone: &PhoneE164,
    ) -> Result<Option<Client>, StoreError> {
        let item = self
            .table
            .get(&keys::business(business), &keys::client(phone))
            .await?;
        item.as_ref().map(decode).transpose()
    }

    /// Lists a salon's clients (those who booked from their own number or were added by the
    /// salon), by name.
    pub async fn clients(&self, business: &BusinessId) -> Result<Vec<Client>, StoreError> {
        let items = self
            .table
            .query(
                &keys::business(business),
                SkRange::Prefix(keys::CLIENT_PREFIX),
            )
            .await?;
        let mut out = items
            .iter()
            .map(decode::<Client>)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (&a.name, &a.phone).cmp(&(&b.name, &b.phone)));
        Ok(out)
    }

    /// Creates or renames a client, keeping when they were first recorded.
    pub async fn put_client(
        &self,
        business: &BusinessId,
        client: &Client,
    ) -> Result<Client, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let (pk, sk) = (keys::business(business), keys::client(&client.phone));
            let old = self.table.get(&pk, &sk).await?;
            let (stored, version, cond) = match &old {
                Some(item) => {
                    let old: Client = decode(item)?;
                    let stored = Client {
                        name: client.name.clone(),
                        ..old
                    };
                    (stored, item.version + 1, Cond::Version(item.version))
                }
                None => (client.clone(), 1, Cond::Absent),
            };
            match self
                .table
                .transact(vec![put(pk, sk, version, &stored, cond)])
                .await
            {
                Ok(()) => return Ok(stored),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => continue,
            }
        }
        Err(StoreError::Contended)
    }
}
