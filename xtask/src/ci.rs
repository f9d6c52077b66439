//! `cargo xtask ci`: every check a change must pass, in order, stopping at
//! the first failure.

use std::path::PathBuf;
use std::time::Instant;

use crate::cargo;

/// One step: a name and a cargo invocation.
struct Step {
    name: &'static str,
    /// The cargo of this toolchain instead of the one running the task.
    toolchain: Option<&'static str>,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

/// The workspace's `rust-version`, which every crate inherits.
const MSRV: &str = env!("CARGO_PKG_RUST_VERSION");

/// The Kubernetes version the library packages are built against where a
/// build needs one (k8s-openapi refuses to build without; a library never
/// picks one, its users' binaries do): the oldest k8s-openapi 0.29 supports.
const K8S_OPENAPI_VERSION: (&str, &str) = ("K8S_OPENAPI_ENABLED_VERSION", "1.33");

const STEPS: &[Step] = &[
    Step {
        name: "format",
        toolchain: None,
        args: &["fmt", "--all", "--", "--check"],
        env: &[],
    },
    Step {
        name: "clippy",
        toolchain: None,
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "tests",
        toolchain: None,
        args: &["test", "--workspace", "--all-features"],
        env: &[],
    },
    Step {
        name: "quickstart",
        toolchain: None,
        args: &[
            "run",
            "--quiet",
            "-p",
            "examples",
            "--example",
            "quickstart",
        ],
        env: &[],
    },
    Step {
        name: "e2e",
        toolchain: None,
        args: &["run", "--quiet", "-p", "e2e", "--bin", "e2e"],
        env: &[],
    },
    Step {
        name: "msrv",
        // Libraries and programs, not tests: dev-dependencies may need a
        // newer Rust than users of the libraries do.
        toolchain: Some(MSRV),
        args: &["check", "--workspace", "--all-features"],
        env: &[],
    },
    Step {
        name: "packages",
        toolchain: None,
        // Every member not marked `publish = false`, packaged as crates.io
        // would receive it and built from the package alone, with the
        // libraries' optional features (not the API double's `standalone`
        // program, which picks a Kubernetes version of its own). The index
        // is read from crates.io; the workspace's own crates are taken from
        // the packages made here.
        args: &[
            "publish",
            "--dry-run",
            "--workspace",
            "--features",
            "event-core/mock,event-core/k8s-openapi,event-testing/cluster",
            "--allow-dirty",
        ],
        env: &[K8S_OPENAPI_VERSION],
    },
    Step {
        name: "docs",
        toolchain: None,
        args: &["doc", "--workspace", "--no-deps", "--all-features"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("ci takes no arguments (got `{extra}`)"));
    }
    let started = Instant::now();
    for step in STEPS {
        if let Some(toolchain) = step.toolchain
            && !toolchain_available(toolchain)
        {
            println!(
                "==> ci step `{}` skipped: Rust {toolchain} is not installed and could not be \
                 installed (`rustup toolchain install {toolchain} --profile minimal`)",
                step.name
            );
            continue;
        }
        if step.name == "packages" {
            forget_unpacked_packages();
        }
        run_step(step.name, step.toolchain, step.args, step.env)?;
    }
    semver()?;
    println!("==> ci passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Runs one step: cargo (with `toolchain`, if one is named) with `args`
/// and `env`, printed, timed and failed on a non-zero exit.
fn run_step(
    name: &str,
    toolchain: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(), String> {
    let runner = toolchain.map_or(String::new(), |t| format!("rustup run {t} "));
    println!("==> ci step `{name}`: {runner}cargo {}", args.join(" "));
    let started = Instant::now();
    let status = cargo::command_of(toolchain)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("ci step `{name}` could not start cargo: {e}"))?;
    if !status.success() {
        let hint = toolchain.map_or(String::new(), |t| {
            format!("; it needs Rust {t}: `rustup toolchain install {t} --profile minimal`")
        });
        return Err(format!("ci step `{name}` failed ({status}){hint}"));
    }
    println!("==> ci step `{name}` passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The libraries' public API against the latest release (the newest tag
/// `v*`) with `cargo-semver-checks`: a change that needs a new major
/// version fails unless the version says so. Skipped, saying why, before
/// the first release or where the tool is not installed.
fn semver() -> Result<(), String> {
    let Some(release) = latest_release() else {
        println!("==> ci step `semver` skipped: no release tag (v*) to compare the API with");
        return Ok(());
    };
    let installed = cargo::command()
        .args(["semver-checks", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        println!(
            "==> ci step `semver` skipped: cargo-semver-checks is not installed \
             (`cargo install cargo-semver-checks --locked`)"
        );
        return Ok(());
    }
    run_step(
        "semver",
        None,
        &[
            "semver-checks",
            "check-release",
            "--workspace",
            // The libraries' default API; the API double's `standalone`
            // program would pick a Kubernetes version beside the one below.
            "--default-features",
            "--baseline-rev",
            &release,
        ],
        // As for `packages`: a library never picks a Kubernetes version.
        &[K8S_OPENAPI_VERSION],
    )
}

/// The newest tag `v*` reachable from HEAD, if any.
fn latest_release() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["describe", "--tags", "--abbrev=0", "--match", "v*"])
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let tag = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !tag.is_empty()).then_some(tag)
}

/// Removes the copies of this workspace's own packages that earlier
/// dry-run publishes unpacked into cargo's registry sources. Cargo unpacks
/// the packages it verifies from a local registry under the target
/// directory, and reuses an unpacked copy of the same name and version even
/// when its content has changed since; a stale copy would be built instead
/// of the package just made.
fn forget_unpacked_packages() {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(sources) = home.map(|h| h.join("registry").join("src")) else {
        return;
    };
    let Ok(registries) = std::fs::read_dir(&sources) else {
        return;
    };
    let ours = [
        "event-core-",
        "event-kube-",
        "event-testing-",
        "kube-apiserver-double-",
    ];
    for registry in registries.flatten() {
        // Local registries' directories are named by a hash alone; the
        // crates.io copies (named after their index) are left alone.
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for krate in crates.flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            if ours.iter().any(|p| name.starts_with(p)) {
                let _ = std::fs::remove_dir_all(krate.path());
            }
        }
    }
}

/// Whether `rustup run TOOLCHAIN cargo` works, installing the toolchain
/// (minimal profile) when it is missing.
fn toolchain_available(toolchain: &str) -> bool {
    let works = || {
        std::process::Command::new("rustup")
            .args(["run", toolchain, "cargo", "--version"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works() {
        return true;
    }
    println!("==> installing Rust {toolchain} (minimal profile) for the `msrv` step");
    let installed = std::process::Command::new("rustup")
        .args(["toolchain", "install", toolchain, "--profile", "minimal"])
        .status()
        .is_ok_and(|s| s.success());
    installed && works()
}

/// The workspace root: the parent of this crate's manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
