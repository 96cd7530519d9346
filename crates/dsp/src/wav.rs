//! WAV files in and out: 8/16/24/32-bit integer and 32/64-bit float PCM, plain or
//! `WAVE_FORMAT_EXTENSIBLE`, any channel count and rate. Written by hand because the
//! usual crate reads no 64-bit float, and because a strange file (odd chunks, a streaming
//! writer's unset data size, a truncated tail) must give a clear error or load, never
//! panic.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Sample format of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int(u16),
    Float(u16),
}

impl std::fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SampleFormat::Int(b) => write!(f, "{b}-bit integer"),
            SampleFormat::Float(b) => write!(f, "{b}-bit float"),
        }
    }
}

/// What a WAV header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WavInfo {
    pub channels: usize,
    pub sample_rate: u32,
    pub format: SampleFormat,
    pub frames: usize,
}

/// Audio as planar channels of f32 in -1..1 (integers scaled by 2^(bits-1)).
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a WAV file ({why})")]
    NotWav { path: PathBuf, why: &'static str },
    #[error("{path}: unsupported WAV encoding (format tag {tag:#06x}, {bits} bits); use PCM integer or float")]
    UnsupportedFormat { path: PathBuf, tag: u16, bits: u16 },
    #[error("{path}: invalid header: {why}")]
    BadHeader { path: PathBuf, why: String },
    #[error(
        "{path}: {frames} frames of {channels} channels is too long to load ({max} samples max)"
    )]
    TooLong {
        path: PathBuf,
        frames: u64,
        channels: usize,
        max: u64,
    },
}

/// More than an hour of 8-channel 192 kHz audio: a header claiming more is lying.
const MAX_SAMPLES: u64 = 4_000_000_000 / 4;
const MAX_CHANNELS: u16 = 64;

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

struct Header {
    info: WavInfo,
    data_offset: u64,
    data_bytes: u64,
}

fn read_header<R: Read + Seek>(path: &Path, f: &mut R, file_len: u64) -> Result<Header, WavError> {
    let io = |source| WavError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_wav = |why| WavError::NotWav {
        path: path.to_path_buf(),
        why,
    };
    let bad = |why: String| WavError::BadHeader {
        path: path.to_path_buf(),
        why,
    };
    let mut riff = [0u8; 12];
    f.read_exact(&mut riff)
        .map_err(|_| not_wav("shorter than a RIFF header"))?;
    if &riff[0..4] != b"RIFF" && &riff[0..4] != b"RF64" {
        return Err(not_wav("no RIFF signature"));
    }
    if &riff[8..12] != b"WAVE" {
        return Err(not_wav("RIFF but not WAVE"));
    }
    let mut fmt: Option<(u16, u16, u32, u16, u16)> = None; // tag, channels, rate, align, bits
    let mut pos = 12u64;
    loop {
        let mut ch = [0u8; 8];
        if f.read_exact(&mut ch).is_err() {
            return Err(bad("no `data` chunk".into()));
        }
        pos += 8;
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let size = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as u64;
        match &id {
            b"fmt " => {
                if !(16..=1024).contains(&size) {
                    return Err(bad(format!("`fmt ` chunk of {size} bytes")));
                }
                let mut b = vec![0u8; size as usize];
                f.read_exact(&mut b)
                    .map_err(|_| bad("truncated `fmt ` chunk".into()))?;
                let u16at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
                let mut tag = u16at(0);
                let channels = u16at(2);
                let rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                let align = u16at(12);
                let bits = u16at(14);
                if tag == TAG_EXTENSIBLE {
                    if size < 40 {
                        return Err(bad("short WAVE_FORMAT_EXTENSIBLE header".into()));
                    }
                    // The sub-format GUID starts with the plain format tag.
                    tag = u16at(24);
                }
                fmt = Some((tag, channels, rate, align, bits));
            }
            b"data" => {
                let (tag, channels, rate, align, bits) =
                    fmt.ok_or_else(|| bad("`data` before `fmt `".into()))?;
                let format = match (tag, bits) {
                    (TAG_PCM, 8 | 16 | 24 | 32) => SampleFormat::Int(bits),
                    (TAG_FLOAT, 32 | 64) => SampleFormat::Float(bits),
                    _ => {
                        return Err(WavError::UnsupportedFormat {
                            path: path.to_path_buf(),
                            tag,
                            bits,
                        })
                    }
                };
                if channels == 0 || channels > MAX_CHANNELS {
                    return Err(bad(format!("{channels} channels")));
                }
                if !(1_000..=1_536_000).contains(&rate) {
                    return Err(bad(format!("sample rate {rate} Hz")));
                }
                let frame_bytes = channels as u64 * (bits as u64 / 8);
                if align as u64 != frame_bytes {
                    return Err(bad(format!(
                        "block align {align}, expected {frame_bytes} for {channels} x {bits} bits"
                    )));
                }
                // Streaming writers leave the size at 0 or 0xFFFFFFFF; a cut file is
                // shorter than it says. Either way, the data is what is there.
                let available = file_len.saturating_sub(pos);
                let data_bytes = if size == 0 || size == 0xFFFF_FFFF || size > available {
                    available
                } else {
                    size
                };
                let frames = data_bytes / frame_bytes;
                if frames * channels as u64 > MAX_SAMPLES {
                    return Err(WavError::TooLong {
                        path: path.to_path_buf(),
                        frames,
                        channels: channels as usize,
                        max: MAX_SAMPLES,
                    });
                }
                return Ok(Header {
                    info: WavInfo {
                        channels: channels as usize,
                        sample_rate: rate,
                        format,
                        frames: frames as usize,
                    },
                    data_offset: pos,
                    data_bytes: frames * frame_bytes,
                });
            }
            _ => {
                // Chunks are word-aligned: an odd size is followed by a pad byte.
                let skip = size + (size & 1);
                pos = pos
                    .checked_add(skip)
                    .ok_or_else(|| bad("chunk size overflow".into()))?;
                f.seek(SeekFrom::Start(pos)).map_err(io)?;
                continue;
            }
        }
        pos += size + (size & 1);
        f.seek(SeekFrom::Start(pos)).map_err(io)?;
    }
}

