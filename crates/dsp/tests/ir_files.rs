//! IR files and their preparation: every common WAV encoding decodes to the values that
//! were encoded (the files are written here, byte by byte, independently of the
//! crate's writer), mono and stereo; bad files give their exact error; taps at the host
//! rate equal the band-limited signal the file holds, with the reference plugin's
//! normalisation.

use std::f64::consts::PI;
use std::path::PathBuf;

use tubeless_dsp::ir::*;

#[derive(Clone, Copy, Debug)]
enum Enc {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl Enc {
    fn tag_bits(self) -> (u16, u16) {
        match self {
            Enc::U8 => (1, 8),
            Enc::I16 => (1, 16),
            Enc::I24 => (1, 24),
            Enc::I32 => (1, 32),
            Enc::F32 => (3, 32),
            Enc::F64 => (3, 64),
        }
    }

    /// The sample as the file stores it, and the value a reader should return.
    fn encode(self, x: f64, out: &mut Vec<u8>) -> f32 {
        let q = |bits: u32| {
            let full = (1u64 << (bits - 1)) as f64;
            (x * full).round().clamp(-full, full - 1.0) as i64
        };
        match self {
            Enc::U8 => {
                let v = q(8);
                out.push((v + 128) as u8);
                v as f32 / 128.0
            }
            Enc::I16 => {
                let v = q(16);
                out.extend_from_slice(&(v as i16).to_le_bytes());
                v as f32 / 32768.0
            }
            Enc::I24 => {
                let v = q(24);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                v as f32 / 8_388_608.0
            }
            Enc::I32 => {
                let v = q(32);
                out.extend_from_slice(&(v as i32).to_le_bytes());
                (v as f64 / 2_147_483_648.0) as f32
            }
            Enc::F32 => {
                out.extend_from_slice(&(x as f32).to_le_bytes());
                x as f32
            }
            Enc::F64 => {
                out.extend_from_slice(&x.to_le_bytes());
                x as f32
            }
        }
    }
}

/// A WAV file of `channels` (planar) at `rate`; `extensible` writes the
/// WAVE_FORMAT_EXTENSIBLE header. Returns the bytes and the values a reader should see.
fn wav(enc: Enc, rate: u32, channels: &[Vec<f64>], extensible: bool) -> (Vec<u8>, Vec<Vec<f32>>) {
    let (tag, bits) = enc.tag_bits();
    let nch = channels.len() as u16;
    let frames = channels.first().map_or(0, Vec::len);
    let mut data = Vec::new();
    let mut expect = vec![Vec::new(); channels.len()];
    for i in 0..frames {
        for (c, ch) in channels.iter().enumerate() {
            expect[c].push(enc.encode(ch[i], &mut data));
        }
    }
    let align = nch * bits / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&(if extensible { 0xFFFEu16 } else { tag }).to_le_bytes());
    fmt.extend_from_slice(&nch.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * align as u32).to_le_bytes());
    fmt.extend_from_slice(&align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if extensible {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        fmt.extend_from_slice(&0u32.to_le_bytes());
        // Sub-format GUID: the plain tag, then the standard suffix.
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((4 + 8 + fmt.len() + 8 + data.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    // A chunk a reader must skip, with an odd size (pad byte).
    out.extend_from_slice(b"LIST\x03\x00\x00\x00abc\x00");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(&fmt);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    (out, expect)
}

fn decaying(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
                * 0.9
                * (-(i as f64) / (n as f64 / 4.0)).exp()
        })
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tubeless-ir-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn every_encoding_mono_and_stereo_decodes_exactly() {
    let left = decaying(3000, 1);
    let right = decaying(3000, 2);
    for enc in [Enc::U8, Enc::I16, Enc::I24, Enc::I32, Enc::F32, Enc::F64] {
        for extensible in [false, true] {
            for chans in [vec![left.clone()], vec![left.clone(), right.clone()]] {
                let (bytes, expect) = wav(enc, 44_100, &chans, extensible);
                let f = IrFile::from_bytes("cab.wav", bytes.clone()).unwrap();
                assert_eq!(f.sample_rate(), 44_100);
                assert_eq!(f.channels(), chans.len());
                assert_eq!(f.frames(), 3000);
                assert_eq!(f.audio().channels, expect, "{enc:?} ext {extensible}");
                assert!(
                    f.audio().channels[0].iter().any(|&v| v != 0.0),
                    "{enc:?} is not silent"
                );
                // The bytes are kept as they were, and give the same file back.
                assert_eq!(f.bytes(), &bytes[..]);
                assert_eq!(
                    IrFile::from_bytes("cab.wav", f.bytes().to_vec()).unwrap(),
                    f
                );
                // From disk: the same, with its path.
                let p = tmp(&format!("{enc:?}-{extensible}-{}.wav", chans.len()));
                std::fs::write(&p, &bytes).unwrap();
                let g = IrFile::load(&p).unwrap();
                assert_eq!(g.audio(), f.audio());
                assert_eq!(g.path(), Some(p.as_path()));
            }
        }
    }
}

#[test]
fn bad_files_say_what_is_wrong() {
    let one = |n: usize, v: f64| vec![vec![v; n]];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"this is not a wave file at all".to_vec(),
            "not a WAV file",
        ),
        (
            "empty",
            wav(Enc::I16, 48_000, &one(0, 0.0), false).0,
            "no samples",
        ),
        (
            "silent",
            wav(Enc::F32, 48_000, &one(500, 0.0), false).0,
            "every sample is 0",
        ),
        (
            "surround",
            wav(
                Enc::I16,
                48_000,
                &[decaying(10, 1), decaying(10, 2), decaying(10, 3)],
                false,
            )
            .0,
            "3 channels; an IR must be mono or stereo",
        ),
        (
            "long",
            wav(Enc::I16, 1_000, &one(21_000, 0.1), false).0,
            "21.00 s long; an IR may be at most 20 s",
        ),
        (
            "a-law",
            {
                let mut b = wav(Enc::U8, 8_000, &one(10, 0.5), false).0;
                // format tag 6 (A-law) in the `fmt ` chunk
                let at = b.windows(4).position(|w| w == b"fmt ").unwrap() + 8;
                b[at] = 6;
                b
            },
            "unsupported WAV encoding (format tag 0x0006",
        ),
    ];
    for (name, bytes, msg) in cases {
        let e = IrFile::from_bytes(name, bytes).unwrap_err().to_string();
        assert!(e.contains(msg) && e.starts_with(name), "{name}: {e}");
    }
    // A NaN in a float file: where it is.
    let mut v = decaying(100, 4);
    v[42] = f64::NAN;
    let (bytes, _) = wav(Enc::F64, 48_000, &[decaying(100, 5), v], false);
    let e = IrFile::from_bytes("nan.wav", bytes).unwrap_err();
    assert!(
        matches!(
            e,
            IrError::NonFinite {
                frame: 42,
                channel: 1,
                ..
            }
        ),
        "{e}"
    );
    // A file too big to be an IR is refused before it is read.
    let p = tmp("huge.wav");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(MAX_FILE_BYTES + 1).unwrap();
    let e = IrFile::load(&p).unwrap_err().to_string();
    assert!(e.contains(&format!("{} bytes", MAX_FILE_BYTES + 1)), "{e}");
    std::fs::remove_file(&p).unwrap();
    let e = IrFile::load(&tmp("missing.wav")).unwrap_err().to_string();
    assert!(e.contains("missing.wav"), "{e}");
}

