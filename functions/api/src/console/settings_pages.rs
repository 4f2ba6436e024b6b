//! The settings pages: services, stylists, the salon's hours, closed days and holidays.

use jiff::civil::{Date, Time};
use maud::{Markup, html};
use salon_domain::holidays::romanian_holidays;
use salon_domain::{Appointment, Business, Service, Staff, WeeklyHours};

use super::forms::{DAYS, price_text};
use super::pages::{layout, top};
use crate::speech;

/// The services, each with its form, and the form that adds one.
pub(super) fn services(b: &Business, list: &[Service], csrf: &str) -> Markup {
    layout(
        "Servicii",
        html! {
            (top(b, csrf))
            main {
                h2 { "Servicii" }
                @for s in list {
                    section aria-labelledby={ "serviciu-" (s.id) } {
                        h3 id={ "serviciu-" (s.id) } {
                            (s.name)
                            @if !s.active { " (nu se mai oferă)" }
                        }
                        p { (s.duration.get()) " minute, " (s.price) }
                        form method="post" action={ "/console/services/" (s.id) } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for={ "durata-" (s.id) } { "Durata (minute)" }
                            input id={ "durata-" (s.id) } name="minutes" type="number" min="5" max="480" step="5" value=(s.duration.get()) required;
                            label for={ "pret-" (s.id) } { "Prețul (lei)" }
                            input id={ "pret-" (s.id) } name="price" type="text" inputmode="decimal" value=(price_text(s.price)) required;
                            label for={ "activ-" (s.id) } {
                                input id={ "activ-" (s.id) } name="active" type="checkbox" checked[s.active] style="width:auto";
                                " Se oferă (clienții îl pot programa)"
                            }
                            button type="submit" aria-label={ "Salvează " (s.name) } { "Salvează" }
                        }
                    }
                }
                section aria-labelledby="serviciu-nou" {
                    h2 id="serviciu-nou" { "Serviciu nou" }
                    form method="post" action="/console/services" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="nume-serviciu" { "Numele (cum îl spun clienții)" }
                        input id="nume-serviciu" name="name" type="text" maxlength="60" required;
                        label for="categorie-serviciu" { "Categoria (opțional)" }
                        input id="categorie-serviciu" name="category" type="text" maxlength="60";
                        label for="durata-noua" { "Durata (minute)" }
                        input id="durata-noua" name="minutes" type="number" min="5" max="480" step="5" required;
                        label for="pret-nou" { "Prețul (lei)" }
                        input id="pret-nou" name="price" type="text" inputmode="decimal" required;
                        button type="submit" { "Adaugă serviciul" }
                    }
                }
            }
        },
    )
}

/// One day's time fields, with the values of `hours` (empty when closed).
fn day_fields(hours: Option<&WeeklyHours>, prefix: &str) -> Markup {
    let t = |v: Option<Time>| {
        v.map(|t| t.strftime("%H:%M").to_string())
            .unwrap_or_default()
    };
    html! {
        table {
            thead { tr {
                th scope="col" { "Ziua" }
                th scope="col" { "Deschis de la" }
                th scope="col" { "Până la" }
                th scope="col" { "Pauză de la" }
                th scope="col" { "Până la" }
            } }
            tbody {
                @for (day, key, name) in DAYS {
                    @let h = hours.and_then(|w| w.on(day));
                    @let id = |what: &str| format!("{prefix}-{key}-{what}");
                    tr {
                        th scope="row" { (name) }
                        td data-label="Deschis de la" {
                            input id=(id("open")) name={ (key) "_open" } type="time" step="900" value=(t(h.map(|h| h.open()))) aria-label={ (name) ", de la" };
                        }
                        td data-label="Până la" {
                            input id=(id("close")) name={ (key) "_close" } type="time" step="900" value=(t(h.map(|h| h.close()))) aria-label={ (name) ", până la" };
                        }
                        td data-label="Pauză de la" {
                            input id=(id("break-start")) name={ (key) "_break_start" } type="time" step="900" value=(t(h.and_then(|h| h.pause()).map(|p| p.start))) aria-label={ (name) ", pauză de la" };
                        }
                        td data-label="Până la" {
                            input id=(id("break-end")) name={ (key) "_break_end" } type="time" step="900" value=(t(h.and_then(|h| h.pause()).map(|p| p.end))) aria-label={ (name) ", pauză până la" };
                        }
                    }
                }
            }
        }
        p { "Lăsați ambele ore goale într-o zi liberă." }
    }
}

