//! `join_waitlist`: a caller who cannot get the day they want is told by text if a time frees
//! up that day. Only in a salon that sends texts (the offer is a text), and only under a caller
//! ID (a number said could be anyone's, and the text would go to them).

use salon_domain::{ClientName, IdempotencyKey, WaitlistEntry, Window};
use salon_wire::tool_args::JoinWaitlist;
use salon_wire::tools::ToolErrorCode;
use serde_json::json;

use super::{
    CallContext, ToolReply, booking_error, fail, parse, parse_date, parse_time, services_of,
    staff_name, store_down, stylist_of, text,
};
use crate::speech;
use salon_store::Store;

pub(super) async fn join(
    store: &Store,
    ctx: &CallContext,
    call_id: &str,
    arguments: &str,
) -> Result<ToolReply, ToolReply> {
    let args: JoinWaitlist = parse(arguments)?;
    let b = &ctx.business;
    if !b.sms_confirmations {
        return Err(fail(
            ToolErrorCode::NoWaitlist,
            "Salonul nu are listă de așteptare. Vă pot propune altă zi sau vă pot lăsa un mesaj pentru salon.",
        ));
    }
    let Some(client) = ctx.caller.clone() else {
        return Err(fail(
            ToolErrorCode::NoWaitlist,
            "Numărul dumneavoastră nu este afișat, așa că nu vă putem trimite un mesaj dacă se eliberează un loc. Vă pot propune altă zi.",
        ));
    };
    let date = parse_date(args.date.as_str())?;
    let today = ctx.now.to_zoned_datetime(b.time_zone.tz().clone()).date();
    if date < today {
        return Err(fail(
            ToolErrorCode::InvalidDateTime,
            "Ziua aceasta a trecut deja. Ce zi doriți?",
        ));
    }
    let window = match (text(&args.from), text(&args.until)) {
        (None, None) => Window::all_day(),
        (from, until) => {
            let from = from.map_or(Ok(jiff::civil::Time::midnight()), parse_time)?;
            let until = until.map_or(Ok(jiff::civil::Time::MAX), parse_time)?;
            Window::new(from, until).map_err(|_| {
                fail(
                    ToolErrorCode::InvalidDateTime,
                    "Intervalul nu este bun: ora de început trebuie să fie cel târziu ora de sfârșit.",
                )
            })?
        }
    };
    let all = store.services(&b.id).await.map_err(store_down)?;
    let chosen = services_of(&all, args.service.as_str())?;
    let staff = stylist_of(b, text(&args.stylist))?.named().cloned();
    let client_name = match text(&args.client_name) {
        Some(n) => ClientName::parse(n)
            .map_err(|_| {
                fail(
                    ToolErrorCode::InvalidName,
                    "Nu am înțeles bine numele. Mi-l puteți spune din nou?",
                )
            })?
            .as_str()
            .to_owned(),
        None => match store.client(&b.id, &client).await.map_err(store_down)? {
            Some(c) => c.name,
            None => {
                return Err(fail(
                    ToolErrorCode::NameRequired,
                    "Pe ce nume să vă trec pe listă?",
                ));
            }
        },
    };
    let key = IdempotencyKey::parse(salon_wire::idempotency_key(ctx.call_sid.as_str(), call_id))
        .map_err(|_| {
            fail(
                ToolErrorCode::InvalidArguments,
                "Nu v-am putut trece pe listă.",
            )
        })?;
    let entry = WaitlistEntry {
        id: key.to_string(),
        business: b.id.clone(),
        client,
        client_name,
        service: chosen.first.id.clone(),
        more: chosen.more_ids(),
        service_name: chosen.name(),
        staff,
        date,
        window,
        call_sid: ctx.call_sid.clone(),
        created: ctx.now,
        offer: None,
    };
    let kept = store
        .join_waitlist(&entry)
        .await
        .map_err(|e| booking_error(b, None, e))?;
    let who = kept
        .staff
        .as_ref()
        .map(|s| format!(" cu {}", staff_name(b, s)))
        .unwrap_or_default();
    Ok(ToolReply::Ok(json!({
        "pe_lista": true,
        "serviciu": kept.service_name,
        "data": kept.date.to_string(),
        "spune": format!(
            "V-am trecut pe lista de așteptare pentru {}{who}, {}. Dacă se eliberează un loc, vă trimitem un SMS; programarea o faceți sunându-ne.",
            kept.service_name.to_lowercase(),
            speech::date(kept.date)
        ),
    })))
}
