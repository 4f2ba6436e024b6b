//! The caller's appointments: listing, cancelling and moving them.

use super::*;

pub(super) async fn list(
    store: &Store,
    ctx: &CallContext,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let _: ListAppointments = parse(arguments)?;
    let phone = caller(ctx)?;
    Ok(ToolReply::Ok(
        json!({ "programari": upcoming(store, ctx, &phone).await? }),
    ))
}

pub(super) fn appointment_id(s: &str) -> Result<AppointmentId, ToolReply> {
    AppointmentId::parse(s.trim()).map_err(|_| {
        fail(
            ToolErrorCode::NotFound,
            "Nu am găsit această programare pe numărul dumneavoastră.",
        )
    })
}

/// The record of a tool call that succeeds as its change is written, timed up to that write.
pub(super) fn succeeded(ctx: &CallContext, name: &str, call_id: &str) -> ToolCallRecord {
    ToolCallRecord {
        name: name.to_owned(),
        call_id: call_id.to_owned(),
        error: None,
        at: ctx.now,
        millis: u32::try_from(ctx.started.elapsed().as_millis()).unwrap_or(u32::MAX),
    }
}

pub(super) async fn cancel(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<Outcome, ToolReply> {
    let args: CancelAppointment = parse(arguments)?;
    let id = appointment_id(args.appointment_id.as_str())?;
    let phone = caller(ctx)?;
    let record = succeeded(ctx, names::CANCEL_APPOINTMENT, call_id);
    let recording = Recording {
        call_sid: &ctx.call_sid,
        call: &record,
    };
    let (a, recorded) = store
        .cancel_recorded(
            &ctx.business.id,
            &id,
            Some(&phone),
            ctx.now,
            Some(recording),
        )
        .await
        .map_err(|e| booking_error(&ctx.business, None, e))?;
    let mut result = appointment_json(&ctx.business, &a);
    if let Some(o) = result.as_object_mut() {
        o.insert("anulat".into(), json!(true));
    }
    Ok(Outcome {
        reply: ToolReply::Ok(result),
        appointment: None,
        recorded,
    })
}

pub(super) async fn reschedule(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<Outcome, ToolReply> {
    let args: RescheduleAppointment = parse(arguments)?;
    let id = appointment_id(args.appointment_id.as_str())?;
    let at = parse_date(args.date.as_str())?.to_datetime(parse_time(args.time.as_str())?);
    let asked = stylist_of(&ctx.business, text(&args.stylist))?;
    let phone = caller(ctx)?;
    let record = succeeded(ctx, names::RESCHEDULE_APPOINTMENT, call_id);
    let recording = Recording {
        call_sid: &ctx.call_sid,
        call: &record,
    };
    let to = Move {
        start: at,
        stylist: match &asked {
            Asked::Unsaid => Stylist::Same,
            Asked::Anyone => Stylist::Anyone,
            Asked::Named(id) => Stylist::Named(id),
        },
    };
    let (a, recorded) = store
        .reschedule_recorded(
            &ctx.business.id,
            &id,
            Some(&phone),
            to,
            ctx.now,
            Some(recording),
        )
        .await
        .map_err(|e| booking_error(&ctx.business, Some(at), e))?;
    let mut result = appointment_json(&ctx.business, &a);
    if let Some(o) = result.as_object_mut() {
        o.insert("mutat".into(), json!(true));
    }
    Ok(Outcome {
        reply: ToolReply::Ok(result),
        appointment: Some(a.id),
        recorded,
    })
}
