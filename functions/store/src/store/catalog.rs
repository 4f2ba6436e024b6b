//! The salon's catalogue and clients: businesses, their numbers, services, clients.

use salon_domain::{Business, BusinessId, Client, PhoneE164, Service, ServiceId};

use crate::keys;
use crate::table::{Cond, SkRange, TransactError, Write};

use super::{BookingError, MAX_ATTEMPTS, NumberRecord, Store, StoreError, decode, put};

impl Store {
    /// Writes a business and routes its numbers to it; numbers it no longer has stop routing.
    pub async fn put_business(&self, business: &Business) -> Result<(), StoreError> {
        business.validate()?;
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
            match self.table.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) if attempt + 1 < MAX_ATTEMPTS => continue,
                Err(_) => break,
            }
        }
        Err(StoreError::Contended)
    }

    /// Reads a business.
    pub async fn business(&self, id: &BusinessId) -> Result<Option<Business>, StoreError> {
        let item = self.table.get(&keys::business(id), keys::PROFILE).await?;
        item.as_ref().map(decode).transpose()
    }

    /// Finds the business that answers a dialled number.
    pub async fn business_by_number(
        &self,
        number: &PhoneE164,
    ) -> Result<Option<Business>, StoreError> {
        let (pk, sk) = keys::number(number);
        match self.table.get(&pk, &sk).await? {
            Some(item) => {
                self.business(&decode::<NumberRecord>(&item)?.business)
                    .await
            }
            None => Ok(None),
        }
    }

    /// Writes a service (creating or replacing it).
    pub async fn put_service(
        &self,
        business: &BusinessId,
        service: &Service,
    ) -> Result<(), StoreError> {
        let w = put(
            keys::business(business),
            keys::service(&service.id),
            1,
            service,
            Cond::Any,
        );
        self.table.transact(vec![w]).await.map_err(|e| match e {
            TransactError::Backend(e) => e.into(),
            _ => StoreError::Contended,
        })
    }

    /// Lists a business's services, active or not, by category then name.
    pub async fn services(&self, business: &BusinessId) -> Result<Vec<Service>, StoreError> {
        let items = self
            .table
            .query(
                &keys::business(business),
                SkRange::Prefix(keys::SERVICE_PREFIX),
            )
            .await?;
        let mut out = items
            .iter()
            .map(decode)
            .collect::<Result<Vec<Service>, _>>()?;
        out.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
        Ok(out)
    }

    pub(super) async fn business_and_service(
        &self,
        business: &BusinessId,
        service: &ServiceId,
    ) -> Result<(Business, Service), BookingError> {
        let b = self
            .business(business)
            .await?
            .ok_or_else(|| BookingError::UnknownBusiness(business.clone()))?;
        let item = self
            .table
            .get(&keys::business(business), &keys::service(service))
            .await?;
        let s: Service = item
            .as_ref()
            .map(decode)
            .transpose()?
            .ok_or_else(|| BookingError::UnknownService(service.clone()))?;
        if !s.active {
            return Err(BookingError::ServiceInactive(service.clone()));
        }
        Ok((b, s))
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
