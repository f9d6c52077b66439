//! Starting cargo for the tasks: every child cargo gets the environment the
//! user's shell gave `cargo xtask`, not the one `cargo run` gave this
//! program.
//!
//! `cargo xtask` is `cargo run`, which sets `CARGO_MANIFEST_DIR`,
//! `CARGO_MANIFEST_PATH`, the `CARGO_PKG_*` variables and the dynamic library
//! path for the program it runs. A child cargo that inherited them would hand
//! them to build scripts that watch them (ring's does, through
//! `rerun-if-env-changed`), so every switch between `cargo xtask ci` and a
//! plain `cargo test` would rerun those scripts and rebuild everything above
//! them. `CARGO` is kept: it names the cargo to use.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ci::workspace_root;

/// Variables `cargo run` sets for the program it runs, beyond `CARGO` (see
/// "Environment variables Cargo sets for crates" in the Cargo book); the
/// names ending in `_` are prefixes.
const INJECTED: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_PKG_",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_BIN_EXE_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
];

/// The dynamic library search path variable `cargo run` extends (on
/// Windows it extends `PATH`, which is left alone).
const DYLIB_PATH: &str = if cfg!(target_os = "macos") {
    "DYLD_FALLBACK_LIBRARY_PATH"
} else {
    "LD_LIBRARY_PATH"
};

/// Whether `name` is one of the variables `cargo run` injected.
fn injected(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    INJECTED.iter().any(|v| {
        if v.ends_with('_') {
            name.starts_with(v)
        } else {
            name == *v
        }
    })
}

/// The dynamic library path without the directories `cargo run` put in front
/// of it: those under `build_dir` (the directory this program was built
/// into: its `deps` and the build scripts' native libraries) and under
/// `toolchain` (the sysroot of the cargo in use). `None` when nothing of the
/// user's own path remains.
fn user_dylib_path(value: &OsStr, build_dir: &Path, toolchain: Option<&Path>) -> Option<OsString> {
    let kept: Vec<PathBuf> = std::env::split_paths(value)
        .filter(|dir| !dir.starts_with(build_dir) && toolchain.is_none_or(|t| !dir.starts_with(t)))
        .collect();
    if kept.is_empty() {
        return None;
    }
    std::env::join_paths(kept).ok()
}

/// A cargo command that runs in the workspace root with the user's
/// environment: the variables `cargo run` injected are removed, and the
/// dynamic library path is given back without cargo's additions.
pub(crate) fn command() -> Command {
    command_of(None)
}

/// [`command`] with the cargo of `toolchain` (through `rustup run`) when
/// one is given.
pub(crate) fn command_of(toolchain: Option<&str>) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = match toolchain {
        None => Command::new(&cargo),
        Some(toolchain) => {
            let mut rustup = Command::new("rustup");
            rustup.args(["run", toolchain, "cargo"]);
            rustup
        }
    };
    command.current_dir(workspace_root());
    for (name, _) in std::env::vars_os().filter(|(name, _)| injected(name)) {
        command.env_remove(name);
    }
    if !cfg!(windows)
        && let (Some(value), Ok(exe)) = (std::env::var_os(DYLIB_PATH), std::env::current_exe())
    {
        // `cargo run` added the libraries of the toolchain that ran this
        // program, two levels above its `.../bin/cargo`.
        let sysroot = Path::new(&cargo).parent().and_then(Path::parent);
        let sysroot = sysroot.filter(|t| t.is_absolute());
        let build_dir = exe.parent().unwrap_or(&exe);
        match user_dylib_path(&value, build_dir, sysroot) {
            Some(path) => command.env(DYLIB_PATH, path),
            None => command.env_remove(DYLIB_PATH),
        };
    }
    command
}

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
    run_with_env(task, args, &[])
}

/// [`run`] with extra environment variables.
pub(crate) fn run_with_env(
    task: &str,
    args: Vec<String>,
    env: &[(&str, &str)],
) -> Result<(), String> {
    let status = command()
        .args(args)
        .envs(env.iter().copied())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_cargo_run_injects_are_recognized() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_PKG_RUST_VERSION",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
        ] {
            assert!(injected(OsStr::new(name)), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_INCREMENTAL",
            "CARGO_MANIFEST_DIRECTORY",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!injected(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn the_dynamic_library_path_loses_only_cargos_additions() {
        let build = Path::new("/ws/target/debug");
        let toolchain = Path::new("/home/me/.rustup/toolchains/stable");
        let injected = [
            "/ws/target/debug/build/ring-0123/out",
            "/ws/target/debug",
            "/ws/target/debug/deps",
            "/home/me/.rustup/toolchains/stable/lib/rustlib/x86_64-unknown-linux-gnu/lib",
            "/home/me/.rustup/toolchains/stable/lib",
        ];
        let joined = |dirs: &[&str]| std::env::join_paths(dirs).unwrap();
        assert_eq!(
            user_dylib_path(&joined(&injected), build, Some(toolchain)),
            None
        );
        let mut with_user = injected.to_vec();
        with_user.extend(["/opt/ssl/lib", "/ws/target/release"]);
        assert_eq!(
            user_dylib_path(&joined(&with_user), build, Some(toolchain)),
            Some(joined(&["/opt/ssl/lib", "/ws/target/release"]))
        );
    }

    #[test]
    fn a_child_cargo_does_not_see_the_variables_of_this_program() {
        // This test runs under `cargo test`, which sets the same variables
        // `cargo run` sets, so they are present here.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
        let command = command();
        let removed: Vec<&OsStr> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect();
        for name in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_PKG_VERSION"] {
            assert!(removed.contains(&OsStr::new(name)), "{name} is passed on");
        }
        assert!(
            command.get_envs().all(|(name, _)| name != "CARGO"),
            "CARGO is kept as it is"
        );
        assert_eq!(command.get_current_dir(), Some(workspace_root().as_path()));
    }
}