/// Reads only the header.
pub fn probe(path: &Path) -> Result<WavInfo, WavError> {
    let io = |source| WavError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    Ok(read_header(path, &mut f, len)?.info)
}

/// Reads a whole file as planar f32.
pub fn read(path: &Path) -> Result<Audio, WavError> {
    let io = |source| WavError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    read_from(path, &mut f, len)
}

/// Decodes a WAV file held in memory (e.g. one embedded in a saved plugin state);
/// `label` names it in errors.
pub fn read_bytes(label: &Path, bytes: &[u8]) -> Result<Audio, WavError> {
    read_from(label, &mut std::io::Cursor::new(bytes), bytes.len() as u64)
}

fn read_from<R: Read + Seek>(path: &Path, f: &mut R, len: u64) -> Result<Audio, WavError> {
    let io = |source| WavError::Io {
        path: path.to_path_buf(),
        source,
    };
    let h = read_header(path, f, len)?;
    f.seek(SeekFrom::Start(h.data_offset)).map_err(io)?;
    let mut bytes = vec![0u8; h.data_bytes as usize];
    f.read_exact(&mut bytes).map_err(io)?;
    let WavInfo {
        channels, format, ..
    } = h.info;
    let frames = h.info.frames;
    let mut out = vec![Vec::with_capacity(frames); channels];
    let width = match format {
        SampleFormat::Int(b) | SampleFormat::Float(b) => b as usize / 8,
    };
    for frame in bytes.chunks_exact(width * channels) {
        for (c, s) in frame.chunks_exact(width).enumerate() {
            let v = match format {
                SampleFormat::Int(8) => (s[0] as f32 - 128.0) / 128.0,
                SampleFormat::Int(16) => i16::from_le_bytes([s[0], s[1]]) as f32 / 32768.0,
                SampleFormat::Int(24) => {
                    (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 / 8_388_608.0
                }
                SampleFormat::Int(_) => {
                    i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f32 / 2_147_483_648.0
                }
                SampleFormat::Float(32) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
                SampleFormat::Float(_) => {
                    f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) as f32
                }
            };
            out[c].push(v);
        }
    }
    Ok(Audio {
        sample_rate: h.info.sample_rate,
        channels: out,
    })
}

/// Output encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitDepth {
    Int16,
    Int24,
    Float32,
}

/// What writing did to the signal.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteReport {
    /// Samples beyond full scale, clipped (integer formats only).
    pub clipped: usize,
}

