//! The [`Error`] the Recorder returns.

use std::fmt;

use crate::sink::SinkError;

use crate::validate::ValidationError;

/// Why a `publish` or `emit` did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The event (or the recorder's configuration) breaks a rule; nothing
    /// was written.
    Invalid(ValidationError),
    /// The write failed for good (after any retries).
    Sink(SinkError),
    /// The recorder was shut down; nothing more is accepted.
    ShutDown,
    /// [`Recorder::emit`](crate::Recorder::emit) found no tokio runtime for
    /// its background writers: it was called outside a runtime while they
    /// were not running (before the Recorder's first use inside one, or
    /// after the runtime they ran on shut down), or inside a runtime that is
    /// shutting down (which drops every task it is given).
    NoRuntime,
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(e) => write!(f, "{e}"),
            Self::Sink(e) => write!(f, "event write failed: {e}"),
            Self::ShutDown => f.write_str("the recorder is shut down"),
            Self::NoRuntime => f.write_str("no tokio runtime to run the event writers on"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Invalid(e) => Some(e),
            Self::Sink(e) => Some(e),
            Self::ShutDown | Self::NoRuntime => None,
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e)
    }
}

impl From<SinkError> for Error {
    fn from(e: SinkError) -> Self {
        Self::Sink(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause() {
        assert_eq!(
            Error::Sink(SinkError::NotFound).to_string(),
            "event write failed: event not found"
        );
        assert_eq!(Error::ShutDown.to_string(), "the recorder is shut down");
        assert!(std::error::Error::source(&Error::from(SinkError::NotFound)).is_some());
    }
}
