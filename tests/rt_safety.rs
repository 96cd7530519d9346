//! The plugin's whole process path, through nice-plug's CLAP wrapper, never allocates,
//! reallocates or frees: model and cabinet IR swaps (a session restored while playing, to
//! another model, a container with sizes, a missing one, none; mono and stereo IRs), their
//! crossfades, every parameter moving (gains, gate, EQ, cab, output mode, calibration,
//! size, channel mode, bypass), NaN / Inf input, every block length up to the host's
//! maximum, and a host that re-activates at another rate (where the model is resampled). The plugin is the one linked into this test (its
//! `clap_entry`), so the counting allocator below sees every allocation the wrapper, the
//! chain and the engine could make on the audio thread.

mod common;

use clack_host::prelude::PluginEntry;
use common::*;
use serde_json::json;

#[path = "support/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::heap_events;

fn in_process() -> Instance {
    // SAFETY: the entry is this test binary's own plugin, alive for the whole process.
    let entry =
        unsafe { PluginEntry::load_from_raw(&tubeless::clap_entry, c"/in-process/Tubeless.clap") }
            .expect("the linked-in plugin loads");
    Instance::from_entry(entry)
}

#[test]
fn the_whole_process_path_stays_off_the_heap() {
    let mut p = in_process();
    let max_block = 512usize;
    p.activate(48_000.0, max_block as u32);
    let base = state_json(&p.save_state());
    let models = [
        json!({ "path": demo_model().display().to_string() }),
        json!({ "path": fixture("wavenet_nano_v054.nam").display().to_string() }),
        json!({ "path": fixture("lstm_nano_v070.nam").display().to_string() }),
        json!({ "path": "/nonexistent/missing.nam" }),
        json!({}),
        json!({ "path": fixture("container_lstm_wavenets_v070.nam").display().to_string() }),
    ];
    let dir = tmpdir("rt");
    let irs = [
        json!({ "path": cab_ir(&dir, 1, 0.1).display().to_string() }),
        json!({ "path": cab_ir(&dir, 2, 1.0).display().to_string() }),
        json!({}),
    ];
    let mut seed = 99u64;
    let mut rnd = move |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % m
    };
    let mut l = vec![0.0f32; max_block];
    let mut r = vec![0.0f32; max_block];
    let mut ol = vec![0.0f32; max_block];
    let mut or = vec![0.0f32; max_block];
    // The model really plays in this process (so the swaps below are real swaps).
    assert!(p.load_state(&state_bytes(&with_model_field(&base, &models[0]))));
    let probe = guitar(max_block, 48_000.0, 0);
    let mut i = [probe.clone(), probe.clone()];
    let [a, b] = &mut i;
    p.process(
        &mut [&mut a[..], &mut b[..]],
        &mut [&mut ol[..], &mut or[..]],
    );
    assert!(max_abs_diff(&ol, &probe) > 0.01, "the model is not playing");

    let mut total = 0usize;
    for step in 0..1500 {
        // The host's main thread, between two blocks (not guarded).
        if step % 60 == 10 {
            let m = &models[rnd(models.len())];
            let mut state = with_model_field(&base, m);
            state["fields"]["ir"] = serde_json::Value::String(irs[rnd(irs.len())].to_string());
            assert!(p.load_state(&state_bytes(&state)));
        }
        if step == 700 {
            // Re-activated at another rate: everything is rebuilt off the audio thread.
            p.activate(44_100.0, max_block as u32);
        }
        // Parameter events carry normalized values (0..1), as CLAP hosts send them.
        if step % 7 == 0 {
            for id in [
                "in_db", "out_db", "gate_db", "bass", "middle", "treble", "size",
            ] {
                p.set_param(id, [0.0, 0.5, 1.0][rnd(3)]);
            }
        }
        if step % 23 == 0 {
            for id in ["chmode", "outmode", "gate_on", "eq_on", "ir_on", "cal_on"] {
                p.set_param(id, [0.0, 0.5, 1.0][rnd(3)]);
            }
            p.set_param("gate_att_ms", rnd(2) as f64);
            p.set_param("gate_rel_ms", rnd(2) as f64);
        }
        if step % 41 == 0 {
            p.set_param("bypass", rnd(2) as f64);
        }
        let n = match rnd(5) {
            0 => 1,
            1 => max_block,
            _ => rnd(max_block) + 1,
        };
        for (i, (a, b)) in l[..n].iter_mut().zip(&mut r[..n]).enumerate() {
            let t = (step * max_block + i) as f32 / 48_000.0;
            *a = 0.5 * (t * 700.0).sin();
            *b = 0.4 * (t * 1100.0).sin();
        }
        if n > 2 {
            l[1] = f32::NAN;
            r[2] = f32::NEG_INFINITY;
        }
        let ((), events) = heap_events(|| {
            let mut i = [&mut l[..n], &mut r[..n]];
            let mut o = [&mut ol[..n], &mut or[..n]];
            p.process(&mut i, &mut o);
        });
        assert_eq!(events, 0, "step {step}: block of {n} touched the heap");
        assert!(ol[..n].iter().chain(&or[..n]).all(|x| x.is_finite()));
        total += events;
        p.main_thread_tick();
    }
    assert_eq!(total, 0);
}
