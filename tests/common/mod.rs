//! A small CLAP host on `clack-host`, shared by the plugin-level tests: it loads the bundled
//! `.clap` (or the plugin linked into the test itself), activates it, feeds it audio and
//! parameter events in blocks, and saves and loads its state, as a DAW does.
#![allow(dead_code)]

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use clack_extensions::latency::PluginLatency;
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

pub const PLUGIN_ID: &str = "audio.tubeless.nam-player";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository, when present.
pub fn shared() -> Option<PathBuf> {
    let d = repo().join("../shared");
    d.is_dir().then_some(d)
}

/// The bundles `cargo xtask test` built, or `None` (the test then skips, saying why).
/// Under `cargo xtask test` (`TUBELESS_BUNDLES` set) a missing bundle is a failure.
pub fn bundle(name: &str) -> Option<PathBuf> {
    match std::env::var_os("TUBELESS_BUNDLES") {
        Some(dir) => {
            let p = PathBuf::from(dir).join(name);
            assert!(p.exists(), "{} was not built", p.display());
            Some(p)
        }
        None => {
            eprintln!(
                "SKIP: plugin bundles are tested by `cargo xtask test` (TUBELESS_BUNDLES unset)"
            );
            None
        }
    }
}

pub fn demo_model() -> PathBuf {
    repo().join("assets/demo_amp.nam")
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("crates/nam/tests/fixtures").join(name)
}

/// nice-plug's CLAP parameter id for a string id (its Rabin hash).
pub fn param_id(id: &str) -> ClapId {
    let mut hash: u32 = 0;
    for b in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(b as u32);
    }
    ClapId::new(hash & !(1 << 31))
}

pub struct Shared {
    callback: AtomicBool,
    restart: AtomicBool,
}

impl<'a> SharedHandler<'a> for Shared {
    fn request_restart(&self) {
        self.restart.store(true, Ordering::SeqCst);
    }
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback.store(true, Ordering::SeqCst);
    }
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// One plugin instance, as a DAW track holds it.
pub struct Instance {
    // Field order matters: the processor goes before the instance, the instance before the
    // entry (the library) that holds its code.
    processor: Option<StartedPluginAudioProcessor<TestHost>>,
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
    pub inputs: usize,
    pub outputs: usize,
    events: EventBuffer,
    out_events: EventBuffer,
    in_ports: AudioPorts,
    out_ports: AudioPorts,
}

fn host_info() -> HostInfo {
    HostInfo::new(
        "Tubeless test host",
        "Tubeless",
        "https://example.org",
        "1.0",
    )
    .unwrap()
}

impl Instance {
    /// Loads a `.clap` file as a DAW does.
    pub fn load(path: &Path) -> Instance {
        let entry = unsafe { PluginEntry::load(path) }
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self::from_entry(entry)
    }

    pub fn from_entry(entry: PluginEntry) -> Instance {
        let id = CString::new(PLUGIN_ID).unwrap();
        let instance = PluginInstance::<TestHost>::new(
            |_| Shared {
                callback: AtomicBool::new(false),
                restart: AtomicBool::new(false),
            },
            |_| (),
            &entry,
            &id,
            &host_info(),
        )
        .expect("the plugin instantiates");
        Instance {
            processor: None,
            instance,
            _entry: entry,
            inputs: 2,
            outputs: 2,
            events: EventBuffer::with_capacity(64),
            out_events: EventBuffer::with_capacity(64),
            in_ports: AudioPorts::with_capacity(2, 1),
            out_ports: AudioPorts::with_capacity(2, 1),
        }
    }

