//! IR files: WAV in any common encoding (8/16/24/32-bit integer, 32/64-bit float, plain
//! or extensible), any rate, mono or stereo, up to `MAX_IR_SECONDS`. The original bytes
//! are kept so a saved plugin state can embed the IR and rebuild it exactly, at any
//! host rate, on any machine.

use std::path::{Path, PathBuf};

use crate::wav::{self, Audio, WavError};

/// Longest IR accepted (a long room or plate reverb fits; a song does not).
pub const MAX_IR_SECONDS: f64 = 20.0;
/// Largest file read: 20 s of stereo 64-bit float at 384 kHz is 123 MB.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum IrError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Wav(#[from] WavError),
    #[error("{name}: the file is {bytes} bytes; an IR file may have at most {max}")]
    FileTooLarge { name: String, bytes: u64, max: u64 },
    #[error("{name}: the file has no samples")]
    Empty { name: String },
    #[error("{name}: {channels} channels; an IR must be mono or stereo")]
    Channels { name: String, channels: usize },
    #[error("{name}: {seconds:.2} s long; an IR may be at most {max} s")]
    TooLong {
        name: String,
        seconds: f64,
        max: f64,
    },
    #[error(
        "{name}: sample {frame} of channel {channel} is {value}, not a number a speaker can play"
    )]
    NonFinite {
        name: String,
        frame: usize,
        channel: usize,
        value: f32,
    },
    #[error("{name}: every sample is 0 (a broken export?)")]
    Silent { name: String },
}

/// A decoded IR file, with the bytes it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct IrFile {
    name: String,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
    audio: Audio,
}

impl IrFile {
    /// Reads and checks a WAV file. Not for the audio thread.
    pub fn load(path: &Path) -> Result<IrFile, IrError> {
        let io = |source| IrError::Io {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        let name = path.display().to_string();
        if size > MAX_FILE_BYTES {
            return Err(IrError::FileTooLarge {
                name,
                bytes: size,
                max: MAX_FILE_BYTES,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let mut f = IrFile::from_bytes(name, bytes)?;
        f.path = Some(path.to_path_buf());
        Ok(f)
    }

    /// Decodes WAV bytes (e.g. embedded in a saved state); `name` labels errors and the
    /// editor's display.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Result<IrFile, IrError> {
        let name = name.into();
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(IrError::FileTooLarge {
                name,
                bytes: bytes.len() as u64,
                max: MAX_FILE_BYTES,
            });
        }
        let audio = wav::read_bytes(Path::new(&name), &bytes)?;
        check(&name, &audio)?;
        Ok(IrFile {
            name,
            path: None,
            bytes,
            audio,
        })
    }

    /// The path or label it was loaded as.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it was read from (None for bytes from a saved state).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The original WAV bytes: embed these in a saved state, `from_bytes` them back.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn sample_rate(&self) -> u32 {
        self.audio.sample_rate
    }

    pub fn channels(&self) -> usize {
        self.audio.channels.len()
    }

    pub fn frames(&self) -> usize {
        self.audio.frames()
    }

    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / self.sample_rate() as f64
    }

    /// The decoded samples at the file's own rate, one Vec per channel.
    pub fn audio(&self) -> &Audio {
        &self.audio
    }
}

fn check(name: &str, audio: &Audio) -> Result<(), IrError> {
    let name = || name.to_string();
    let channels = audio.channels.len();
    if channels > 2 {
        return Err(IrError::Channels {
            name: name(),
            channels,
        });
    }
    let frames = audio.frames();
    if channels == 0 || frames == 0 {
        return Err(IrError::Empty { name: name() });
    }
    let seconds = frames as f64 / audio.sample_rate as f64;
    if seconds > MAX_IR_SECONDS {
        return Err(IrError::TooLong {
            name: name(),
            seconds,
            max: MAX_IR_SECONDS,
        });
    }
    for (channel, ch) in audio.channels.iter().enumerate() {
        if let Some(frame) = ch.iter().position(|x| !x.is_finite()) {
            return Err(IrError::NonFinite {
                name: name(),
                frame,
                channel,
                value: ch[frame],
            });
        }
    }
    if audio.channels.iter().all(|ch| ch.iter().all(|&x| x == 0.0)) {
        return Err(IrError::Silent { name: name() });
    }
    Ok(())
}
