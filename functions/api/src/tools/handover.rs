//! When the agent cannot help: a person at the salon, or a message for them.

use super::*;

/// Whether a person can take the call now: the salon has a phone for it and is open.
pub(super) fn transfer(ctx: &CallContext, arguments: &str) -> Result<ToolReply, ToolReply> {
    let _: TransferToHuman = parse(arguments)?;
    let b = &ctx.business;
    if b.person_phone.is_some() && salon_domain::availability::open_at(b, ctx.now) {
        return Ok(ToolReply::Ok(json!({
            TRANSFER_FIELD: true,
            "spune": "Vă fac legătura cu salonul, vă rog să rămâneți la telefon.",
        })));
    }
    let why = match b.person_phone {
        Some(_) => "Salonul este închis acum și nu are cine să răspundă.",
        None => "La salon nu poate prelua nimeni apelul acum.",
    };
    Err(fail(
        ToolErrorCode::TransferUnavailable,
        format!(
            "{why} Spune-i apelantului că nu îi poți face legătura și oferă-te să notezi un mesaj: numele și ce dorește; salonul îl sună înapoi. Citește-i mesajul înapoi, apoi apelează take_message."
        ),
    ))
}

/// Keeps a message for the salon, once per tool call.
pub(super) async fn take_message(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let args: TakeMessage = parse(arguments)?;
    let name = ClientName::parse(args.name.as_str()).map_err(|e| {
        tracing::info!(error = %e, "a name in a message was refused");
        fail(
            ToolErrorCode::InvalidName,
            "Nu am înțeles bine numele. Mi-l puteți spune din nou?",
        )
    })?;
    let (phone, _) = booking_phone(ctx, text(&args.phone)).map_err(|_| {
        fail(
            ToolErrorCode::InvalidPhone,
            "Numărul dumneavoastră nu este afișat. La ce număr să vă sune salonul?",
        )
    })?;
    let key = IdempotencyKey::parse(salon_wire::idempotency_key(ctx.call_sid.as_str(), call_id))
        .map_err(|_| {
            fail(
                ToolErrorCode::InvalidArguments,
                "Nu am putut înregistra mesajul.",
            )
        })?;
    let message = salon_domain::message::Message {
        id: key.to_string(),
        business: ctx.business.id.clone(),
        call_sid: ctx.call_sid.clone(),
        phone: Some(phone),
        name: Some(name.as_str().to_owned()),
        text: Some(args.message.as_str().to_owned()),
        recording: None,
        at: ctx.now,
        read: false,
    };
    store.leave_message(&message).await.map_err(store_down)?;
    Ok(ToolReply::Ok(json!({
        "notat": true,
        "spune": "Am notat mesajul. Salonul vă sună înapoi cât de curând.",
    })))
}
