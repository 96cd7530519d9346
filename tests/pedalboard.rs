//! Runs `tests/pedalboard_test.py` (pedalboard, a JUCE host, on the bundled VST3) with the
//! input and the CLI's render of it. Skips with a message when python3 or pedalboard is
//! missing, unless `cargo xtask test` runs it in CI (`TUBELESS_REQUIRE_PEDALBOARD`).

mod common;

use std::process::Command;

use tubeless_dsp::render::{render, RenderOptions};
use tubeless_dsp::wav::Audio;
use tubeless_nam::NamFile;

fn write_f32(path: &std::path::Path, x: &[f32]) {
    let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn pedalboard_loads_the_vst3_and_renders_what_the_cli_renders() {
    let Some(vst3) = common::bundle("Tubeless.vst3") else {
        return;
    };
    let has_pedalboard = Command::new("python3")
        .args(["-c", "import pedalboard, numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_pedalboard {
        assert!(
            std::env::var_os("TUBELESS_REQUIRE_PEDALBOARD").is_none(),
            "pedalboard is required here but python3 cannot import it"
        );
        eprintln!(
            "SKIP: python3 with pedalboard and numpy not found (pip install pedalboard numpy)"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("tubeless-pedalboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = common::demo_model();
    let x = common::guitar(48_000, 48_000.0, 0);
    let file = NamFile::from_path(&model).unwrap();
    let audio = Audio {
        sample_rate: 48_000,
        channels: vec![x.clone(), x.clone()],
    };
    let cli = render(&file, None, &audio, &RenderOptions::default(), &mut |_| {}).unwrap();
    write_f32(&dir.join("in.f32"), &x);
    write_f32(&dir.join("cli.f32"), &cli.channels[0]);
    let out = Command::new("python3")
        .arg(common::repo().join("tests/pedalboard_test.py"))
        .arg(&vst3)
        .arg(&model)
        .arg(dir.join("in.f32"))
        .arg(dir.join("cli.f32"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "pedalboard test failed:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