#[test]
fn reference_normalisation() {
    // -18 dB at 48 kHz, scaled by 48000 / host rate.
    assert!((reference_gain(48_000.0) - 0.125_892_541).abs() < 1e-9);
    assert!((reference_gain(96_000.0) - 0.125_892_541 / 2.0).abs() < 1e-9);
    let x = decaying(2000, 7);
    let (bytes, expect) = wav(Enc::F32, 48_000, &[x], false);
    let f = IrFile::from_bytes("a", bytes).unwrap();
    let d = IrData::prepare(&f, 48_000.0, IrOptions::default());
    let g = reference_gain(48_000.0) as f32;
    assert_eq!(d.channels.len(), 1);
    assert_eq!(
        d.channels[0],
        expect[0].iter().map(|v| v * g).collect::<Vec<_>>()
    );
    let raw = IrData::prepare(
        &f,
        48_000.0,
        IrOptions {
            normalization: Normalization::Off,
        },
    );
    assert_eq!(raw.channels[0], expect[0]);
}

/// A band-limited IR: a Gaussian-windowed 2 kHz burst, defined at any time t (s).
fn burst(t: f64) -> f64 {
    let c = 0.004;
    (2.0 * PI * 2000.0 * (t - c)).sin() * (-((t - c) / 0.001).powi(2)).exp()
}

