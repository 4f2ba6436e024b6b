//! Twilio Media Streams messages (bidirectional streams), as JSON text frames.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What Twilio sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Inbound {
    /// The WebSocket is up.
    Connected {
        #[serde(default)]
        protocol: String,
    },
    /// The stream starts: who is calling, the format, our `<Parameter>`s.
    Start {
        start: Start,
        #[serde(rename = "streamSid", default)]
        stream_sid: String,
    },
    /// 20 ms of the caller's audio.
    Media { media: Media },
    /// Audio sent before this mark has played.
    Mark { mark: MarkName },
    /// A key pressed.
    Dtmf { dtmf: Dtmf },
    /// The call ended (the caller hung up, or the stream was stopped).
    Stop {
        #[serde(default)]
        stop: serde_json::Value,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub stream_sid: String,
    pub call_sid: String,
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub tracks: Vec<String>,
    pub media_format: MediaFormat,
    #[serde(default)]
    pub custom_parameters: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFormat {
    pub encoding: String,
    pub sample_rate: u32,
    pub channels: u32,
}

impl MediaFormat {
    /// Returns whether this is the μ-law 8 kHz mono the relay speaks.
    pub fn is_mulaw_8k_mono(&self) -> bool {
        self.encoding == "audio/x-mulaw" && self.sample_rate == 8000 && self.channels == 1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// Base64 μ-law.
    pub payload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkName {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dtmf {
    pub digit: String,
    #[serde(default)]
    pub track: String,
}

/// What the relay sends Twilio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Outbound {
    /// Audio to play, base64 μ-law.
    Media {
        #[serde(rename = "streamSid")]
        stream_sid: String,
        media: OutboundMedia,
    },
    /// Tell us when the audio before this has played.
    Mark {
        #[serde(rename = "streamSid")]
        stream_sid: String,
        mark: MarkName,
    },
    /// Drop the audio still queued (the caller spoke over the agent).
    Clear {
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMedia {
    pub payload: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilios_messages_parse() {
        let start = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"business":"salon-demo","token":"t"}},"streamSid":"MZ1"}"#;
        let Inbound::Start { start, .. } = serde_json::from_str(start).unwrap() else {
            panic!()
        };
        assert!(start.media_format.is_mulaw_8k_mono());
        assert_eq!(start.custom_parameters["business"], "salon-demo");
        let media = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/w=="},"streamSid":"MZ1"}"#;
        assert!(matches!(
            serde_json::from_str(media).unwrap(),
            Inbound::Media { .. }
        ));
        let out = serde_json::to_value(Outbound::Clear {
            stream_sid: "MZ1".into(),
        })
        .unwrap();
        assert_eq!(
            out,
            serde_json::json!({"event": "clear", "streamSid": "MZ1"})
        );
    }
}
