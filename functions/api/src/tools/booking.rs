//! Finding a time and booking it: the services, checking a day or a time, holding the picked
//! time, finding the caller, booking.

use super::*;

pub(super) async fn services(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let _: NoArguments = parse(arguments)?;
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let list: Vec<Value> = all
        .iter()
        .filter(|s| s.active)
        .map(|s| json!({"nume": s.name, "durata": speech::duration(s.duration.get()), "pret": s.price.to_string()}))
        .collect();
    Ok(ToolReply::Ok(json!({ "servicii": list })))
}

pub(super) async fn check(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let args: CheckAvailability = parse(arguments)?;
    let date = parse_date(args.date.as_str())?;
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let (service, more) = (chosen.first, chosen.more_ids());
    let asked = stylist_of(&ctx.business, text(&args.stylist))?;
    let stylist = asked.named().cloned();
    let b = &ctx.business;
    if let Some(time) = text(&args.time) {
        let at = date.to_datetime(parse_time(time)?);
        return match store
            .check_of(
                &b.id,
                &service.id,
                &more,
                at,
                stylist.as_ref(),
                Some(&ctx.call_sid),
                ctx.now,
            )
            .await
        {
            Ok(slot) => Ok(ToolReply::Ok(json!({
                "disponibil": true,
                "serviciu": chosen.name(),
                "data": date.to_string(),
                "ora": slot.label(),
                "spus": speech::slot(&slot.start),
                "stilisti_liberi": slot.staff.iter().map(|s| staff_name(b, s)).collect::<Vec<_>>(),
            }))),
            Err(e) => Err(booking_error(b, Some(at), e)),
        };
    }
    let slots = store
        .availability_of(
            &b.id,
            &service.id,
            &more,
            date,
            date,
            stylist.as_ref(),
            Some(&ctx.call_sid),
            ctx.now,
        )
        .await
        .map_err(|e| booking_error(b, None, e))?;
    if slots.is_empty() {
        // Nothing that day: say why (closed, past, full) and offer the next free times.
        let noon = date.to_datetime(Time::constant(12, 0, 0, 0));
        let (reason, alternatives) = match store
            .check_of(
                &b.id,
                &service.id,
                &more,
                noon,
                stylist.as_ref(),
                Some(&ctx.call_sid),
                ctx.now,
            )
            .await
        {
            Err(BookingError::Unavailable {
                reason,
                alternatives,
            }) => (reason, alternatives),
            Err(e) => return Err(booking_error(b, None, e)),
            Ok(_) => (Unavailable::Taken, Vec::new()),
        };
        let reply = match (&reason, day_status(b, date)) {
            (
                Unavailable::Closed { .. }
                | Unavailable::InPast
                | Unavailable::TooFarAhead { .. }
                | Unavailable::StaffAway { .. }
                | Unavailable::StaffOff { .. }
                | Unavailable::NobodyWorks
                | Unavailable::StaffFull { .. }
                | Unavailable::DayFull,
                _,
            ) => unavailable(b, None, &reason, &alternatives),
            (_, DayStatus::Open(_)) => {
                let offers: Vec<String> = alternatives
                    .iter()
                    .map(|s| speech::slot(&s.start))
                    .collect();
                let mut message = format!(
                    "{} nu mai avem locuri libere.",
                    capitalise(&speech::date(date))
                );
                if !offers.is_empty() {
                    message.push_str(&format!(" Vă pot oferi {}.", speech::list(&offers, "sau")));
                }
                ToolReply::Err(ToolError {
                    code: ToolErrorCode::Unavailable,
                    message,
                    alternatives: alternatives.iter().map(alternative).collect(),
                })
            }
            _ => unavailable(b, None, &reason, &alternatives),
        };
        return Err(reply);
    }
    let (intervals, spoken) = ranges(&slots, b.rules.slot_minutes);
    Ok(ToolReply::Ok(json!({
        "serviciu": chosen.name(),
        "data": date.to_string(),
        "spus": speech::date(date),
        "ore_libere": slots.iter().map(Slot::label).collect::<Vec<_>>(),
        "intervale": intervals,
        "intervale_spuse": spoken,
    })))
}

/// Holds the picked time for this call: the answer names the stylist and how long it is kept.
pub(super) async fn hold(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let args: HoldTime = parse(arguments)?;
    let at = parse_date(args.date.as_str())?.to_datetime(parse_time(args.time.as_str())?);
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let stylist = stylist_of(&ctx.business, text(&args.stylist))?
        .named()
        .cloned();
    let b = &ctx.business;
    let req = HoldRequest {
        business: b.id.clone(),
        service: chosen.first.id.clone(),
        more: chosen.more_ids(),
        start: at,
        staff: stylist,
        call: ctx.call_sid.clone(),
        client: ctx.caller.clone(),
    };
    let minutes = b.rules.hold_minutes;
    let held = store
        .hold(&req, minutes, ctx.now)
        .await
        .map_err(|e| booking_error(b, Some(at), e))?;
    Ok(ToolReply::Ok(json!({
        "tinut": true,
        "serviciu": chosen.name(),
        "data": held.start.date().to_string(),
        "ora": held.start.strftime("%H:%M").to_string(),
        "spus": speech::slot(&held.start),
        "stilist": staff_name(b, &held.staff),
        "minute": minutes,
    })))
}

