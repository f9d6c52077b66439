//! [`Reporter`]: who is publishing events.

/// The identity written as `reportingController` and `reportingInstance`.
///
/// `controller` must be a qualified name such as `example.com/my-controller`
/// (checked when the [`Recorder`](crate::Recorder) is built). `instance`
/// identifies the replica; when it is `None` it is taken, in order, from the
/// `CONTROLLER_POD_NAME` environment variable, `POD_NAME`, the hostname, and
/// finally the controller name. A derived instance longer than 128 bytes is
/// cut to 128 bytes; an explicit one that long is rejected.
///
/// `From<&str>` and `From<String>` behave the same: both set the controller
/// and leave the instance to be derived.
///
/// # Example
///
/// ```
/// use event_core::Reporter;
///
/// let a: Reporter = "example.com/widgets".into();
/// let b: Reporter = String::from("example.com/widgets").into();
/// assert_eq!(a, b);
/// assert_eq!(a.instance, None);
///
/// let c = Reporter::new("example.com/widgets").with_instance("widgets-7f9c-x2");
/// assert_eq!(c.instance.as_deref(), Some("widgets-7f9c-x2"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Reporter {
    /// The controller's qualified name, e.g. `example.com/my-controller`.
    pub controller: String,
    /// The replica's identity, e.g. the pod name; derived when `None`.
    pub instance: Option<String>,
}

/// Where a reporter's instance comes from, once resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InstanceSource {
    /// Given by the caller.
    Explicit,
    /// The `CONTROLLER_POD_NAME` or `POD_NAME` environment variable.
    Environment,
    /// The machine's hostname.
    Hostname,
    /// Nothing else was available: the controller name.
    Controller,
}

impl Reporter {
    /// A reporter whose instance is derived from the environment.
    pub fn new(controller: impl Into<String>) -> Self {
        Self {
            controller: controller.into(),
            instance: None,
        }
    }

    /// Sets the instance explicitly.
    #[must_use]
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// The instance to write and where it came from. Does not validate.
    pub(crate) fn resolve_instance(&self) -> (String, InstanceSource) {
        if let Some(instance) = &self.instance {
            return (instance.clone(), InstanceSource::Explicit);
        }
        for var in ["CONTROLLER_POD_NAME", "POD_NAME"] {
            if let Ok(value) = std::env::var(var) {
                let value = value.trim();
                if !value.is_empty() {
                    return (value.to_owned(), InstanceSource::Environment);
                }
            }
        }
        let host = gethostname::gethostname();
        let host = host.to_string_lossy();
        let host = host.trim();
        if !host.is_empty() {
            return (host.to_owned(), InstanceSource::Hostname);
        }
        (self.controller.clone(), InstanceSource::Controller)
    }
}

impl From<&str> for Reporter {
    fn from(controller: &str) -> Self {
        Self::new(controller)
    }
}

impl From<String> for Reporter {
    fn from(controller: String) -> Self {
        Self::new(controller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_agree() {
        assert_eq!(Reporter::from("a.b/c"), Reporter::from("a.b/c".to_string()));
    }

    #[test]
    fn explicit_instance_wins() {
        let r = Reporter::new("a/b").with_instance("x");
        assert_eq!(r.resolve_instance(), ("x".into(), InstanceSource::Explicit));
    }
}
