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
    // kubectl's discovery cache goes to a directory of this run's own, not
    // to $HOME (or, with HOME unset, the working directory).
    let cache = std::env::temp_dir().join(format!(
        "events-e2e-kubectl-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let child = tokio::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(&cache)
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(KUBECTL_TIMEOUT, child).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) => Err(format!("`{shown}` could not start: {e}")),
        Err(_) => Err(format!(
            "`{shown}` did not finish within {}s",
            KUBECTL_TIMEOUT.as_secs()
        )),
    };
    let _ = std::fs::remove_dir_all(&cache);
    let output = output?;
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
