//! Running the real `kubectl`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::suite::Res;

/// How long one kubectl command may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);

/// `kubectl` on PATH, if any.
pub(crate) fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file())
}

/// Runs `kubectl --kubeconfig KUBECONFIG ARGS...` and returns its standard
/// output, or why it failed.
pub(crate) async fn run(kubectl: &Path, kubeconfig: &Path, args: &[&str]) -> Res<String> {
    let shown = format!("kubectl {}", args.join(" "));
    let child = tokio::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(KUBECTL_TIMEOUT, child)
        .await
        .map_err(|_| {
            format!(
                "`{shown}` did not finish within {}s",
                KUBECTL_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("`{shown}` could not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "`{shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(stdout)
}
