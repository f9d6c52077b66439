//! Offline testing of controllers that publish Kubernetes Events.