/// The stylists: each one's hours (the salon's or their own), whether they take bookings, and
/// their absences with the form that adds one.
pub(super) fn staff(b: &Business, services: &[Service], today: Date, csrf: &str) -> Markup {
    layout(
        "Stiliști",
        html! {
            (top(b, csrf))
            main {
                h2 { "Stiliști" }
                @for s in &b.staff {
                    (stylist(b, s, services, today, csrf))
                }
                section aria-labelledby="stilist-nou" {
                    h2 id="stilist-nou" { "Stilist nou" }
                    form method="post" action="/console/staff" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="nume-stilist" { "Numele (cum îl spun clienții)" }
                        input id="nume-stilist" name="name" type="text" maxlength="40" required;
                        button type="submit" { "Adaugă stilistul" }
                    }
                }
            }
        },
    )
}

fn stylist(b: &Business, s: &Staff, services: &[Service], today: Date, csrf: &str) -> Markup {
    let id = s.id.as_str();
    html! {
        section aria-labelledby={ "stilist-" (id) } {
            h3 id={ "stilist-" (id) } { (s.name) @if !s.active { " (nu primește programări)" } }
            form method="post" action={ "/console/staff/" (id) "/hours" } {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { "Programul lui " (s.name) }
                    label for={ "salon-" (id) } {
                        input id={ "salon-" (id) } type="radio" name="hours" value="salon" checked[s.hours.is_none()] style="width:auto";
                        " Programul salonului"
                    }
                    label for={ "propriu-" (id) } {
                        input id={ "propriu-" (id) } type="radio" name="hours" value="own" checked[s.hours.is_some()] style="width:auto";
                        " Program propriu, cel de mai jos"
                    }
                    (day_fields(Some(s.hours.as_ref().unwrap_or(&b.hours)), id))
                }
                fieldset {
                    legend { "Serviciile pe care le face " (s.name) }
                    @for svc in services {
                        label for={ "svc-" (id) "-" (svc.id) } {
                            input id={ "svc-" (id) "-" (svc.id) } name={ "svc_" (svc.id) } type="checkbox" checked[s.does(&svc.id)] style="width:auto";
                            " " (svc.name)
                        }
                    }
                }
                label for={ "activ-" (id) } {
                    input id={ "activ-" (id) } name="active" type="checkbox" checked[s.active] style="width:auto";
                    " Primește programări"
                }
                button type="submit" aria-label={ "Salvează programul lui " (s.name) } { "Salvează" }
            }
            h4 { "Absențe" }
            @let coming: Vec<_> = s.absences.iter().filter(|a| a.to() >= today).collect();
            @if coming.is_empty() {
                p { "Nicio absență în viitor." }
            } @else {
                ul {
                    @for a in coming {
                        li {
                            (speech::date(a.from()))
                            @if a.to() != a.from() { " – " (speech::date(a.to())) }
                            @if !a.reason().is_empty() { " (" (a.reason()) ")" }
                            form method="post" action={ "/console/staff/" (id) "/absences/remove" } {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="from" value=(a.from());
                                input type="hidden" name="to" value=(a.to());
                                button type="submit" aria-label={ "Șterge absența lui " (s.name) " din " (speech::date(a.from())) } { "Șterge" }
                            }
                        }
                    }
                }
            }
            details {
                summary { "Adaugă o absență pentru " (s.name) }
                form method="post" action={ "/console/staff/" (id) "/absences" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for={ "abs-de-" (id) } { "Din ziua" }
                    input id={ "abs-de-" (id) } name="from" type="date" required;
                    label for={ "abs-pana-" (id) } { "Până în ziua (inclusiv)" }
                    input id={ "abs-pana-" (id) } name="to" type="date" required;
                    label for={ "abs-motiv-" (id) } { "Motivul (doar pentru salon)" }
                    input id={ "abs-motiv-" (id) } name="reason" type="text" maxlength="200";
                    button type="submit" aria-label={ "Adaugă absența lui " (s.name) } { "Adaugă absența" }
                }
            }
        }
    }
}