    pub fn activate(&mut self, sample_rate: f64, max_block: u32) {
        self.deactivate();
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_block,
        };
        let stopped = self
            .instance
            .activate(|_, _| (), config)
            .expect("the plugin activates");
        self.processor = Some(stopped.start_processing().expect("processing starts"));
        self.main_thread_tick();
    }

    pub fn deactivate(&mut self) {
        if let Some(p) = self.processor.take() {
            self.instance.deactivate(p.stop_processing());
        }
    }

    /// Runs what the plugin asked to run on the main thread.
    pub fn main_thread_tick(&mut self) {
        let wants = self
            .instance
            .access_shared_handler(|s| s.callback.swap(false, Ordering::SeqCst));
        if wants {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// Queues a parameter change for the next `process` call (plain value).
    pub fn set_param(&mut self, id: &str, value: f64) {
        self.events.push(&ParamValueEvent::new(
            0,
            param_id(id),
            Pckn::match_all(),
            value,
        ));
    }

    /// One host block: `input` channels in, output channels out (as many as `outputs`).
    /// Allocation-free once warmed up: every buffer is the caller's or preallocated.
    pub fn process(&mut self, input: &mut [&mut [f32]], output: &mut [&mut [f32]]) {
        let processor = self.processor.as_mut().expect("activate first");
        let inputs = self.in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                input.iter_mut().map(|b| InputChannel::variable(&mut **b)),
            ),
        }]);
        let mut outputs = self.out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(output.iter_mut().map(|b| &mut **b)),
        }]);
        let in_events = InputEvents::from_buffer(&self.events);
        let mut out_events = OutputEvents::from_buffer(&mut self.out_events);
        processor
            .process(
                &inputs,
                &mut outputs,
                &in_events,
                &mut out_events,
                None,
                None,
            )
            .expect("process succeeds");
        self.events.clear();
        self.out_events.clear();
    }

    /// Renders a whole signal (one or two channels in) in the given block lengths; returns
    /// `outputs` channels.
    pub fn render(&mut self, input: &[Vec<f32>], blocks: &[usize]) -> Vec<Vec<f32>> {
        let total: usize = blocks.iter().sum();
        assert_eq!(total, input[0].len());
        let mut out = vec![vec![0.0f32; total]; self.outputs];
        let mut inb: Vec<Vec<f32>> = input.iter().map(|c| c.to_vec()).collect();
        let mut at = 0;
        for &n in blocks {
            let mut i: Vec<&mut [f32]> = inb.iter_mut().map(|c| &mut c[at..at + n]).collect();
            let mut o: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[at..at + n]).collect();
            self.process(&mut i, &mut o);
            at += n;
            self.main_thread_tick();
        }
        out
    }

    pub fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let ext: PluginState = handle.get_extension().expect("state extension");
        let mut bytes = Vec::new();
        ext.save(&handle, &mut bytes).expect("state saves");
        bytes
    }

    pub fn load_state(&mut self, bytes: &[u8]) -> bool {
        let handle = self.instance.plugin_handle();
        let ext: PluginState = handle.get_extension().expect("state extension");
        let ok = ext.load(&handle, &mut &bytes[..]).is_ok();
        self.main_thread_tick();
        ok
    }

    pub fn latency(&mut self) -> u32 {
        let handle = self.instance.plugin_handle();
        let ext: PluginLatency = handle.get_extension().expect("latency extension");
        ext.get(&handle)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.deactivate();
    }
}

/// nice-plug's CLAP state: an 8-byte little-endian length, then its JSON.
pub fn state_json(bytes: &[u8]) -> serde_json::Value {
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + len]).expect("state is JSON")
}

pub fn state_bytes(json: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut v = (body.len() as u64).to_le_bytes().to_vec();
    v.extend(body);
    v
}

/// A state whose `model` field is `model` (a JSON value, stored as nice-plug does: a string).
pub fn with_model_field(state: &serde_json::Value, model: &serde_json::Value) -> serde_json::Value {
    let mut s = state.clone();
    s["fields"]["model"] = serde_json::Value::String(model.to_string());
    s
}

/// The `model` field of a state, parsed.
pub fn model_field(state: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(state["fields"]["model"].as_str().expect("model field")).unwrap()
}