#[test]
fn resampled_taps_are_the_same_signal_at_the_host_rate() {
    for (file_rate, host) in [
        (96_000u32, 48_000.0),
        (44_100, 48_000.0),
        (48_000, 192_000.0),
        (48_000, 8_000.0),
    ] {
        let n = (0.01 * file_rate as f64) as usize;
        let x: Vec<f64> = (0..n).map(|i| burst(i as f64 / file_rate as f64)).collect();
        let (bytes, _) = wav(Enc::F64, file_rate, &[x], false);
        let f = IrFile::from_bytes("b", bytes).unwrap();
        let d = IrData::prepare(
            &f,
            host,
            IrOptions {
                normalization: Normalization::Off,
            },
        );
        assert_eq!(d.sample_rate, host);
        let taps = &d.channels[0];
        let expect_len = (0.01 * host).round() as usize;
        // Plus the resampling kernel's reach past the last tap (32 zero crossings).
        let reach = (34.0 * (host / file_rate as f64).max(1.0)) as usize + 2;
        assert!(
            taps.len() >= expect_len && taps.len() <= expect_len + reach,
            "{} vs {expect_len}",
            taps.len()
        );
        let mut worst = 0.0f64;
        for (m, &v) in taps.iter().enumerate() {
            worst = worst.max((v as f64 - burst(m as f64 / host)).abs());
        }
        // 2 kHz is well inside every pass band here (8 kHz host: 3.8 kHz).
        assert!(worst < 2e-4, "{file_rate} -> {host}: {worst}");
        let normalised = IrData::prepare(&f, host, IrOptions::default());
        let g = reference_gain(host) as f32;
        for (a, b) in normalised.channels[0].iter().zip(taps) {
            assert!((a - b * g).abs() <= 1e-7);
        }
    }
}

#[test]
fn stereo_trailing_silence_and_the_convolver() {
    let l = decaying(1000, 8);
    let mut padded = l.clone();
    padded.extend(vec![0.0; 5000]);
    let (bytes, _) = wav(Enc::I24, 48_000, &[padded.clone(), padded.clone()], false);
    let f = IrFile::from_bytes("same", bytes).unwrap();
    let d = IrData::prepare(&f, 48_000.0, IrOptions::default());
    assert_eq!(d.channels.len(), 1, "equal channels play as mono");
    assert_eq!(d.len(), 1000, "exact zeros at the end are dropped");
    let mut r = decaying(1000, 9);
    r.extend(vec![0.0; 5000]);
    let (bytes, _) = wav(Enc::I24, 48_000, &[padded, r], false);
    let f = IrFile::from_bytes("wide", bytes).unwrap();
    let c = Convolver::build(&f, 44_100.0, IrOptions::default());
    assert!(c.is_stereo());
    assert_eq!(c.sample_rate(), 44_100.0);
    let d = IrData::prepare(&f, 44_100.0, IrOptions::default());
    assert_eq!(c.len(), d.len());
    assert!(c.memory_bytes() > 4 * d.len());
}
