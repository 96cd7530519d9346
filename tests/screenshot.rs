//! The editor, as a guitarist sees it: the standalone (dummy audio device) under Xvfb with
//! the demo model and a stereo cab IR loaded, at 100 % and 200 % (Xft.dpi 192), and with
//! nothing loaded. The
//! screenshots stay in `target/shots/` to be looked at; the test checks that each is the
//! editor's size and not blank, and that loading a model changes what is drawn.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = r#"
set -u
out=$1; dpi=$2; shift 2
[ "$dpi" != 96 ] && echo "Xft.dpi: $dpi" | xrdb -nocpp -merge
"$STANDALONE" --backend dummy "$@" >"$out.log" 2>&1 &
pid=$!
wid=$(timeout 30 xdotool search --sync --name 'Tubeless' | head -1)
# The pointer off the window: no hover highlights or tooltips in the picture.
xdotool mousemove 2399 1599
sleep 3
import -window "$wid" "$out"
kill -TERM $pid; wait $pid 2>/dev/null
[ -s "$out" ]
"#;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn shoot(standalone: &Path, out: &Path, dpi: u32, args: &[&str]) {
    let status = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 2400x1600x24 -noreset",
            "bash",
            "-c",
            SCRIPT,
            "shot",
        ])
        .arg(out)
        .arg(dpi.to_string())
        .args(args)
        .env("STANDALONE", standalone)
        .status()
        .expect("xvfb-run runs");
    assert!(status.success(), "no screenshot {}", out.display());
}

/// (width, height, unique colours, standard deviation of the pixels).
fn stats(png: &Path) -> (u32, u32, u32, f64) {
    let out = Command::new("convert")
        .arg(png)
        .args(["-format", "%w %h %k %[fx:standard_deviation]", "info:"])
        .output()
        .expect("imagemagick runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(v.len(), 4, "convert said {text:?}");
    (
        v[0].parse().unwrap(),
        v[1].parse().unwrap(),
        v[2].parse().unwrap(),
        v[3].parse().unwrap(),
    )
}

fn differing_pixels(a: &Path, b: &Path) -> u64 {
    let out = Command::new("compare")
        .args(["-metric", "AE"])
        .arg(a)
        .arg(b)
        .arg("null:")
        .output()
        .expect("imagemagick runs");
    // `compare` prints the count on stderr (and exits 1 when the images differ).
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    text.split_whitespace()
        .next()
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("compare said {text:?}")) as u64
}

#[test]
fn the_editor_draws_the_model_at_100_and_200_percent() {
    let Some(standalone) = common::bundle("tubeless-standalone") else {
        return;
    };
    let missing: Vec<&str> = [
        "xvfb-run", "xdotool", "import", "convert", "compare", "xrdb",
    ]
    .into_iter()
    .filter(|t| !have(t))
    .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("TUBELESS_REQUIRE_SCREENSHOT").is_none(),
            "screenshot tools missing: {missing:?}"
        );
        eprintln!("SKIP: screenshot tools missing: {missing:?} (apt-get install xvfb xauth xdotool imagemagick x11-xserver-utils)");
        return;
    }
    let shots = common::repo().join("target/shots");
    std::fs::create_dir_all(&shots).unwrap();
    let model = common::demo_model().display().to_string();
    let path = |n: &str| -> PathBuf { shots.join(n) };
    shoot(
        &standalone,
        &path("editor-100.png"),
        96,
        &["--model", &model],
    );
    shoot(
        &standalone,
        &path("editor-200.png"),
        192,
        &["--model", &model],
    );
    shoot(&standalone, &path("editor-empty.png"), 96, &[]);
    let (w, h) = tubeless::params::EDITOR_SIZE;
    for (name, scale) in [
        ("editor-100.png", 1),
        ("editor-200.png", 2),
        ("editor-empty.png", 1),
    ] {
        let (pw, ph, colours, sd) = stats(&path(name));
        assert_eq!((pw, ph), (w * scale, h * scale), "{name}: size");
        assert!(
            colours > 200 && sd > 0.05,
            "{name} looks blank: {colours} colours, sd {sd}"
        );
        eprintln!("{name}: {pw}x{ph}, {colours} colours, sd {sd:.3}");
    }
    let changed = differing_pixels(&path("editor-100.png"), &path("editor-empty.png"));
    assert!(
        changed > 2000,
        "a loaded model changes only {changed} pixels"
    );
}
