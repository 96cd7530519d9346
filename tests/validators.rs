//! The format validators (`../shared/tools`, prebuilt) on the bundles: every test passes.
//! Skips with a message when the tools or the bundles are not there.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// The tool, made executable in a temporary copy if its execute bit was lost.
fn tool(name: &str) -> Option<PathBuf> {
    let p = common::shared()?.join("tools").join(name);
    if !p.is_file() {
        eprintln!("SKIP: {} not found", p.display());
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = p.metadata().ok()?.permissions().mode();
        if mode & 0o111 == 0 {
            let dir = std::env::temp_dir().join(format!("tubeless-tools-{}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            let copy = dir.join(name);
            std::fs::copy(&p, &copy).ok()?;
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).ok()?;
            return Some(copy);
        }
    }
    Some(p)
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("the validator runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn clap_validator_passes() {
    let Some(clap) = common::bundle("Tubeless.clap") else {
        return;
    };
    let Some(v) = tool("clap-validator") else {
        eprintln!("SKIP: no ../shared/tools/clap-validator");
        return;
    };
    let (ok, text) = run(Command::new(v)
        .args(["validate", "--only-failed"])
        .arg(&clap));
    assert!(ok, "clap-validator failed:\n{text}");
}

#[test]
fn vst3_validator_passes_including_the_extensive_tests() {
    let Some(vst3) = common::bundle("Tubeless.vst3") else {
        return;
    };
    let Some(v) = tool("vst3-validator") else {
        eprintln!("SKIP: no ../shared/tools/vst3-validator");
        return;
    };
    for extra in [None, Some("-e")] {
        let mut cmd = Command::new(&v);
        cmd.args(extra).arg(&vst3);
        let (ok, text) = run(&mut cmd);
        assert!(ok, "vst3-validator {extra:?} failed:\n{text}");
    }
}
