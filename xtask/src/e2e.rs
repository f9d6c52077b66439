//! `cargo xtask e2e [--kubeconfig PATH] [--transport events|core|auto|both]`:
//! runs the end-to-end suite (the `e2e` crate) against the cluster of PATH,
//! or against the local API double when no kubeconfig is given, once per
//! transport (both by default; the suite checks the value).

use std::path::Path;

use crate::cargo;

/// The arguments after `e2e`, checked, with the kubeconfig path made
/// absolute (cargo runs the suite from the workspace root).
fn suite_args(args: &[String], cwd: &Path) -> Result<Vec<String>, String> {
    let help = |a: &str| matches!(a, "-h" | "--help");
    let mut rest = Vec::new();
    let mut transport = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--transport" {
            let value = it
                .next()
                .ok_or("e2e: --transport needs events, core, auto or both")?;
            transport = vec![arg.clone(), value.clone()];
        } else {
            rest.push(arg.clone());
        }
    }
    let mut out = cargo::absolute_kubeconfig("e2e", &rest, cwd, help)?.0;
    out.extend(transport);
    Ok(out)
}

/// The cargo arguments that build and run the program.
fn cargo_args(suite_args: Vec<String>) -> Vec<String> {
    cargo::run_args("e2e", "e2e", suite_args)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let suite_args = suite_args(args, &cargo::current_dir("e2e")?)?;
    cargo::run("e2e", cargo_args(suite_args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments_pass_through_with_an_absolute_kubeconfig() {
        let cwd = Path::new("/home/me/project");
        assert_eq!(
            suite_args(&strings(&["--kubeconfig", "kind.yaml"]), cwd).unwrap(),
            strings(&["--kubeconfig", "/home/me/project/kind.yaml"])
        );
        assert_eq!(
            suite_args(&strings(&["--kubeconfig", "/etc/k.yaml"]), cwd).unwrap(),
            strings(&["--kubeconfig", "/etc/k.yaml"])
        );
        assert!(suite_args(&[], cwd).unwrap().is_empty());
        assert_eq!(
            suite_args(
                &strings(&["--transport", "core", "--kubeconfig", "k.yaml"]),
                cwd
            )
            .unwrap(),
            strings(&[
                "--kubeconfig",
                "/home/me/project/k.yaml",
                "--transport",
                "core"
            ])
        );
        assert!(suite_args(&strings(&["--transport"]), cwd).is_err());
        assert!(suite_args(&strings(&["--kubeconfig"]), cwd).is_err());
        assert!(suite_args(&strings(&["--fast"]), cwd).is_err());
        assert_eq!(
            cargo_args(strings(&["--kubeconfig", "/k"])),
            strings(&[
                "run",
                "--quiet",
                "-p",
                "e2e",
                "--bin",
                "e2e",
                "--",
                "--kubeconfig",
                "/k"
            ])
        );
    }
}
