//! What a caller asked for, read from a tool's arguments: the services (one, or a combination),
//! the stylist (by name, or anyone), and the number a booking goes under.

use super::*;

pub(super) fn service_of<'a>(
    services: &'a [Service],
    name: &str,
) -> Result<&'a Service, ToolReply> {
    find_service(services, name).map_err(|e| match e {
        FindServiceError::Unknown { offered } => fail(
            ToolErrorCode::UnknownService,
            format!(
                "Nu avem serviciul „{}”. Oferim: {}.",
                name.trim(),
                speech::list(&offered, "și")
            ),
        ),
        FindServiceError::Ambiguous { candidates } => fail(
            ToolErrorCode::AmbiguousService,
            format!("Vă referiți la {}?", speech::list(&candidates, "sau")),
        ),
        _ => fail(ToolErrorCode::UnknownService, "Nu am găsit acest serviciu."),
    })
}

/// The most services one booking carries one after another.
pub(super) const MAX_COMBINED: usize = 4;

/// The services a caller asked for, one after another with one stylist: one service, or a
/// combination ("vopsit și coafat", "tuns + barbă" when the salon has no such service).
pub(super) struct Chosen<'a> {
    pub(super) first: &'a Service,
    pub(super) more: Vec<&'a Service>,
}

impl Chosen<'_> {
    pub(super) fn more_ids(&self) -> Vec<salon_domain::ServiceId> {
        self.more.iter().map(|s| s.id.clone()).collect()
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &Service> {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    /// Its name as said: "Vopsit + Spălat și coafat".
    pub(super) fn name(&self) -> String {
        self.all()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    pub(super) fn price(&self) -> salon_domain::Price {
        salon_domain::Price {
            bani: self.all().map(|s| s.price.bani).sum(),
        }
    }
}

/// Finds the services a caller named: a service the salon has by that very name first (its
/// own "Tuns + barbă"), else, for names joined by "și" or "+", each of them in turn.
pub(super) fn services_of<'a>(all: &'a [Service], name: &str) -> Result<Chosen<'a>, ToolReply> {
    let folded = salon_domain::text::fold(name);
    let exact = all.iter().any(|s| {
        s.active && (salon_domain::text::fold(&s.name) == folded || s.id.as_str() == name.trim())
    });
    let parts: Vec<&str> = folded.split(" + ").filter(|p| !p.is_empty()).collect();
    if exact || parts.len() < 2 {
        return Ok(Chosen {
            first: service_of(all, name)?,
            more: Vec::new(),
        });
    }
    if parts.len() > MAX_COMBINED {
        return Err(fail(
            ToolErrorCode::InvalidArguments,
            format!("Putem programa cel mult {MAX_COMBINED} servicii într-o singură vizită."),
        ));
    }
    let found = parts
        .iter()
        .map(|p| service_of(all, p))
        .collect::<Result<Vec<_>, _>>()?;
    let first = found[0];
    let more: Vec<&Service> = found[1..].to_vec();
    if more.iter().any(|s| s.id == first.id) || more.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(fail(
            ToolErrorCode::InvalidArguments,
            "Ați spus același serviciu de două ori. Ce servicii doriți?",
        ));
    }
    Ok(Chosen { first, more })
}

/// What a caller said about the stylist.
pub(super) enum Asked {
    /// Nothing.
    Unsaid,
    /// Anyone will do ("oricine", "nu contează").
    Anyone,
    /// This stylist.
    Named(StaffId),
}

impl Asked {
    /// The stylist a booking or a check is limited to: none for anyone.
    pub(super) fn named(&self) -> Option<&StaffId> {
        match self {
            Asked::Named(id) => Some(id),
            Asked::Unsaid | Asked::Anyone => None,
        }
    }
}

/// How callers (and the model for them) say that anyone will do, folded.
pub(super) const ANYONE: &[&str] = &[
    "oricine",
    "orice stilist",
    "oricare",
    "nu conteaza",
    "indiferent",
    "anyone",
];

pub(super) fn stylist_of(business: &Business, name: Option<&str>) -> Result<Asked, ToolReply> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(Asked::Unsaid);
    };
    if ANYONE.contains(&salon_domain::text::fold(name).as_str()) {
        return Ok(Asked::Anyone);
    }
    let staff: Vec<_> = business.active_staff().collect();
    match best_match(name, &staff, |s| [s.name.as_str(), s.id.as_str()]) {
        Match::Exact(s) | Match::Unique(s) => Ok(Asked::Named(s.id.clone())),
        _ => {
            let names: Vec<String> = staff.iter().map(|s| s.name.clone()).collect();
            Err(fail(
                ToolErrorCode::InvalidArguments,
                format!(
                    "Nu avem un stilist cu numele {name}. La noi lucrează {}.",
                    speech::list(&names, "și")
                ),
            ))
        }
    }
}

pub(super) fn staff_name(business: &Business, id: &StaffId) -> String {
    business
        .staff_member(id)
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}

/// The phone the caller's appointments are under: the caller ID. Without one, nothing
/// about a client is found, listed, cancelled or moved on the strength of a number said.
pub(super) fn caller(ctx: &CallContext) -> Result<PhoneE164, ToolReply> {
    ctx.caller.clone().ok_or_else(|| {
        fail(
            ToolErrorCode::CallerIdHidden,
            "Numărul dumneavoastră nu este afișat, așa că nu vă pot căuta programările. Vă pot face o programare nouă pe un număr pe care mi-l spuneți.",
        )
    })
}

/// The number a booking goes under: the caller ID, or the number a caller with a hidden
/// caller ID says (marked as spoken).
pub(super) fn booking_phone(
    ctx: &CallContext,
    said: Option<&str>,
) -> Result<(PhoneE164, PhoneOrigin), ToolReply> {
    if let Some(p) = &ctx.caller {
        return Ok((p.clone(), PhoneOrigin::CallerId));
    }
    match said {
        Some(s) => PhoneE164::parse(s)
            .map(|p| (p, PhoneOrigin::Spoken))
            .map_err(|_| {
                fail(
                    ToolErrorCode::InvalidPhone,
                    "Numărul de telefon nu pare corect. Mi-l puteți spune din nou, cifră cu cifră?",
                )
            }),
        None => Err(fail(
            ToolErrorCode::InvalidPhone,
            "Numărul dumneavoastră nu este afișat. Pe ce număr de telefon să fac programarea?",
        )),
    }
}
