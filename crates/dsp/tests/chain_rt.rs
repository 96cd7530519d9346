//! Real-time safety of the whole shared chain: `process`, `offer`, `offer_ir`,
//! `take_retired`, `set_settings` and `reset` never allocate, reallocate or free, through
//! model swaps (to and from no model, queued offers), cabinet IR swaps (mono, stereo, to
//! none), channel-mode and bypass crossfades, every gate / tone stack / cab / output-mode
//! / calibration setting changing mid-stream, NaN / Inf / denormal input and block
//! lengths from 0 to beyond the maximum.

use std::path::PathBuf;

use tubeless_dsp::ir::{IrFile, IrOptions, IrSlot};
use tubeless_dsp::wav::{self, Audio, BitDepth};
use tubeless_dsp::{
    Chain, ChainSettings, ChannelMode, GateSettings, ModelSlot, OutputMode, SlotSpec, ToneSettings,
};
use tubeless_nam::{ActivationMode, NamFile};

#[path = "../../../tests/support/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::heap_events;

fn slot(name: &str, max_block: usize, host_rate: f64) -> Box<ModelSlot> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = if name == "demo" {
        root.join("assets/demo_amp.nam")
    } else {
        root.join(format!("crates/nam/tests/fixtures/{name}.nam"))
    };
    let file = NamFile::from_path(path).unwrap();
    let spec = SlotSpec {
        host_rate,
        max_block,
        activations: ActivationMode::Accurate,
        size: 1.0,
        quality: Default::default(),
    };
    Box::new(ModelSlot::build(&file, spec).unwrap())
}

/// A decaying-noise IR written as a 24-bit WAV and read back, as a user's file would be.
fn ir_file(channels: usize, frames: usize) -> IrFile {
    let mut seed = frames as u32;
    let chans: Vec<Vec<f32>> = (0..channels)
        .map(|c| {
            (0..frames)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(1664525)
                        .wrapping_add(1013904223 + c as u32);
                    let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                    noise * (-(i as f32) / (frames as f32 / 6.0)).exp()
                })
                .collect()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("tubeless-chain-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("ir-{channels}-{frames}.wav"));
    let audio = Audio {
        sample_rate: 48_000,
        channels: chans,
    };
    wav::write(&path, &audio, BitDepth::Int24).unwrap();
    IrFile::load(&path).unwrap()
}

#[test]
fn every_transition_runs_without_touching_the_heap() {
    every_transition_at(48_000.0);
}

/// At 44.1 kHz every 48 kHz model runs inside its resampler pair.
#[test]
fn every_transition_runs_without_touching_the_heap_when_resampled() {
    every_transition_at(44_100.0);
}

fn every_transition_at(rate: f64) {
    let max_block = 256;
    let names = [
        "demo",
        "wavenet_nano_v054",
        "lstm_nano_v070",
        "container_lstm_wavenets_v070",
    ];
    let mut chain = Chain::new(rate, max_block, ChainSettings::default());
    chain.place(Some(slot("demo", max_block, rate)));
    let mut state = 77u64;
    let mut rnd = move |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % m
    };
    let mut l = vec![0.0f32; 4 * max_block];
    let mut r = vec![0.0f32; 4 * max_block];
    let mut waiting: Vec<Option<Box<ModelSlot>>> = Vec::new();
    let irs = [ir_file(1, 4800), ir_file(2, 48_000), ir_file(1, 7)];
    let mut waiting_ir: Vec<Option<IrSlot>> = Vec::new();
    let mut retired = Vec::new();
    let mut total_events = 0;
    for step in 0..600 {
        // Built off the "audio thread", as the loader does.
        if step % 37 == 5 {
            let pick = rnd(names.len() + 1);
            waiting.push((pick < names.len()).then(|| slot(names[pick], max_block, rate)));
        }
        if step % 29 == 3 {
            let pick = rnd(irs.len() + 1);
            waiting_ir.push(
                (pick < irs.len()).then(|| IrSlot::build(&irs[pick], rate, IrOptions::default())),
            );
        }
        let n = match rnd(6) {
            0 => 0,
            1 => 1,
            2 => rnd(4 * max_block) + 1, // beyond max_block too
            _ => rnd(max_block) + 1,
        };
        for (i, (a, b)) in l[..n].iter_mut().zip(&mut r[..n]).enumerate() {
            let t = (step * 1000 + i) as f32 / 48_000.0;
            *a = 0.4 * (t * 690.0).sin();
            *b = 0.3 * (t * 1030.0).cos();
        }
        if n > 3 {
            l[1] = f32::NAN;
            r[2] = f32::INFINITY;
            l[3] = 1e-41;
        }
        let settings = ChainSettings {
            input_gain_db: [-20.0, 0.0, 12.0][rnd(3)],
            output_gain_db: [-40.0, 0.0, 40.0][rnd(3)],
            output_mode: OutputMode::ALL[rnd(3)],
            input_calibration: rnd(2) == 0,
            input_calibration_dbu: [-10.0, 12.0, 20.0][rnd(3)],
            channel_mode: [ChannelMode::Mono, ChannelMode::DualMono][rnd(2)],
            bypass: rnd(5) == 0,
            gate: GateSettings {
                enabled: rnd(4) != 0,
                threshold_db: [-100.0, -60.0, -20.0][rnd(3)],
                attack_ms: [0.1, 5.0, 200.0][rnd(3)],
                hold_ms: [0.0, 10.0, 500.0][rnd(3)],
                release_ms: [1.0, 50.0, 2000.0][rnd(3)],
            },
            tone: ToneSettings {
                enabled: rnd(4) != 0,
                bass: rnd(11) as f32,
                middle: rnd(11) as f32,
                treble: rnd(11) as f32,
            },
            cab_enabled: rnd(4) != 0,
            size: [0.0, 0.5, 1.0][rnd(3)],
        };
        let offer = waiting.pop();
        let offer_ir = waiting_ir.pop();
        let stereo = rnd(2) == 0;
        let (back, events) = heap_events(|| {
            let mut back = None;
            let mut back_ir = None;
            if let Some(s) = offer {
                if let Err(s) = chain.offer(s) {
                    back = Some(s);
                }
            }
            if let Some(s) = offer_ir {
                if let Err(s) = chain.offer_ir(s) {
                    back_ir = Some(s);
                }
            }
            chain.set_settings(settings);
            let (a, b) = (&mut l[..n], &mut r[..n]);
            if stereo {
                chain.process(&mut [a, b], 2);
            } else {
                chain.process(&mut [a, b], 1);
            }
            if step % 97 == 0 {
                chain.reset();
            }
            let mut out: [Option<tubeless_dsp::Retired>; 8] = Default::default();
            for o in &mut out {
                *o = chain.take_retired();
            }
            (back, out, back_ir)
        });
        total_events += events;
        assert_eq!(events, 0, "step {step}: {n} samples, {settings:?}");
        assert!(l[..n].iter().chain(&r[..n]).all(|x| x.is_finite()));
        // Dropped here, off the guarded section.
        retired.extend(back.1.into_iter().flatten());
        if let Some(s) = back.0 {
            waiting.push(s);
        }
        if let Some(s) = back.2 {
            waiting_ir.push(s);
        }
        retired.clear();
    }
    assert_eq!(total_events, 0);
}
