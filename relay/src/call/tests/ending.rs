//! How a call ends: `end_call`, goodbyes (silence, maximum length, shutdown) and what they wait
//! for, and the transfer to a person.

use super::*;

#[test]
fn end_call_ends_the_call_only_after_the_goodbyes_last_mark() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    let mut names = marks(&h.event(&delta("bye", 100)));
    let call = h.event(&function_call("end_call", "call_9"));
    assert!(call.is_empty(), "end_call is the relay's own: {call:?}");
    h.event(r#"{"type": "response.output_audio.done", "item_id": "bye"}"#);
    let done = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(marks(&done), ["0-end"]);
    assert!(finish(&done).is_none(), "the goodbye has not played yet");
    names.push("0-end".into());
    for name in &names[..names.len() - 1] {
        h.advance(Duration::from_millis(20));
        assert!(finish(&h.echo(name)).is_none());
    }
    let end = h.echo("0-end");
    let f = finish(&end).expect("ended at the last mark");
    assert_eq!(
        (f.outcome, f.summary.outcome, f.close_twilio),
        (CallOutcome::EndedByAgent, CallOutcome::EndedByAgent, true)
    );
}

/// A person can take the call: the agent says so, then the stream ends with a transfer (the
/// functions' `stream-ended` rings the salon). Refused, the call goes on.
#[test]
fn a_transfer_the_functions_allow_ends_the_stream_after_the_agent_says_so() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    let asked = h.event(&function_call("transfer_to_human", "call_5"));
    assert!(
        matches!(&asked[..], [Seen::Tool(t)] if t.name == "transfer_to_human"),
        "asked of the functions: {asked:?}"
    );
    h.event(r#"{"type": "response.done"}"#);
    let answered = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_5".into(),
        reply: ToolReply::Ok(json!({"transfer": true})),
    }));
    assert_eq!(
        creates(&answered),
        [None],
        "the agent says it puts them through"
    );
    h.event(r#"{"type": "response.created"}"#);
    let mut names = marks(&h.event(&delta("through", 40)));
    h.event(r#"{"type": "response.output_audio.done", "item_id": "through"}"#);
    let done = h.event(r#"{"type": "response.done"}"#);
    assert!(finish(&done).is_none(), "not before its words have played");
    names.extend(marks(&done));
    let mut end = Vec::new();
    for name in &names {
        end.extend(h.echo(name));
    }
    let f = finish(&end).expect("ended once the line played");
    assert_eq!(
        (f.outcome, f.summary.outcome, f.close_twilio),
        (CallOutcome::Transferred, CallOutcome::Transferred, true)
    );
}

#[test]
fn a_transfer_the_functions_refuse_leaves_the_call_going() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("transfer_to_human", "call_5"));
    h.event(r#"{"type": "response.done"}"#);
    let refused = ToolReply::error(
        salon_wire::tools::ToolErrorCode::TransferUnavailable,
        "Salonul este închis acum.",
    );
    h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_5".into(),
        reply: refused,
    }));
    h.event(r#"{"type": "response.created"}"#);
    let done = h.event(r#"{"type": "response.done"}"#);
    assert!(finish(&done).is_none(), "{done:?}");
    h.advance(Duration::from_secs(1));
    assert!(
        finish(&h.wake()).is_none(),
        "the agent takes a message instead"
    );
}

/// Pressing 0 asks for a person as saying so does: the model is told, and calls the tool.
#[test]
fn pressing_zero_asks_the_model_for_a_person_and_other_keys_do_nothing() {
    let mut h = Harness::quiet(|_| {});
    let press = |h: &mut Harness, digit: &str| {
        h.feed(Input::Twilio(Inbound::Dtmf {
            dtmf: crate::twilio::Dtmf {
                digit: digit.into(),
                track: "inbound_track".into(),
            },
        }))
    };
    assert!(creates(&press(&mut h, "5")).is_empty());
    assert_eq!(creates(&press(&mut h, "0")), [Some(ruled(KEYPAD_PERSON))]);
}

#[test]
fn every_one_off_turn_keeps_the_sessions_rules() {
    let (_, greeting) = Harness::live(|_| {});
    let mut h = Harness::quiet(|s| s.silence = Duration::from_secs(10));
    let check_in = h.wake();
    for asked in creates(&greeting).into_iter().chain(creates(&check_in)) {
        let asked = asked.expect("a one-off turn says what to do");
        assert!(
            asked.starts_with("Ești asistentul virtual al salonului."),
            "the persona and rules stay: {asked}"
        );
    }
}

#[test]
fn a_question_over_the_goodbye_is_answered_and_the_call_still_ends_after_it() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    let bye = marks(&h.event(&delta("bye", 100)));
    h.event(&function_call("end_call", "call_9"));
    h.event(r#"{"type": "response.output_audio.done", "item_id": "bye"}"#);
    let done = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(marks(&done), ["0-end"]);
    h.advance(Duration::from_millis(20));
    h.echo(&bye[0]);
    // "Stați, încă ceva!": the caller speaks over the goodbye.
    let barge = h.event(r#"{"type": "input_audio_buffer.speech_started"}"#);
    assert!(barge.contains(&Seen::Twilio(Outbound::Clear {
        stream_sid: "MZ1".into()
    })));
    // Twilio echoes the cleared end mark at once: that is no end.
    assert!(
        finish(&h.echo("0-end")).is_none(),
        "the answer is still to come"
    );
    // The model answers the question; the call ends after the answer has played.
    h.event(r#"{"type": "response.created"}"#);
    let answer = marks(&h.event(&delta("answer", 60)));
    h.event(r#"{"type": "response.output_audio.done", "item_id": "answer"}"#);
    let done = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(marks(&done), ["1-end"]);
    for name in &answer {
        h.advance(Duration::from_millis(20));
        assert!(finish(&h.echo(name)).is_none(), "still playing the answer");
    }
    let end = h.echo("1-end");
    let f = finish(&end).expect("ended after the answer");
    assert_eq!(f.outcome, CallOutcome::EndedByAgent);
}

#[test]
fn a_goodbye_whose_mark_never_comes_ends_at_the_goodbye_limit() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    h.event(&delta("bye", 100));
    h.event(&function_call("end_call", "call_9"));
    let began = h.now;
    h.event(r#"{"type": "response.done"}"#);
    assert_eq!(h.call.next_wake(), Some(began + GOODBYE_LIMIT));
    let out = h.wake();
    assert_eq!(finish(&out).unwrap().outcome, CallOutcome::EndedByAgent);
}

#[test]
fn a_silent_caller_is_checked_on_once_then_bid_goodbye() {
    let mut h = Harness::quiet(|s| s.silence = Duration::from_secs(10));
    let rest = h.now;
    assert_eq!(h.call.next_wake(), Some(rest + Duration::from_secs(10)));
    // Just before the limit, nothing.
    h.advance(Duration::from_millis(9_999));
    assert!(h.feed(Input::Timer).is_empty());

    let check_in = h.wake();
    assert_eq!(h.now, rest + Duration::from_secs(10));
    assert_eq!(creates(&check_in), [Some(ruled(CHECK_IN))]);
    // While the check-in is being said, no silence is counted.
    h.event(r#"{"type": "response.created"}"#);
    assert_eq!(h.call.next_wake(), Some(rest + Duration::from_secs(600)));
    h.advance(Duration::from_secs(2));
    h.event(r#"{"type": "response.done"}"#);

    let goodbye = h.wake();
    assert_eq!(h.now, rest + Duration::from_secs(22));
    assert_eq!(creates(&goodbye), [Some(ruled(GOODBYE_SILENCE))]);
    h.event(r#"{"type": "response.created"}"#);
    let end = h.event(r#"{"type": "response.done"}"#);
    let f = finish(&end).expect("the call ends once the goodbye is said");
    assert_eq!((f.outcome, f.close_twilio), (CallOutcome::Silence, true));
    assert_eq!(f.summary.stream_seconds, 22);
}

#[test]
fn a_caller_who_speaks_again_is_checked_on_afresh() {
    let mut h = Harness::quiet(|s| s.silence = Duration::from_secs(10));
    assert_eq!(creates(&h.wake()), [Some(ruled(CHECK_IN))]);
    h.event(r#"{"type": "response.created"}"#);
    h.event(r#"{"type": "response.done"}"#);
    h.advance(Duration::from_secs(3));
    h.event(r#"{"type": "input_audio_buffer.speech_started"}"#);
    h.event(r#"{"type": "input_audio_buffer.speech_stopped"}"#);
    h.event(r#"{"type": "response.created"}"#);
    h.event(r#"{"type": "response.done"}"#);
    // Silence again: a check-in again, not a goodbye.
    assert_eq!(creates(&h.wake()), [Some(ruled(CHECK_IN))]);
}

#[test]
fn a_call_at_its_maximum_length_is_bid_goodbye_after_the_current_response() {
    let mut h = Harness::quiet(|s| {
        s.max_call = Duration::from_secs(60);
        s.silence = Duration::from_secs(600);
    });
    let began = h.now;
    h.advance(Duration::from_secs(59));
    h.event(r#"{"type": "response.created"}"#);
    assert_eq!(h.call.next_wake(), Some(began + Duration::from_secs(60)));
    // At the limit the agent is still speaking: the goodbye waits for the response's end.
    assert!(h.wake().is_empty());
    assert_eq!(
        h.call.next_wake(),
        Some(began + Duration::from_secs(60) + GOODBYE_LIMIT),
        "after asking, only the hard stop is left to wake for"
    );
    h.advance(Duration::from_secs(1));
    let goodbye = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(creates(&goodbye), [Some(ruled(GOODBYE_MAX))]);
    h.event(r#"{"type": "response.created"}"#);
    let end = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(finish(&end).unwrap().outcome, CallOutcome::MaxLength);
}

#[test]
fn a_call_whose_goodbye_never_comes_ends_at_the_hard_stop() {
    let mut h = Harness::quiet(|s| s.max_call = Duration::from_secs(60));
    h.advance(Duration::from_secs(30));
    h.event(r#"{"type": "response.created"}"#);
    assert!(h.wake().is_empty());
    let out = h.wake();
    assert_eq!(finish(&out).unwrap().outcome, CallOutcome::MaxLength);
}

#[test]
fn shutdown_asks_for_one_goodbye() {
    let mut h = Harness::quiet(|_| {});
    let out = h.feed(Input::Shutdown);
    assert_eq!(creates(&out), [Some(ruled(GOODBYE_SHUTDOWN))]);
    assert!(h.feed(Input::Shutdown).is_empty());
    h.event(r#"{"type": "response.created"}"#);
    let end = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(finish(&end).unwrap().outcome, CallOutcome::Shutdown);
}

/// A deploy's drain limit, the maximum length or the silence limit can come while a booking is
/// at the functions: the caller hears its answer first, then the goodbye (the soak found
/// callers told goodbye instead of "your appointment is booked", with the booking made).
#[test]
fn a_goodbye_asked_for_while_a_tool_runs_waits_until_its_answer_is_spoken() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("create_voice_appointment", "call_1"));
    h.event(r#"{"type": "response.done"}"#);
    assert!(
        creates(&h.feed(Input::Shutdown)).is_empty(),
        "no goodbye while the booking is at the functions"
    );
    let answered = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({"confirmat": true})),
    }));
    assert!(
        matches!(&answered[0], Seen::Realtime(ClientEvent::FunctionOutput { call_id, .. }) if call_id == "call_1"),
        "{answered:?}"
    );
    assert_eq!(creates(&answered), [None], "the answer is spoken first");
    h.event(r#"{"type": "response.created"}"#);
    let spoken = h.event(r#"{"type": "response.done"}"#);
    assert!(finish(&spoken).is_none(), "{spoken:?}");
    assert_eq!(creates(&spoken), [Some(ruled(GOODBYE_SHUTDOWN))]);
    h.event(r#"{"type": "response.created"}"#);
    let end = h.event(r#"{"type": "response.done"}"#);
    assert_eq!(finish(&end).unwrap().outcome, CallOutcome::Shutdown);
}

/// The same when the answer comes back while another response is active: it is spoken after
/// that response, before the goodbye.
#[test]
fn a_tool_answer_pending_when_the_goodbye_is_due_is_spoken_first() {
    let mut h = Harness::quiet(|_| {});
    h.event(r#"{"type": "response.created"}"#);
    h.event(&function_call("create_voice_appointment", "call_1"));
    assert!(creates(&h.feed(Input::Shutdown)).is_empty());
    let answered = h.feed(Input::Tool(ToolDone {
        connection: 1,
        call_id: "call_1".into(),
        reply: ToolReply::Ok(json!({"confirmat": true})),
    }));
    assert!(
        creates(&answered).is_empty(),
        "the model's response is still active"
    );
    assert_eq!(
        creates(&h.event(r#"{"type": "response.done"}"#)),
        [None],
        "the answer first"
    );
    h.event(r#"{"type": "response.created"}"#);
    assert_eq!(
        creates(&h.event(r#"{"type": "response.done"}"#)),
        [Some(ruled(GOODBYE_SHUTDOWN))]
    );
}
