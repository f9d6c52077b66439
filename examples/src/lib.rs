//! Example code for the kube-events crates.