/// Summarises free starts as ranges a person can say: consecutive starts on the salon's
/// grid join into one range. Returns each range as `09:00–12:30` (for the tools' arguments)
/// and as said aloud ("de la nouă până la douăsprezece și jumătate").
pub(super) fn ranges(slots: &[Slot], grid_minutes: u16) -> (Vec<String>, Vec<String>) {
    let mut runs: Vec<(&Slot, &Slot)> = Vec::new();
    for s in slots {
        match runs.last_mut() {
            Some((_, last))
                if s.start.date() == last.start.date()
                    && s.start
                        .timestamp()
                        .duration_since(last.start.timestamp())
                        .as_mins()
                        <= i64::from(grid_minutes) =>
            {
                *last = s;
            }
            _ => runs.push((s, s)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            let digits = if a.start == b.start {
                a.label()
            } else {
                format!("{}–{}", a.label(), b.label())
            };
            (digits, speech::range(a.start.time(), b.start.time()))
        })
        .unzip()
}

pub(super) async fn find_client(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    // A number said by a caller with a hidden caller ID is ignored: anyone could say it.
    let _: FindClient = parse(arguments)?;
    let phone = caller(ctx)?;
    let b = &ctx.business;
    let Some(client) = store.client(&b.id, &phone).await.map_err(store_down)? else {
        return Ok(ToolReply::Ok(json!({ "gasit": false })));
    };
    let upcoming = upcoming(store, ctx, &phone).await?;
    Ok(ToolReply::Ok(
        json!({ "gasit": true, "nume": client.name, "programari": upcoming }),
    ))
}

pub(super) async fn upcoming(
    store: &Store,
    ctx: &CallContext,
    phone: &PhoneE164,
) -> Result<Vec<Value>, ToolReply> {
    let all = store
        .client_appointments(&ctx.business.id, phone)
        .await
        .map_err(store_down)?;
    Ok(all
        .iter()
        .filter(|a| a.is_booked() && a.start > ctx.now)
        .map(|a| appointment_json(&ctx.business, a))
        .collect())
}

pub(super) async fn create(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<Outcome, ToolReply> {
    let args: CreateAppointment = parse(arguments)?;
    let at = parse_date(args.date.as_str())?.to_datetime(parse_time(args.time.as_str())?);
    let all = store.services(&ctx.business.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let stylist = stylist_of(&ctx.business, text(&args.stylist))?
        .named()
        .cloned();
    let (phone, phone_origin) = booking_phone(ctx, text(&args.phone))?;
    let client_name = text(&args.client_name)
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            ClientName::parse(n).map_err(|e| {
                tracing::info!(error = %e, "a client name was refused");
                fail(
                    ToolErrorCode::InvalidName,
                    "Nu am înțeles bine numele. Mi-l puteți spune din nou, doar prenumele și numele?",
                )
            })
        })
        .transpose()?;
    let key = IdempotencyKey::parse(salon_wire::idempotency_key(ctx.call_sid.as_str(), call_id))
        .map_err(|_| {
            fail(
                ToolErrorCode::InvalidArguments,
                "Nu am putut înregistra cererea.",
            )
        })?;
    let req = BookingRequest {
        business: ctx.business.id.clone(),
        service: chosen.first.id.clone(),
        more: chosen.more_ids(),
        client: Some(phone),
        phone_origin,
        client_name,
        start: at,
        staff: stylist,
        call_sid: Some(ctx.call_sid.clone()),
        key,
        // Recorded as it succeeds; its duration is the time up to the booking's write.
        tool_call: Some(succeeded(ctx, names::CREATE_VOICE_APPOINTMENT, call_id)),
        source: salon_domain::Source::Voice,
    };
    let booking = store.book(&req, ctx.now).await.map_err(|e| match e {
        // Which appointment clashes is not for a caller whose number is not verified.
        BookingError::ClientBusy(_) if phone_origin == PhoneOrigin::Spoken => fail(
            ToolErrorCode::ClientBusy,
            "Pe acest nume există deja o programare care se suprapune cu ora cerută. Alegeți, vă rog, altă oră.",
        ),
        e => booking_error(&ctx.business, Some(at), e),
    })?;
    let a = &booking.appointment;
    let mut result = appointment_json(&ctx.business, a);
    if let Some(o) = result.as_object_mut() {
        o.insert("confirmat".into(), json!(true));
        o.insert("pe_numele".into(), json!(a.client_name));
        o.insert(
            "durata".into(),
            json!(speech::duration(
                u16::try_from(a.end.duration_since(a.start).as_mins()).unwrap_or(u16::MAX)
            )),
        );
        o.insert("pret".into(), json!(chosen.price().to_string()));
    }
    Ok(Outcome {
        reply: ToolReply::Ok(result),
        appointment: Some(a.id.clone()),
        recorded: booking.recorded,
    })
}
