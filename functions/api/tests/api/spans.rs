//! Log lines belong to the request that wrote them, however many requests run at once.
//!
//! A span entered with a guard held across an `.await` stays entered on the thread while the
//! task is parked, so another request's lines written on that thread would carry it too. The
//! requests here run on one thread and yield inside the store, which is where that shows.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{RELAY_SECRET, session_body, signed_post, spawn_app};

/// Every formatted line, shared with the test.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn call(n: usize) -> String {
    format!("CA{n:032x}")
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_tool_calls_log_each_under_its_own_call_only() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(lines.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This thread only: the server and the requests all run on it.
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    const CALLS: usize = 8;
    for n in 0..CALLS {
        let r = app
            .relay(
                &salon_wire::paths::session(&call(n)),
                &session_body("+40722123456"),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let ts = app.clock_now().as_second();
    let mut requests = JoinSet::new();
    for n in 0..CALLS {
        let (http, base) = (app.http.clone(), app.base.clone());
        let path = salon_wire::paths::tool(&call(n), salon_wire::tools::GET_AVAILABLE_SERVICES);
        let body = serde_json::json!({"call_id": "call_1", "arguments": "{}"});
        requests.spawn(async move {
            signed_post(&http, &base, &path, &path, &body, RELAY_SECRET, ts)
                .await
                .status()
        });
    }
    let replies = requests.join_all().await;
    assert!(replies.iter().all(|s| *s == 200), "{replies:?}");

    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let tool_lines: Vec<&str> = text.lines().filter(|l| l.contains("tool call")).collect();
    assert_eq!(tool_lines.len(), CALLS, "{text}");
    for n in 0..CALLS {
        let sid = call(n);
        let own: Vec<&&str> = tool_lines.iter().filter(|l| l.contains(&sid)).collect();
        assert_eq!(
            own.len(),
            1,
            "call {sid} logged once under its own span:\n{text}"
        );
    }
    for line in &tool_lines {
        assert_eq!(
            line.matches("call_sid=").count(),
            1,
            "a line carries one call's span, not another request's too: {line}"
        );
    }
}