/// Block patterns a host may use: fixed sizes and a seeded random mix (1 ..= max).
pub fn block_patterns(total: usize, max: usize, seed: u64) -> Vec<(String, Vec<usize>)> {
    let fixed = |b: usize| -> Vec<usize> {
        (0..total.div_ceil(b))
            .map(|i| b.min(total - i * b))
            .collect()
    };
    let mut s = seed;
    let mut left = total;
    let mut mix = Vec::new();
    while left > 0 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = ((s >> 33) as usize % max + 1).min(left);
        mix.push(n);
        left -= n;
    }
    let mut v: Vec<(String, Vec<usize>)> = [1usize, 7, 64, 1024]
        .iter()
        .filter(|&&b| b <= max)
        .map(|&b| (b.to_string(), fixed(b)))
        .collect();
    v.push(("random".into(), mix));
    v
}

/// A guitar-like test signal.
pub fn guitar(n: usize, rate: f64, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let env = (-(t % 0.3) * 7.0).exp();
            let f = 82.4 * (1.0 + seed as f32 * 0.5);
            0.45 * env
                * ((2.0 * std::f32::consts::PI * f * t).sin()
                    + 0.3 * (2.0 * std::f32::consts::PI * 3.0 * f * t).sin())
        })
        .collect()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A model that is the identity (a one-tap Linear at 48 kHz): what comes out is what went
/// in, so timing and level can be read off the output.
pub fn identity_model(dir: &Path) -> PathBuf {
    let p = dir.join("identity-48k.nam");
    let json = serde_json::json!({
        "version": "0.5.4", "architecture": "Linear", "sample_rate": 48000,
        "config": {"receptive_field": 1, "bias": false}, "weights": [1.0],
        "metadata": {"name": "identity"}
    });
    std::fs::write(&p, json.to_string()).unwrap();
    p
}

/// A scratch folder for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tubeless-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A decaying-noise cabinet IR written as a 24-bit WAV (`channels` 1 or 2).
pub fn cab_ir(dir: &Path, channels: usize, seconds: f64) -> PathBuf {
    let frames = (seconds * 48_000.0) as usize;
    let mut seed = 12345u32;
    let chans: Vec<Vec<f32>> = (0..channels)
        .map(|c| {
            (0..frames)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(1664525)
                        .wrapping_add(1013904223 + c as u32);
                    let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                    noise * (-(i as f32) / (frames as f32 / 8.0)).exp()
                })
                .collect()
        })
        .collect();
    let p = dir.join(format!("cab-{channels}ch.wav"));
    let audio = tubeless_dsp::wav::Audio {
        sample_rate: 48_000,
        channels: chans,
    };
    tubeless_dsp::wav::write(&p, &audio, tubeless_dsp::wav::BitDepth::Int24).unwrap();
    p
}

/// A band-limited click: a 1 kHz burst under a Hann window, 4 ms long, at `at`.
pub fn click(n: usize, at: usize, rate: f64) -> Vec<f32> {
    let len = (0.004 * rate) as usize;
    let mut x = vec![0.0f32; n];
    for i in 0..len {
        let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / len as f64).cos();
        let s = (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / rate).sin();
        x[at + i] = (0.5 * w * s) as f32;
    }
    x
}

/// The delay of `y` against `x`, in samples, to a fraction of a sample (cross-correlation
/// peak with a parabola through its neighbours), searched over 0 ..= `max_lag`.
pub fn measured_delay(x: &[f32], y: &[f32], max_lag: usize) -> f64 {
    let corr = |lag: usize| -> f64 {
        x.iter()
            .zip(&y[lag..])
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum()
    };
    let c: Vec<f64> = (0..=max_lag + 1).map(corr).collect();
    let k = (0..=max_lag)
        .max_by(|&a, &b| c[a].partial_cmp(&c[b]).unwrap())
        .unwrap();
    if k == 0 {
        return 0.0;
    }
    let (l, m, r) = (c[k - 1], c[k], c[k + 1]);
    k as f64 + 0.5 * (l - r) / (l - 2.0 * m + r)
}
