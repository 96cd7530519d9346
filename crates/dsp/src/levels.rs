//! Output modes and input calibration, as the reference plugin computes them. Pure
//! functions of the model's level metadata (plain numbers, so this crate's chain does not
//! depend on how a `.nam` file is parsed): the editor asks which modes a model supports
//! and why not, the chain asks for the gains.
//!
//! - Normalized: `-18 - loudness` dB after the model, bringing every capture to the same
//!   loudness.
//! - Calibrated: `output_level_dbu - input calibration level` dB after the model: with
//!   the interface's input level given, the capture's output sits at the level the real
//!   amp produced for the same playing.
//! - Calibrate input: `input calibration level - input_level_dbu` dB before the model, so
//!   the model sees the level the real amp saw.
//!
//! A mode the metadata cannot support adds nothing (the reference does the same) and is
//! reported with a reason the editor can show.

/// The loudness the Normalized mode brings a model to (dB).
pub const NORMALIZED_TARGET_DB: f64 = crate::NORMALIZED_LOUDNESS_DB;
/// The reference plugin's default input calibration level (dBu at digital full scale).
pub const DEFAULT_INPUT_CALIBRATION_DBU: f64 = 12.0;
/// The reference plugin's range for the input calibration level.
pub const INPUT_CALIBRATION_RANGE_DBU: (f64, f64) = (-60.0, 60.0);

/// The reference plugin's output modes, in its order (its default is `Normalized`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    Raw,
    #[default]
    Normalized,
    Calibrated,
}

impl OutputMode {
    pub const ALL: [OutputMode; 3] = [
        OutputMode::Raw,
        OutputMode::Normalized,
        OutputMode::Calibrated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Raw => "Raw",
            OutputMode::Normalized => "Normalized",
            OutputMode::Calibrated => "Calibrated",
        }
    }
}

/// What a model's metadata says about levels; `None` where the file is silent. Values
/// that are not finite numbers count as absent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelLevels {
    /// `metadata.loudness`, dB.
    pub loudness: Option<f64>,
    /// `metadata.input_level_dbu`: dBu at the capture interface's digital full scale in.
    pub input_level_dbu: Option<f64>,
    /// `metadata.output_level_dbu`: dBu at its digital full scale out.
    pub output_level_dbu: Option<f64>,
}

impl ModelLevels {
    pub const fn new(
        loudness: Option<f64>,
        input_level_dbu: Option<f64>,
        output_level_dbu: Option<f64>,
    ) -> Self {
        ModelLevels {
            loudness,
            input_level_dbu,
            output_level_dbu,
        }
    }
}

fn known(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Why a mode cannot be used, worded for the editor's tooltip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("no model is loaded")]
    NoModel,
    #[error("the model's metadata has no loudness, so it cannot be normalized")]
    NoLoudness,
    #[error(
        "the model's metadata has no output level (output_level_dbu), so it cannot be calibrated"
    )]
    NoOutputLevel,
    #[error("the model's metadata has no input level (input_level_dbu), so the input cannot be calibrated")]
    NoInputLevel,
}

/// Whether `mode` works for this model (`levels` is `None` when no model is loaded).
pub fn output_mode_availability(
    mode: OutputMode,
    levels: Option<&ModelLevels>,
) -> Result<(), Unavailable> {
    let Some(l) = levels else {
        return match mode {
            OutputMode::Raw => Ok(()),
            _ => Err(Unavailable::NoModel),
        };
    };
    match mode {
        OutputMode::Raw => Ok(()),
        OutputMode::Normalized => known(l.loudness).map(|_| ()).ok_or(Unavailable::NoLoudness),
        OutputMode::Calibrated => known(l.output_level_dbu)
            .map(|_| ())
            .ok_or(Unavailable::NoOutputLevel),
    }
}

/// Gain (dB) the output mode adds after the model, on top of the output knob; 0 when the
/// mode is unavailable, as in the reference.
pub fn output_mode_gain_db(
    mode: OutputMode,
    levels: Option<&ModelLevels>,
    input_calibration_dbu: f64,
) -> f64 {
    let Some(l) = levels else { return 0.0 };
    match mode {
        OutputMode::Raw => 0.0,
        OutputMode::Normalized => known(l.loudness).map_or(0.0, |x| NORMALIZED_TARGET_DB - x),
        OutputMode::Calibrated => {
            match (known(l.output_level_dbu), finite(input_calibration_dbu)) {
                (Some(out), Some(cal)) => out - cal,
                _ => 0.0,
            }
        }
    }
}

