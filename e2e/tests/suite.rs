//! The whole end-to-end suite against the local API double, so that
//! `cargo test --workspace` runs it.

#![allow(clippy::unwrap_used)]

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_against_the_local_double() {
    let summary = e2e::run(e2e::Options::default()).await;
    assert_eq!(
        summary.failed,
        0,
        "{}\n{}",
        summary.lines.join("\n"),
        summary.line()
    );
    // Ten scenarios through each of the two transports.
    assert_eq!(summary.passed + summary.skipped, 20, "{}", summary.line());
    for transport in ["[events.k8s.io/v1]", "[core/v1]"] {
        let runs = summary
            .lines
            .iter()
            .filter(|l| l.contains(transport))
            .count();
        assert_eq!(runs, 10, "{transport}: {}", summary.lines.join("\n"));
    }
    // Only the kubectl scenario may be skipped, and only without kubectl.
    assert!(summary.skipped <= 2, "{}", summary.lines.join("\n"));
    let skipped: Vec<&String> = summary
        .lines
        .iter()
        .filter(|l| l.starts_with("SKIP "))
        .collect();
    assert_eq!(skipped.len(), summary.skipped, "{}", summary.line());
    for line in &skipped {
        assert!(
            line.starts_with("SKIP kubectl-describe-and-events [")
                && line.contains("]: kubectl is not on PATH"),
            "{line}"
        );
    }
    assert!(
        skipped.is_empty() || !kubectl_on_path(),
        "kubectl is on PATH but its scenario was skipped"
    );
}

/// Whether a `kubectl` file is in one of the PATH directories.
fn kubectl_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("kubectl").is_file()))
}

#[test]
fn options_from_the_command_line() {
    assert_eq!(
        e2e::Options::parse(["--kubeconfig", "kind.yaml"]).unwrap(),
        e2e::Options {
            kubeconfig: Some("kind.yaml".into()),
            ..e2e::Options::default()
        }
    );
    assert_eq!(
        e2e::Options::parse(["--transport", "events"])
            .unwrap()
            .transports,
        [event_kube::Transport::EventsV1]
    );
    assert_eq!(
        e2e::Options::parse(["--transport", "both"]).unwrap(),
        e2e::Options::default()
    );
    assert!(
        e2e::Options::parse(["--transport", "v2"])
            .unwrap_err()
            .contains("unknown event transport `v2`")
    );
    assert_eq!(e2e::Options::parse(["--help"]).unwrap_err(), e2e::USAGE);
    assert!(
        e2e::Options::parse(["--kubeconfig"])
            .unwrap_err()
            .contains("needs a path")
    );
    assert!(
        e2e::Options::parse(["--bogus"])
            .unwrap_err()
            .starts_with("unknown argument `--bogus`")
    );
}