/// Writes planar channels. Integer formats are clipped at full scale (and counted);
/// 16-bit gets TPDF dither, seeded so renders are reproducible.
pub fn write(path: &Path, audio: &Audio, depth: BitDepth) -> Result<WriteReport, WavError> {
    let io = |source| WavError::Io {
        path: path.to_path_buf(),
        source,
    };
    let channels = audio.channels.len() as u16;
    let frames = audio.frames();
    let (tag, bits) = match depth {
        BitDepth::Int16 => (TAG_PCM, 16u16),
        BitDepth::Int24 => (TAG_PCM, 24),
        BitDepth::Float32 => (TAG_FLOAT, 32),
    };
    let width = bits as u64 / 8;
    let data_bytes = frames as u64 * channels as u64 * width;
    if data_bytes + 36 > u32::MAX as u64 {
        return Err(WavError::TooLong {
            path: path.to_path_buf(),
            frames: frames as u64,
            channels: channels as usize,
            max: (u32::MAX as u64 - 36) / width,
        });
    }
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = BufWriter::new(file);
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&((36 + data_bytes) as u32).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&tag.to_le_bytes());
    header.extend_from_slice(&channels.to_le_bytes());
    header.extend_from_slice(&audio.sample_rate.to_le_bytes());
    header.extend_from_slice(&(audio.sample_rate * channels as u32 * width as u32).to_le_bytes());
    header.extend_from_slice(&(channels * width as u16).to_le_bytes());
    header.extend_from_slice(&bits.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&(data_bytes as u32).to_le_bytes());
    w.write_all(&header).map_err(io)?;

    let mut report = WriteReport::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut frame = Vec::with_capacity(channels as usize * 4);
    for i in 0..frames {
        frame.clear();
        for ch in &audio.channels {
            let x = ch[i];
            let x = if x.is_finite() { x } else { 0.0 };
            match depth {
                BitDepth::Float32 => frame.extend_from_slice(&x.to_le_bytes()),
                BitDepth::Int16 | BitDepth::Int24 => {
                    let full = if depth == BitDepth::Int16 {
                        32768.0
                    } else {
                        8_388_608.0
                    };
                    let dither = if depth == BitDepth::Int16 {
                        uniform() - uniform()
                    } else {
                        0.0
                    };
                    let v = (x as f64 * full + dither).round();
                    let (lo, hi) = (-full, full - 1.0);
                    if x as f64 * full > hi + 0.5 || (x as f64 * full) < lo - 0.5 {
                        report.clipped += 1;
                    }
                    let q = v.clamp(lo, hi) as i32;
                    if depth == BitDepth::Int16 {
                        frame.extend_from_slice(&(q as i16).to_le_bytes());
                    } else {
                        frame.extend_from_slice(&q.to_le_bytes()[..3]);
                    }
                }
            }
        }
        w.write_all(&frame).map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tubeless-wav-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn round_trips_every_output_depth() {
        let audio = Audio {
            sample_rate: 44_100,
            channels: vec![vec![0.0, 0.5, -0.5, 0.999], vec![0.25, -1.0, 0.125, 0.0]],
        };
        for (depth, tol) in [
            (BitDepth::Float32, 0.0),
            (BitDepth::Int24, 1.0 / 8_388_608.0),
            (BitDepth::Int16, 2.0 / 32768.0),
        ] {
            let p = tmp(&format!("rt-{depth:?}.wav"));
            write(&p, &audio, depth).unwrap();
            let back = read(&p).unwrap();
            assert_eq!(back.sample_rate, 44_100);
            assert_eq!(back.channels.len(), 2);
            for (a, b) in audio.channels.iter().zip(&back.channels) {
                for (x, y) in a.iter().zip(b) {
                    assert!((x - y).abs() <= tol + 1e-9, "{depth:?}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let p = tmp("garbage.wav");
        for bytes in [
            &b""[..],
            b"RIFF",
            b"RIFF\x00\x00\x00\x00WAVE",
            b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd",
            b"RIFF\x00\x00\x00\x00WAVEfmt \x02\x00\x00\x00ab",
            b"RIFF\x00\x00\x00\x00AVI LIST",
        ] {
            std::fs::write(&p, bytes).unwrap();
            assert!(read(&p).is_err());
        }
    }
}