/// After an absence was added: the appointments already booked those days, which stay booked
/// until the owner moves or cancels them.
pub(super) fn booked_while_away(b: &Business, booked: &[Appointment], csrf: &str) -> Markup {
    let tz = b.time_zone.tz().clone();
    layout(
        "Absență adăugată",
        html! {
            (top(b, csrf))
            main {
                h2 { "Absența a fost adăugată" }
                p role="alert" { "Aceste programări rămân până le mutați sau le anulați:" }
                ul {
                    @for a in booked {
                        @let at = a.start.to_zoned_datetime(tz.clone());
                        li {
                            a href={ "/console?date=" (at.date()) } {
                                (speech::date(at.date())) ", ora " (at.strftime("%H:%M"))
                            }
                            " – " (a.client_name) ", " (a.service_name)
                        }
                    }
                }
            }
        },
    )
}

/// The salon's weekly hours, its closed days, and the public holidays of this year and the
/// next, each of which it can open.
pub(super) fn schedule(b: &Business, today: Date, csrf: &str) -> Markup {
    let holidays: Vec<_> = [today.year(), today.year() + 1]
        .into_iter()
        .flat_map(romanian_holidays)
        .filter(|h| h.date >= today)
        .collect();
    layout(
        "Programul salonului",
        html! {
            (top(b, csrf))
            main {
                h2 { "Programul salonului" }
                form method="post" action="/console/schedule/hours" {
                    input type="hidden" name="csrf" value=(csrf);
                    (day_fields(Some(&b.hours), "salon"))
                    button type="submit" { "Salvează programul" }
                }
                h2 { "Zile închise" }
                @let closed: Vec<_> = b.closures.dates.iter().filter(|c| c.date >= today).collect();
                @if closed.is_empty() {
                    p { "Nicio zi închisă în viitor, în afara sărbătorilor legale." }
                } @else {
                    ul {
                        @for c in closed {
                            li {
                                (speech::date(c.date)) " (" (c.reason) ")"
                                form method="post" action={ "/console/schedule/days/" (c.date) "/open" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" aria-label={ "Redeschide " (speech::date(c.date)) } { "Redeschide" }
                                }
                            }
                        }
                    }
                }
                form method="post" action="/console/schedule/days" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="inchis-data" { "Închis în ziua" }
                    input id="inchis-data" name="date" type="date" required;
                    label for="inchis-motiv" { "Motivul (asistentul îl poate spune)" }
                    input id="inchis-motiv" name="reason" type="text" maxlength="100" required;
                    button type="submit" { "Închide ziua" }
                }
                h2 { "Sărbători legale" }
                @if !b.closures.romanian_holidays {
                    p { "Salonul lucrează în sărbătorile legale." }
                } @else {
                    p { "Salonul este închis în sărbătorile legale, afară de cele deschise aici." }
                    table {
                        thead { tr { th scope="col" { "Ziua" } th scope="col" { "Sărbătoarea" } th scope="col" { "Salonul" } } }
                        tbody {
                            @for h in holidays {
                                @let open = b.closures.open_holidays.contains(&h.date);
                                tr {
                                    td data-label="Ziua" { (speech::date(h.date)) }
                                    td data-label="Sărbătoarea" { (h.name) }
                                    td data-label="Salonul" {
                                        @if open {
                                            "deschis "
                                            form method="post" action={ "/console/schedule/holidays/" (h.date) "/close" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                button type="submit" aria-label={ "Închide de " (h.name) } { "Închide" }
                                            }
                                        } @else {
                                            "închis "
                                            form method="post" action={ "/console/schedule/days/" (h.date) "/open" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                button type="submit" aria-label={ "Deschide de " (h.name) } { "Deschide" }
                                            }
                                        }
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
