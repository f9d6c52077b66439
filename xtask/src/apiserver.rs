//! `cargo xtask apiserver --kubeconfig PATH [--port N] [--http]
//! [--event-ttl SECS] [--pod NS/NAME]... [--node NAME]... [--no-events-group]`: runs the local
//! Kubernetes API double until Ctrl-C, writing its kubeconfig to PATH (the
//! `kube-apiserver-double` program of the crate of that name).

use std::path::Path;

use crate::cargo;

/// The package and program of the API double.
const PACKAGE: &str = "kube-apiserver-double";

/// The arguments after `apiserver`, with the kubeconfig path made absolute;
/// `--kubeconfig` is required. Other flags are checked by the program.
fn server_args(args: &[String], cwd: &Path) -> Result<Vec<String>, String> {
    let (out, given) = cargo::absolute_kubeconfig("apiserver", args, cwd, |_| true)?;
    if given || out.iter().any(|a| matches!(a.as_str(), "-h" | "--help")) {
        Ok(out)
    } else {
        Err("apiserver: --kubeconfig PATH is required (where to write the kubeconfig)".to_owned())
    }
}

/// The cargo arguments that build and run the program.
fn cargo_args(server_args: Vec<String>) -> Vec<String> {
    let mut args = cargo::run_args(PACKAGE, PACKAGE, server_args);
    // The program picks k8s-openapi's Kubernetes version through this feature.
    args.splice(4..4, ["--features".to_owned(), "standalone".to_owned()]);
    args
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let server_args = server_args(args, &cargo::current_dir("apiserver")?)?;
    cargo::run("apiserver", cargo_args(server_args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn kubeconfig_is_required_and_made_absolute() {
        let cwd = Path::new("/home/me/project");
        assert_eq!(
            server_args(&strings(&["--port", "6443", "--kubeconfig", "kc"]), cwd).unwrap(),
            strings(&["--port", "6443", "--kubeconfig", "/home/me/project/kc"])
        );
        assert!(server_args(&strings(&["--port", "6443"]), cwd).is_err());
        assert!(server_args(&strings(&["--kubeconfig"]), cwd).is_err());
        assert_eq!(
            server_args(&strings(&["--help"]), cwd).unwrap(),
            strings(&["--help"])
        );
        assert_eq!(
            cargo_args(strings(&["--kubeconfig", "/k"])),
            strings(&[
                "run",
                "--quiet",
                "-p",
                "kube-apiserver-double",
                "--features",
                "standalone",
                "--bin",
                "kube-apiserver-double",
                "--",
                "--kubeconfig",
                "/k"
            ])
        );
    }
}
