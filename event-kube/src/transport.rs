//! Which API the events go through: `events.k8s.io/v1` ([`KubeSink`]) or
//! core/v1 ([`CoreV1Sink`]), chosen by the application or from discovery.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};
use kube::Client;

use crate::{CoreV1Sink, KubeSink};

/// The group version [`Transport::Auto`] looks for in discovery.
pub const EVENTS_V1: &str = "events.k8s.io/v1";

/// Which API events are written through.
///
/// | value | parsed from | sink |
/// | --- | --- | --- |
/// | `Auto` | `auto` | `events.k8s.io/v1` when the server serves it, else core/v1 |
/// | `EventsV1` | `events`, `events.k8s.io/v1` | [`KubeSink`] |
/// | `CoreV1` | `core`, `v1`, `core/v1` | [`CoreV1Sink`] |
///
/// # Example
///
/// ```
/// use event_kube::Transport;
///
/// assert_eq!("core".parse::<Transport>(), Ok(Transport::CoreV1));
/// assert_eq!("events.k8s.io/v1".parse::<Transport>(), Ok(Transport::EventsV1));
/// assert_eq!(Transport::default(), Transport::Auto);
/// assert!("v2".parse::<Transport>().unwrap_err().contains("auto, events, core"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Asks discovery once: `events.k8s.io/v1` when it is served (with
    /// `events`), core/v1 otherwise.
    #[default]
    Auto,
    /// `events.k8s.io/v1` Events ([`KubeSink`]).
    EventsV1,
    /// core/v1 Events ([`CoreV1Sink`]).
    CoreV1,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::EventsV1 => EVENTS_V1,
            Self::CoreV1 => "core/v1",
        })
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "events" | EVENTS_V1 => Ok(Self::EventsV1),
            "core" | "v1" | "core/v1" => Ok(Self::CoreV1),
            other => Err(format!(
                "unknown event transport `{other}` (expected one of auto, events, core)"
            )),
        }
    }
}

/// Whether the server serves `events` in `events.k8s.io/v1`: one discovery
/// request (`GET /apis/events.k8s.io/v1`), whose 404 means no.
///
/// # Errors
///
/// Any other failure of the discovery request.
pub async fn events_v1_served(client: &Client) -> Result<bool, kube::Error> {
    match client.list_api_group_resources(EVENTS_V1).await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == "events")),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// A sink over the API chosen by a [`Transport`]: the one type an
/// application holds whichever API it writes through.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
/// use event_core::Recorder;
/// use event_kube::{ApiSink, Transport};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = ApiSink::select(KubeSink::try_default().await?, Transport::Auto).await;
/// println!("events go through {}", sink.transport());
/// let recorder = Recorder::builder(Arc::new(sink), "example.com/widgets").build()?;
/// # let _ = recorder;
/// # Ok(()) }
/// # use event_kube::KubeSink;
/// ```
#[derive(Clone, Debug)]
pub enum ApiSink {
    /// `events.k8s.io/v1`.
    EventsV1(KubeSink),
    /// core/v1.
    CoreV1(CoreV1Sink),
}

impl ApiSink {
    /// The sink for `transport` over the client (and request timeout) of
    /// `sink`. [`Transport::Auto`] asks discovery once
    /// ([`events_v1_served`], within the sink's request timeout); when
    /// discovery itself fails or times out it keeps
    /// `events.k8s.io/v1` (the API every supported Kubernetes serves) and
    /// says so in the log. The choice is logged once, at info level.
    pub async fn select(sink: KubeSink, transport: Transport) -> ApiSink {
        let (chosen, why) = match transport {
            Transport::EventsV1 | Transport::CoreV1 => (transport, "configured".to_owned()),
            // Discovery is bounded by the sink's request timeout, so a server
            // that does not answer cannot hold the controller's start.
            Transport::Auto => {
                match tokio::time::timeout(sink.timeout(), events_v1_served(sink.client()))
                    .await
                    .unwrap_or_else(|_| Err(kube::Error::Service("discovery timed out".into())))
                {
                    Ok(true) => (
                        Transport::EventsV1,
                        format!("discovery: {EVENTS_V1} is served"),
                    ),
                    Ok(false) => (
                        Transport::CoreV1,
                        format!("discovery: {EVENTS_V1} is not served"),
                    ),
                    Err(e) => (
                        Transport::EventsV1,
                        format!("discovery failed ({e}); keeping {EVENTS_V1}"),
                    ),
                }
            }
        };
        tracing::info!(transport = %chosen, reason = %why, "event transport selected");
        match chosen {
            Transport::CoreV1 => ApiSink::CoreV1(CoreV1Sink::over(sink)),
            Transport::EventsV1 | Transport::Auto => ApiSink::EventsV1(sink),
        }
    }

    /// The API this sink writes through ([`Transport::EventsV1`] or
    /// [`Transport::CoreV1`], never `Auto`).
    pub fn transport(&self) -> Transport {
        match self {
            Self::EventsV1(_) => Transport::EventsV1,
            Self::CoreV1(_) => Transport::CoreV1,
        }
    }

    /// The access check of the chosen API ([`KubeSink::check_access`] or
    /// [`CoreV1Sink::check_access`]).
    ///
    /// # Errors
    ///
    /// As [`KubeSink::check_access`].
    pub async fn check_access<I, S>(&self, namespaces: I) -> Result<crate::AccessReport, SinkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        match self {
            Self::EventsV1(s) => s.check_access(namespaces).await,
            Self::CoreV1(s) => s.check_access(namespaces).await,
        }
    }

    /// The client the sink writes with.
    pub fn client(&self) -> &Client {
        match self {
            Self::EventsV1(s) => s.client(),
            Self::CoreV1(s) => s.client(),
        }
    }
}

#[async_trait]
impl EventSink for ApiSink {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        match self {
            Self::EventsV1(s) => s.create(event).await,
            Self::CoreV1(s) => s.create(event).await,
        }
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        match self {
            Self::EventsV1(s) => s.patch_series(event, series).await,
            Self::CoreV1(s) => s.patch_series(event, series).await,
        }
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        match self {
            Self::EventsV1(s) => s.get(namespace, name).await,
            Self::CoreV1(s) => s.get(namespace, name).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in [Transport::Auto, Transport::EventsV1, Transport::CoreV1] {
            assert_eq!(t.to_string().parse::<Transport>(), Ok(t));
        }
    }
}
