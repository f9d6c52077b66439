//! The [`EventSink`](event_core::EventSink) over the Kubernetes API.
