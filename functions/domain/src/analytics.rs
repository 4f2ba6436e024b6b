//! How the phone is doing, from the call records: calls per day and per hour of the week,
//! conversion, the services booked by phone, call length, tool-call success, barge-ins and
//! reconnects, tokens and an estimated OpenAI cost. Pure: the store reads the calls, the
//! console and the terminal script show the same [`Figures`].

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::call::{CallOutcome, CallRecord, TokenUsage};

/// Why a price list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "prices are name=USD per million tokens, separated by commas, with names audio_in, audio_out, text_in, text_out, cached_in; got {0:?}"
)]
pub struct PricesError(pub String);

/// OpenAI's prices per million tokens, in thousandths of a US dollar (so no float rounds a
/// sum). They change: configuration sets them (`OPENAI_PRICES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prices {
    pub audio_in: u64,
    pub audio_out: u64,
    pub text_in: u64,
    pub text_out: u64,
    /// Cached input, audio or text (one price for both on gpt-realtime).
    pub cached_in: u64,
}

impl Default for Prices {
    /// gpt-realtime's list prices when it became generally available (August 2025): audio
    /// $32 in and $64 out, text $4 in and $16 out, cached input $0.40, per million tokens.
    fn default() -> Self {
        Self {
            audio_in: 32_000,
            audio_out: 64_000,
            text_in: 4_000,
            text_out: 16_000,
            cached_in: 400,
        }
    }
}

impl Prices {
    /// Reads `audio_in=32,audio_out=64,text_in=4,text_out=16,cached_in=0.4` (US dollars per
    /// million tokens); a name left out keeps its default.
    pub fn parse(s: &str) -> Result<Self, PricesError> {
        let wrong = || PricesError(s.to_owned());
        let mut p = Self::default();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(wrong)?;
            let milli = dollars_to_milli(value.trim()).ok_or_else(wrong)?;
            let slot = match name.trim() {
                "audio_in" => &mut p.audio_in,
                "audio_out" => &mut p.audio_out,
                "text_in" => &mut p.text_in,
                "text_out" => &mut p.text_out,
                "cached_in" => &mut p.cached_in,
                _ => return Err(wrong()),
            };
            *slot = milli;
        }
        Ok(p)
    }

    /// The estimated cost of a call's tokens, in billionths of a dollar. The usage does not
    /// say which cached tokens were audio: they are priced at the one cached price, and taken
    /// from audio and text in proportion.
    pub fn nano_dollars(&self, u: &TokenUsage) -> u64 {
        let input = u.input_tokens.max(u.input_audio_tokens);
        let text_in = input - u.input_audio_tokens;
        let cached = u.cached_input_tokens.min(input);
        let cached_audio = (cached * u.input_audio_tokens)
            .checked_div(input)
            .unwrap_or(0);
        let cached_text = cached - cached_audio;
        let text_out = u.output_tokens.saturating_sub(u.output_audio_tokens);
        // tokens × (milli-dollars per million tokens) = nano-dollars.
        (u.input_audio_tokens - cached_audio) * self.audio_in
            + (text_in - cached_text.min(text_in)) * self.text_in
            + cached * self.cached_in
            + u.output_audio_tokens * self.audio_out
            + text_out * self.text_out
    }
}

/// "0.4" or "32" dollars as thousandths; at most three decimals.
fn dollars_to_milli(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || frac.len() > 3 {
        return None;
    }
    if !whole
        .bytes()
        .chain(frac.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = format!("{frac:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(frac)
}

/// One call as analytics reads it: its record, and the services it booked.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    pub record: &'a CallRecord,
    /// The names of the services its bookings were for.
    pub booked: Vec<String>,
}

/// How one tool did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolFigures {
    pub name: String,
    pub calls: u32,
    pub succeeded: u32,
}

/// The figures of the calls from `from` to `to` (local dates, both included).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub from: Date,
    pub to: Date,
    pub calls: u32,
    /// Calls that booked at least one appointment.
    pub booked_calls: u32,
    /// `booked_calls` of `calls`, in whole percent.
    pub conversion_percent: u32,
    /// Each day of the range, with its calls.
    pub per_day: Vec<(Date, u32)>,
    /// Calls by weekday (Monday first) and hour, local time.
    pub per_hour: [[u32; 24]; 7],
    /// Services booked by phone, most first (ties by name).
    pub services: Vec<(String, u32)>,
    /// The average call, in seconds (Twilio's billed length, else the stream's).
    pub average_seconds: Option<u32>,
    pub tools: Vec<ToolFigures>,
    /// Per call, in hundredths (a call-weighted average).
    pub barge_ins_per_call_centi: u32,
    pub reconnects_per_call_centi: u32,
    /// How the calls ended, by the relay's outcome.
    pub outcomes: Vec<(CallOutcome, u32)>,
    pub tokens: TokenUsage,
    /// Estimated OpenAI cost, in billionths of a dollar: all calls, per call, per booking.
    pub cost_nano_dollars: u64,
    pub cost_per_call_nano_dollars: Option<u64>,
    pub cost_per_booking_nano_dollars: Option<u64>,
}

