//! Running a workspace binary through cargo, for the tasks that delegate to
//! one (`e2e`, `apiserver`).

use std::path::Path;
use std::process::Command;

use crate::ci::workspace_root;

/// `cargo run --quiet -p PACKAGE --bin BIN -- ARGS...`
pub(crate) fn run_args(package: &str, bin: &str, args: Vec<String>) -> Vec<String> {
    ["run", "--quiet", "-p", package, "--bin", bin, "--"]
        .into_iter()
        .map(str::to_owned)
        .chain(args)
        .collect()
}

/// Runs cargo with `args` from the workspace root; `task` names the task in
/// errors.
pub(crate) fn run(task: &str, args: Vec<String>) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("{task} could not start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{task} failed ({status})"))
    }
}

/// The current directory, to make relative paths given by the user
/// absolute (cargo runs the binary from the workspace root).
pub(crate) fn current_dir(task: &str) -> Result<std::path::PathBuf, String> {
    std::env::current_dir().map_err(|e| format!("{task}: current directory: {e}"))
}

/// `args` with the path after `--kubeconfig` made absolute against `cwd`
/// (cargo runs the program from the workspace root), and whether one was
/// given. Any other argument must pass `accept`.
pub(crate) fn absolute_kubeconfig(
    task: &str,
    args: &[String],
    cwd: &Path,
    accept: impl Fn(&str) -> bool,
) -> Result<(Vec<String>, bool), String> {
    let mut out = Vec::new();
    let mut given = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        out.push(arg.clone());
        if arg == "--kubeconfig" {
            let path = it
                .next()
                .ok_or_else(|| format!("{task}: --kubeconfig needs a path"))?;
            out.push(cwd.join(path).display().to_string());
            given = true;
        } else if !accept(arg) {
            return Err(format!(
                "{task}: unknown argument `{arg}` (expected --kubeconfig PATH)"
            ));
        }
    }
    Ok((out, given))
}
