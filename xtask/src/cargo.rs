//! Running a workspace binary through cargo, for the tasks that delegate to
//! one (`e2e`, `apiserver`).

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