/// Computes the figures of the calls that began on local dates `from..=to` in `tz`; calls
/// outside the range, or with no start, are left out.
pub fn figures(
    calls: &[CallFacts<'_>],
    tz: &TimeZone,
    from: Date,
    to: Date,
    prices: &Prices,
) -> Figures {
    let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        per_day.insert(day, 0);
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    let mut f = Figures {
        from,
        to,
        calls: 0,
        booked_calls: 0,
        conversion_percent: 0,
        per_day: Vec::new(),
        per_hour: [[0; 24]; 7],
        services: Vec::new(),
        average_seconds: None,
        tools: Vec::new(),
        barge_ins_per_call_centi: 0,
        reconnects_per_call_centi: 0,
        outcomes: Vec::new(),
        tokens: TokenUsage::default(),
        cost_nano_dollars: 0,
        cost_per_call_nano_dollars: None,
        cost_per_booking_nano_dollars: None,
    };
    let (mut services, mut tools, mut outcomes) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    let (mut seconds, mut timed, mut barge_ins, mut reconnects) = (0u64, 0u64, 0u64, 0u64);
    for c in calls {
        let r = c.record;
        let Some(started) = r.started else { continue };
        let local = started.to_zoned_datetime(tz.clone());
        let Some(count) = per_day.get_mut(&local.date()) else {
            continue;
        };
        *count += 1;
        f.calls += 1;
        let weekday = local.weekday().to_monday_zero_offset() as usize;
        f.per_hour[weekday][local.hour() as usize] += 1;
        if !r.appointments.is_empty() {
            f.booked_calls += 1;
        }
        for s in &c.booked {
            *services.entry(s.clone()).or_insert(0u32) += 1;
        }
        let length = r
            .duration_seconds
            .or(r.summary.as_ref().map(|s| s.stream_seconds));
        if let Some(l) = length {
            seconds += u64::from(l);
            timed += 1;
        }
        for t in &r.tool_calls {
            let e: &mut (u32, u32) = tools.entry(t.name.clone()).or_default();
            e.0 += 1;
            e.1 += u32::from(t.error.is_none());
        }
        if let Some(s) = &r.summary {
            barge_ins += u64::from(s.barge_ins);
            reconnects += u64::from(s.reconnects);
            f.tokens.add(&s.usage);
            f.cost_nano_dollars += prices.nano_dollars(&s.usage);
            match outcomes.iter_mut().find(|(o, _)| *o == s.outcome) {
                Some((_, n)) => *n += 1,
                None => outcomes.push((s.outcome, 1)),
            }
        }
    }
    let calls = u64::from(f.calls);
    f.per_day = per_day.into_iter().collect();
    f.conversion_percent = (u64::from(f.booked_calls) * 100)
        .checked_div(calls)
        .unwrap_or(0) as u32;
    f.average_seconds = seconds.checked_div(timed).map(|s| s as u32);
    f.barge_ins_per_call_centi = (barge_ins * 100).checked_div(calls).unwrap_or(0) as u32;
    f.reconnects_per_call_centi = (reconnects * 100).checked_div(calls).unwrap_or(0) as u32;
    f.cost_per_call_nano_dollars = f.cost_nano_dollars.checked_div(calls);
    f.cost_per_booking_nano_dollars = f.cost_nano_dollars.checked_div(u64::from(f.booked_calls));
    let mut services: Vec<(String, u32)> = services.into_iter().collect();
    services.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    f.services = services;
    f.tools = tools
        .into_iter()
        .map(|(name, (calls, succeeded))| ToolFigures {
            name,
            calls,
            succeeded,
        })
        .collect();
    outcomes.sort_by_key(|o| std::cmp::Reverse(o.1));
    f.outcomes = outcomes;
    f
}

/// Billionths of a dollar as dollars, to the hundredth of a cent: "$0.1234".
pub fn dollars(nano: u64) -> String {
    let tenth_millis = (nano + 50_000) / 100_000;
    format!("${}.{:04}", tenth_millis / 10_000, tenth_millis % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{CallEvent, CallSummary, ToolCallRecord};
    use crate::ids::{AppointmentId, BusinessId, CallSid};
    use jiff::Timestamp;

    fn call(n: u32, at: &str, seconds: u32, booked: bool, usage: TokenUsage) -> CallRecord {
        let mut r = CallRecord::new(CallSid::parse(format!("CA{n:032x}")).unwrap());
        let at: Timestamp = at.parse().unwrap();
        r.apply(&CallEvent::Started {
            business: BusinessId::parse("salon-demo").unwrap(),
            from: "+40722000001".into(),
            to: "+40312345678".into(),
            at,
        });
        r.duration_seconds = Some(seconds);
        r.apply(&CallEvent::ToolCall(ToolCallRecord {
            name: "check_availability".into(),
            call_id: format!("c{n}"),
            error: n.is_multiple_of(2).then(|| "closed".into()),
            at,
            millis: 40,
        }));
        if booked {
            r.apply(&CallEvent::Appointment(
                AppointmentId::parse(format!("a{n}")).unwrap(),
            ));
        }
        r.apply(&CallEvent::Summary {
            summary: CallSummary {
                outcome: CallOutcome::EndedByAgent,
                stream_seconds: seconds,
                usage,
                barge_ins: n,
                reconnects: 0,
                transcript: Vec::new(),
            },
            at,
        });
        r
    }

    fn usage(audio_in: u64, audio_out: u64) -> TokenUsage {
        TokenUsage {
            input_tokens: audio_in + 1000,
            output_tokens: audio_out + 100,
            input_audio_tokens: audio_in,
            output_audio_tokens: audio_out,
            cached_input_tokens: 0,
        }
    }

    #[test]
    fn figures_count_calls_by_day_and_hour_and_price_their_tokens() {
        let tz = TimeZone::get("Europe/Bucharest").unwrap();
        let records = [
            // Monday 14 December, 10:05 and 10:40 local; Tuesday 17:00; one before the range.
            call(1, "2026-12-14T08:05:00Z", 60, true, usage(1000, 2000)),
            call(2, "2026-12-14T08:40:00Z", 120, false, usage(500, 500)),
            call(3, "2026-12-15T15:00:00Z", 90, true, usage(0, 0)),
            call(4, "2026-12-13T08:00:00Z", 30, true, usage(0, 0)),
        ];
        let facts: Vec<CallFacts<'_>> = records
            .iter()
            .map(|r| CallFacts {
                record: r,
                booked: if r.appointments.is_empty() {
                    Vec::new()
                } else {
                    vec!["Tuns".to_owned()]
                },
            })
            .collect();
        let f = figures(
            &facts,
            &tz,
            "2026-12-14".parse().unwrap(),
            "2026-12-16".parse().unwrap(),
            &Prices::default(),
        );
        assert_eq!((f.calls, f.booked_calls, f.conversion_percent), (3, 2, 66));
        let days: Vec<u32> = f.per_day.iter().map(|d| d.1).collect();
        assert_eq!(days, [2, 1, 0]);
        assert_eq!(f.per_hour[0][10], 2, "Monday 10:00 local");
        assert_eq!(f.per_hour[1][17], 1, "Tuesday 17:00 local");
        assert_eq!(f.services, vec![("Tuns".to_owned(), 2)]);
        assert_eq!(f.average_seconds, Some(90));
        assert_eq!(
            f.tools,
            vec![ToolFigures {
                name: "check_availability".into(),
                calls: 3,
                succeeded: 2
            }]
        );
        assert_eq!(f.barge_ins_per_call_centi, 200);
        // Call 1: 1000 audio in at $32/M, 1000 text in at $4/M, 2000 audio out at $64/M,
        // 100 text out at $16/M = 0.032 + 0.004 + 0.128 + 0.0016 = $0.1656.
        let one = Prices::default().nano_dollars(&usage(1000, 2000));
        assert_eq!(one, 165_600_000);
        assert_eq!(dollars(one), "$0.1656");
        assert_eq!(
            f.cost_per_booking_nano_dollars,
            Some(f.cost_nano_dollars / 2)
        );
    }

    #[test]
    fn cached_tokens_cost_the_cached_price() {
        let p = Prices::default();
        let u = TokenUsage {
            input_tokens: 2000,
            input_audio_tokens: 1000,
            cached_input_tokens: 1000,
            ..TokenUsage::default()
        };
        // Half the cache audio, half text: 500 × 32 + 500 × 4 + 1000 × 0.4 (milli-$/M).
        assert_eq!(p.nano_dollars(&u), 500 * 32_000 + 500 * 4_000 + 1000 * 400);
    }

    #[test]
    fn prices_are_configuration() {
        let p = Prices::parse("audio_in=40, cached_in=2.5").unwrap();
        assert_eq!((p.audio_in, p.cached_in, p.text_in), (40_000, 2_500, 4_000));
        for bad in ["audio_in", "audio_in=x", "video=3", "text_in=0.0001"] {
            assert!(Prices::parse(bad).is_err(), "{bad}");
        }
    }
}