/// Whether input calibration works for this model.
pub fn input_calibration_availability(levels: Option<&ModelLevels>) -> Result<(), Unavailable> {
    let l = levels.ok_or(Unavailable::NoModel)?;
    known(l.input_level_dbu)
        .map(|_| ())
        .ok_or(Unavailable::NoInputLevel)
}

/// Gain (dB) input calibration adds before the model, on top of the input knob; 0 when
/// it is off or unavailable.
pub fn input_calibration_gain_db(
    enabled: bool,
    levels: Option<&ModelLevels>,
    input_calibration_dbu: f64,
) -> f64 {
    if !enabled {
        return 0.0;
    }
    match (
        levels.and_then(|l| known(l.input_level_dbu)),
        finite(input_calibration_dbu),
    ) {
        (Some(model_in), Some(cal)) => cal - model_in,
        _ => 0.0,
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: ModelLevels = ModelLevels::new(Some(-11.5), Some(7.0), Some(19.5));
    const BARE: ModelLevels = ModelLevels::new(None, None, None);

    #[test]
    fn gains_are_the_reference_formulas() {
        let m = Some(&FULL);
        assert_eq!(output_mode_gain_db(OutputMode::Raw, m, 12.0), 0.0);
        // -18 - (-11.5)
        assert_eq!(output_mode_gain_db(OutputMode::Normalized, m, 12.0), -6.5);
        // output_level_dbu - calibration level: 19.5 - 12
        assert_eq!(output_mode_gain_db(OutputMode::Calibrated, m, 12.0), 7.5);
        assert_eq!(output_mode_gain_db(OutputMode::Calibrated, m, -3.0), 22.5);
        // calibration level - input_level_dbu: 12 - 7
        assert_eq!(input_calibration_gain_db(true, m, 12.0), 5.0);
        assert_eq!(input_calibration_gain_db(false, m, 12.0), 0.0);
        for mode in OutputMode::ALL {
            assert_eq!(output_mode_availability(mode, m), Ok(()));
        }
        assert_eq!(input_calibration_availability(m), Ok(()));
    }

    #[test]
    fn missing_metadata_disables_with_a_reason_and_adds_nothing() {
        let m = Some(&BARE);
        assert_eq!(output_mode_availability(OutputMode::Raw, m), Ok(()));
        assert_eq!(
            output_mode_availability(OutputMode::Normalized, m),
            Err(Unavailable::NoLoudness)
        );
        assert_eq!(
            output_mode_availability(OutputMode::Calibrated, m),
            Err(Unavailable::NoOutputLevel)
        );
        assert_eq!(
            input_calibration_availability(m),
            Err(Unavailable::NoInputLevel)
        );
        for mode in OutputMode::ALL {
            assert_eq!(output_mode_gain_db(mode, m, 12.0), 0.0);
            assert_eq!(output_mode_gain_db(mode, None, 12.0), 0.0);
        }
        assert_eq!(input_calibration_gain_db(true, m, 12.0), 0.0);
        assert_eq!(
            output_mode_availability(OutputMode::Normalized, None),
            Err(Unavailable::NoModel)
        );
        assert_eq!(output_mode_availability(OutputMode::Raw, None), Ok(()));
        // A NaN in the file is no number.
        let nan = ModelLevels::new(Some(f64::NAN), Some(f64::INFINITY), Some(f64::NAN));
        assert_eq!(
            output_mode_availability(OutputMode::Normalized, Some(&nan)),
            Err(Unavailable::NoLoudness)
        );
        assert_eq!(input_calibration_gain_db(true, Some(&nan), 12.0), 0.0);
        assert!(Unavailable::NoOutputLevel
            .to_string()
            .contains("output_level_dbu"));
    }

    #[test]
    fn defaults_match_the_reference() {
        assert_eq!(OutputMode::default(), OutputMode::Normalized);
        assert_eq!(NORMALIZED_TARGET_DB, -18.0);
        assert_eq!(DEFAULT_INPUT_CALIBRATION_DBU, 12.0);
        let names: Vec<_> = OutputMode::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["Raw", "Normalized", "Calibrated"]);
    }
}
