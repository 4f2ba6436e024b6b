//! The console's pages: server-rendered HTML in Romanian, readable on a phone, a label on
//! every field, no script.

use jiff::civil::Date;
use maud::{DOCTYPE, Markup, html};
use salon_domain::CallRecord;
use salon_domain::call::{CallOutcome, Speaker};
use salon_domain::message::Message;
use salon_domain::{Appointment, AppointmentStatus, Block, Business, PhoneOrigin, Service, Source};

use crate::speech;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;line-height:1.4}\
label{display:block;margin-top:.75rem}input,select{font-size:1rem;padding:.4rem;width:100%;max-width:24rem;box-sizing:border-box}\
button{font-size:1rem;padding:.5rem 1rem;margin-top:1rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ccc;vertical-align:top}\
.error{color:#a00000;font-weight:bold}nav{margin:.5rem 0}nav a,nav strong{margin-right:1rem;display:inline-block;padding:.2rem 0}header{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap}td code{word-break:break-all}.nowrap{white-space:nowrap}.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.5rem;margin:0}.figures div{border:1px solid #ccc;padding:.4rem .6rem}.figures dt{font-size:.9rem}.figures dd{margin:0;font-size:1.3rem;font-weight:bold}@media (max-width:40rem){thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}table,tbody,tr,td{display:block;width:100%}tr{border-bottom:1px solid #ccc;padding:.5rem 0}td{border:0;padding:.1rem 0}td::before{content:attr(data-label) \": \";font-weight:bold}}";

pub(super) fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ro" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Consola salonului" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

/// The sign-in form, with an error when the last attempt failed.
pub(super) fn signin(csrf: &str, error: Option<&str>) -> Markup {
    layout(
        "Autentificare",
        html! {
            main {
                h1 { "Consola salonului" }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/console/signin" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="login" { "Adresa de e-mail" }
                    input id="login" name="login" type="email" autocomplete="username" required;
                    label for="password" { "Parola" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    button type="submit" { "Intră în cont" }
                }
            }
        },
    )
}

/// A page with one sentence (a refusal, an error).
pub(super) fn message(text: &str) -> Markup {
    layout(
        "Consola salonului",
        html! {
            main {
                h1 { "Consola salonului" }
                p role="alert" { (text) }
                p { a href="/console" { "Înapoi la programări" } }
            }
        },
    )
}

/// The top of every page once signed in: the salon's name, signing out, the sections.
pub(super) fn top(b: &Business, csrf: &str) -> Markup {
    html! {
        header {
            h1 { (b.name) }
            form method="post" action="/console/signout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Ieșire" }
            }
        }
        (menu())
    }
}

/// The console's sections.
fn menu() -> Markup {
    html! {
        nav aria-label="Consola" {
            a href="/console" { "Ziua" }
            a href="/console/week" { "Săptămâna" }
            a href="/console/messages" { "Mesaje" }
            a href="/console/clients" { "Clienți" }
            a href="/console/services" { "Servicii" }
            a href="/console/staff" { "Stiliști" }
            a href="/console/schedule" { "Program" }
            a href="/console/analytics" { "Telefonul" }
        }
    }
}

