//! Example code for the kube-events crates.

pub mod reconcile;
