//! Which files a render reads and writes: folders expanded, outputs planned so that no
//! input is ever overwritten and no two inputs land on one output.

use std::path::{Path, PathBuf};

pub fn is_wav_name(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"))
}

/// Files as given, folders expanded to the WAV files directly inside them (sorted).
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && is_wav_name(f))
                .collect();
            if found.is_empty() {
                return Err(format!("{}: folder has no .wav files", p.display()));
            }
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(files)
}

/// A path to compare against others: canonical where it exists, else its canonical
/// parent joined with its name.
fn identity(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let parent = p
        .parent()
        .filter(|q| !q.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), p.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => p.to_path_buf(),
    }
}

pub fn plan_outputs(inputs: &[PathBuf], output: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    let single_file = inputs.len() == 1 && output.is_some_and(|o| is_wav_name(o) && !o.is_dir());
    let outs: Vec<PathBuf> = if single_file {
        vec![output.unwrap().to_path_buf()]
    } else {
        let dir = output.map_or_else(|| PathBuf::from("tubeless-out"), Path::to_path_buf);
        if dir.is_file() {
            return Err(format!(
                "{}: is a file; with {} inputs, -o must be a folder",
                dir.display(),
                inputs.len()
            ));
        }
        inputs
            .iter()
            .map(|i| {
                let stem = i.file_stem().unwrap_or_default().to_string_lossy();
                dir.join(format!("{stem}.wav"))
            })
            .collect()
    };
    let input_ids: Vec<PathBuf> = inputs.iter().map(|p| identity(p)).collect();
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
    for (o, i) in outs.iter().zip(inputs) {
        let id = identity(o);
        if input_ids.contains(&id) {
            return Err(format!(
                "{}: output would overwrite an input; choose another -o",
                o.display()
            ));
        }
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == id) {
            return Err(format!(
                "{} and {} would both be written to {}; render them separately or rename one",
                other.display(),
                i.display(),
                o.display()
            ));
        }
        seen.push((id, i));
    }
    Ok(outs)
}