/// A message's id as one segment of a path (ids hold a call SID and the model's call id).
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The messages callers left, newest first; the new ones can be marked done.
pub(super) fn messages(b: &Business, messages: &[Message], csrf: &str) -> Markup {
    let tz = b.time_zone.tz().clone();
    let new = messages.iter().filter(|m| !m.read).count();
    layout(
        "Mesaje",
        html! {
            (top(b, csrf))
            main {
                h2 { "Mesaje" }
                p { (match new { 0 => "Niciun mesaj nou.".to_owned(), 1 => "Un mesaj nou.".to_owned(), n => format!("{n} mesaje noi.") }) }
                @for m in messages {
                    @let at = m.at.to_zoned_datetime(tz.clone());
                    article aria-label={ "Mesaj de la " (m.name.as_deref().unwrap_or("un apelant")) } {
                        h3 {
                            (m.name.as_deref().unwrap_or("Un apelant"))
                            " · " (speech::date(at.date())) ", ora " (at.strftime("%H:%M"))
                        }
                        p {
                            "Telefon: "
                            @if let Some(p) = &m.phone { span.nowrap { (p.national()) } } @else { "ascuns" }
                        }
                        @if let Some(t) = &m.text { p { (t) } }
                        @if let Some(r) = &m.recording {
                            p { "Mesaj vocal de " (r.seconds) " secunde, în contul Twilio al salonului." }
                        }
                        @if m.read {
                            p { "Rezolvat." }
                        } @else {
                            form method="post" action={ "/console/messages/" (segment(&m.id)) "/done" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Marchează ca rezolvat" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One day of a stylist's week: their appointments and blocked time.
pub(super) struct WeekDay {
    pub(super) day: Date,
    pub(super) appointments: Vec<Appointment>,
    pub(super) blocks: Vec<Block>,
}

/// A stylist's week, day by day, with links to the other stylists and weeks.
pub(super) fn week(
    b: &Business,
    stylist: &salon_domain::StaffId,
    days: &[WeekDay],
    csrf: &str,
) -> Markup {
    let tz = b.time_zone.tz().clone();
    let name = b
        .staff_member(stylist)
        .map_or_else(|| stylist.to_string(), |s| s.name.clone());
    let monday = days.first().map(|d| d.day);
    let before = monday.and_then(|m| m.checked_sub(jiff::Span::new().days(7)).ok());
    let after = monday.and_then(|m| m.checked_add(jiff::Span::new().days(7)).ok());
    layout(
        &format!("Săptămâna lui {name}"),
        html! {
            (top(b, csrf))
            nav aria-label="Stiliști" {
                @for s in b.active_staff() {
                    @if &s.id == stylist {
                        strong aria-current="page" { (s.name) } " "
                    } @else if let Some(m) = monday {
                        a href={ "/console/week?stylist=" (s.id) "&date=" (m) } { (s.name) }
                    }
                }
            }
            nav aria-label="Săptămâni" {
                @if let Some(d) = before { a href={ "/console/week?stylist=" (stylist) "&date=" (d) } { "← Săptămâna dinainte" } }
                @if let Some(d) = after { a href={ "/console/week?stylist=" (stylist) "&date=" (d) } { "Săptămâna următoare →" } }
            }
            main {
                h2 { "Săptămâna lui " (name) }
                @for WeekDay { day, appointments, blocks } in days {
                    section aria-labelledby={ "zi-" (day) } {
                        h3 id={ "zi-" (day) } { a href={ "/console?date=" (day) } { (speech::date(*day)) } }
                        @for k in blocks {
                            p {
                                "Timp blocat " span.nowrap { (k.start().to_zoned_datetime(tz.clone()).strftime("%H:%M")) "–" (k.end().to_zoned_datetime(tz.clone()).strftime("%H:%M")) }
                                @if !k.note().is_empty() { " (" (k.note()) ")" }
                            }
                        }
                        @if appointments.is_empty() {
                            p { "Nicio programare." }
                        } @else {
                            ul {
                                @for a in appointments {
                                    @let start = a.start.to_zoned_datetime(tz.clone());
                                    @let end = a.end.to_zoned_datetime(tz.clone());
                                    li {
                                        span.nowrap { (start.strftime("%H:%M")) "–" (end.strftime("%H:%M")) } " "
                                        (a.client_name) ", " (a.service_name)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// How a call ended, in the owner's words.
pub(super) fn outcome(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::EndedByAgent => "încheiat de asistent",
        CallOutcome::Silence => "apelantul nu a mai răspuns",
        CallOutcome::MaxLength => "a atins durata maximă",
        CallOutcome::CallerHungUp => "apelantul a închis",
        CallOutcome::UpstreamFailed => "asistentul nu a putut răspunde",
        CallOutcome::Shutdown => "întrerupt de o actualizare",
        CallOutcome::Transferred => "transferat la salon",
    }
}

/// One call: when, from whom, how it ended, what the agent did and what was said.
pub(super) fn call(b: &Business, r: &CallRecord, retention_days: u32, csrf: &str) -> Markup {
    let tz = b.time_zone.tz().clone();
    let from = r
        .from
        .as_deref()
        .and_then(|f| salon_domain::PhoneE164::parse(f).ok())
        .map_or_else(|| "număr ascuns".to_owned(), |p| p.national());
    layout(
        "Apel",
        html! {
            (top(b, csrf))
            main {
                h2 { "Apel de la " (from) }
                dl {
                    @if let Some(t) = r.started {
                        @let at = t.to_zoned_datetime(tz.clone());
                        dt { "Început" } dd { (speech::date(at.date())) ", ora " (at.strftime("%H:%M")) }
                    }
                    @if let Some(d) = r.duration_seconds { dt { "Durata" } dd { (d) " secunde" } }
                    @if let Some(s) = &r.summary { dt { "Sfârșit" } dd { (outcome(s.outcome)) } }
                    dt { "Programări făcute" } dd { (r.appointments.len()) }
                }
                h3 { "Ce a făcut asistentul" }
                @if r.tool_calls.is_empty() {
                    p { "Nimic în sistemul de programări." }
                } @else {
                    ul {
                        @for t in &r.tool_calls {
                            li { code { (t.name) } ": " @if let Some(e) = &t.error { "refuzat (" (e) ")" } @else { "reușit" } }
                        }
                    }
                }
                h3 { "Ce s-a spus" }
                @match r.summary.as_ref().map(|s| &s.transcript) {
                    Some(lines) if !lines.is_empty() => {
                        ol.transcript {
                            @for l in lines {
                                li {
                                    strong { (match l.speaker { Speaker::Caller => "Apelant", Speaker::Agent => "Asistent" }) ": " }
                                    (l.text)
                                }
                            }
                        }
                    }
                    _ => p { "Transcrierea nu mai este păstrată (se păstrează " (speech::count(retention_days, "zi", "zile")) ")." }
                }
            }
        },
    )
}

/// What the day page's forms need: the session's CSRF token, a fresh key for the new
/// appointment's form (sent twice, it books once), the salon's services.
pub(super) struct NewAppointment<'a> {
    pub(super) csrf: &'a str,
    pub(super) key: &'a str,
    pub(super) services: &'a [Service],
}

/// The salon's book for a day, stylist by stylist, and the form to add an appointment.
pub(super) fn day(
    b: &Business,
    date: Date,
    appointments: &[Appointment],
    blocks: &[Block],
    form: &NewAppointment<'_>,
) -> Markup {
    let csrf = form.csrf;
    let tz = b.time_zone.tz().clone();
    let (prev, next) = (date.yesterday().ok(), date.tomorrow().ok());
    layout(
        &format!("Programări {date}"),
        html! {
            (top(b, csrf))
            nav aria-label="Zile" {
                @if let Some(p) = prev { a href={ "/console?date=" (p) } { "← Ziua dinainte" } }
                @if let Some(n) = next { a href={ "/console?date=" (n) } { "Ziua următoare →" } }
            }
            main {
                h2 { "Programările din " (speech::date(date)) }
                @for s in &b.staff {
                    @let theirs: Vec<&Appointment> = appointments.iter().filter(|a| a.staff == s.id).collect();
                    section aria-labelledby={ "stilist-" (s.id) } {
                        h3 id={ "stilist-" (s.id) } { (s.name) }
                        (blocked(b, blocks.iter().filter(|k| k.staff() == &s.id), csrf))
                        @if theirs.is_empty() {
                            p { "Nicio programare." }
                        } @else {
                            table {
                                thead { tr {
                                    th scope="col" { "Ora" }
                                    th scope="col" { "Client" }
                                    th scope="col" { "Telefon" }
                                    th scope="col" { "Serviciu" }
                                    th scope="col" { "Sursă" }
                                    th scope="col" { "Stare" }
                                    th scope="col" { "Apel" }
                                    th scope="col" { "Acțiuni" }
                                } }
                                tbody {
                                    @for a in theirs {
                                        @let start = a.start.to_zoned_datetime(tz.clone());
                                        @let end = a.end.to_zoned_datetime(tz.clone());
                                        // On a phone each row is a card: the labels come from data-label.
                                        tr {
                                            td.nowrap data-label="Ora" { (start.strftime("%H:%M")) "–" (end.strftime("%H:%M")) }
                                            td data-label="Client" { (a.client_name) }
                                            td data-label="Telefon" {
                                                @match &a.client {
                                                    Some(p) => span.nowrap { (p.national()) },
                                                    None => "fără telefon",
                                                }
                                                @if a.phone_origin == PhoneOrigin::Spoken {
                                                    " (spus la telefon, neverificat)"
                                                }
                                            }
                                            td data-label="Serviciu" { (a.service_name) }
                                            td data-label="Sursă" { (source(a.source)) }
                                            td data-label="Stare" { (status(&a.status)) }
                                            td data-label="Apel" {
                                                @if let Some(c) = &a.call_sid {
                                                    a href={ "/console/calls/" (c) } aria-label={ "Vezi apelul lui " (a.client_name) } { "Vezi apelul" }
                                                } @else { "—" }
                                            }
                                            td data-label="Acțiuni" {
                                                form method="post" action={ "/console/appointments/" (a.id) "/cancel" } {
                                                    input type="hidden" name="csrf" value=(csrf);
                                                    button type="submit" aria-label={ "Anulează programarea lui " (a.client_name) " de la " (start.strftime("%H:%M")) } { "Anulează" }
                                                }
                                                (move_form(b, a, date, csrf))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (new_appointment(b, date, form))
                (block_form(b, date, csrf))
            }
        },
    )
}

/// Moving an appointment: another day, time and (if need be) stylist, folded away until asked.
fn move_form(b: &Business, a: &Appointment, date: Date, csrf: &str) -> Markup {
    let id = a.id.as_str();
    html! {
        details {
            summary { "Mută" }
            form method="post" action={ "/console/appointments/" (id) "/move" } {
                input type="hidden" name="csrf" value=(csrf);
                label for={ "mut-data-" (id) } { "Ziua" }
                input id={ "mut-data-" (id) } name="date" type="date" value=(date) required;
                label for={ "mut-ora-" (id) } { "Ora" }
                input id={ "mut-ora-" (id) } name="time" type="time" step="900" required;
                label for={ "mut-stilist-" (id) } { "Stilistul" }
                select id={ "mut-stilist-" (id) } name="stylist" {
                    option value="" { "Același" }
                    @for s in b.active_staff() {
                        option value=(s.id) { (s.name) }
                    }
                }
                button type="submit" aria-label={ "Mută programarea lui " (a.client_name) } { "Mută" }
            }
        }
    }
}

/// A stylist's blocked time on the day, each with the button that frees it.
fn blocked<'a>(b: &Business, blocks: impl Iterator<Item = &'a Block>, csrf: &str) -> Markup {
    let tz = b.time_zone.tz().clone();
    html! {
        @for k in blocks {
            @let (from, to) = (k.start().to_zoned_datetime(tz.clone()).strftime("%H:%M").to_string(), k.end().to_zoned_datetime(tz.clone()).strftime("%H:%M").to_string());
            p {
                "Timp blocat " span.nowrap { (from) "–" (to) }
                @if !k.note().is_empty() { " (" (k.note()) ")" }
                form method="post" action={ "/console/blocks/" (k.id()) "/remove" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" aria-label={ "Deblochează " (from) "–" (to) } { "Deblochează" }
                }
            }
        }
    }
}

/// The form that blocks a stylist's time on the day shown (a break, an errand).
fn block_form(b: &Business, date: Date, csrf: &str) -> Markup {
    html! {
        section aria-labelledby="blocheaza" {
            h2 id="blocheaza" { "Blochează timp" }
            form method="post" action="/console/blocks" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="date" value=(date);
                label for="block-stylist" { "Stilistul" }
                select id="block-stylist" name="stylist" required {
                    @for s in b.active_staff() {
                        option value=(s.id) { (s.name) }
                    }
                }
                label for="block-from" { "De la ora" }
                input id="block-from" name="from" type="time" step="900" required;
                label for="block-to" { "Până la ora" }
                input id="block-to" name="to" type="time" step="900" required;
                label for="block-note" { "Notă (opțional)" }
                input id="block-note" name="note" type="text" maxlength="100" autocomplete="off";
                button type="submit" { "Blochează" }
            }
        }
    }
}

/// The form that adds an appointment by hand on the day shown.
fn new_appointment(b: &Business, date: Date, form: &NewAppointment<'_>) -> Markup {
    html! {
        section aria-labelledby="programare-noua" {
            h2 id="programare-noua" { "Programare nouă" }
            form method="post" action="/console/appointments" {
                input type="hidden" name="csrf" value=(form.csrf);
                input type="hidden" name="key" value=(form.key);
                input type="hidden" name="date" value=(date);
                label for="time" { "Ora" }
                input id="time" name="time" type="time" step="900" required;
                label for="service" { "Serviciul" }
                select id="service" name="service" required {
                    @for s in form.services.iter().filter(|s| s.active) {
                        option value=(s.id) { (s.name) }
                    }
                }
                label for="stylist" { "Stilistul" }
                select id="stylist" name="stylist" {
                    option value="" { "Oricine este liber" }
                    @for s in b.active_staff() {
                        option value=(s.id) { (s.name) }
                    }
                }
                label for="client_name" { "Numele clientului" }
                input id="client_name" name="client_name" type="text" autocomplete="off" required;
                label for="phone" { "Telefonul clientului (gol pentru un client fără telefon)" }
                input id="phone" name="phone" type="tel" autocomplete="off";
                button type="submit" { "Adaugă programarea" }
            }
        }
    }
}

pub(super) fn source(s: Source) -> &'static str {
    match s {
        Source::Voice => "asistentul vocal",
        Source::Manual => "introdusă manual",
    }
}

pub(super) fn status(s: &AppointmentStatus) -> &'static str {
    match s {
        AppointmentStatus::Booked => "programat",
        AppointmentStatus::Cancelled { .. } => "anulat",
    }
}
