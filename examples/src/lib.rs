//! Example code for the kube-events crates.

pub mod configmap_controller;
pub mod metrics;
pub mod reconcile;
