//! Package size: a function's stripped release binary and the zip Lambda would receive (`bootstrap`
//! at the archive's root, executable, deflated).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use zip::write::SimpleFileOptions;

/// The sizes of one function's package, in bytes.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSize {
    pub binary_bytes: u64,
    pub zip_bytes: u64,
}

/// Measures the binary at `binary` and writes its `bootstrap` zip to `zip_path`.
pub fn package(binary: &Path, zip_path: &Path) -> anyhow::Result<PackageSize> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let zipped = zip_bootstrap(&bytes)?;
    if let Some(parent) = zip_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(zip_path, &zipped).with_context(|| format!("writing {}", zip_path.display()))?;
    Ok(PackageSize {
        binary_bytes: bytes.len() as u64,
        zip_bytes: zipped.len() as u64,
    })
}

/// A zip holding `binary` as an executable `bootstrap`, deflated at the default level.
pub fn zip_bootstrap(binary: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    writer.start_file("bootstrap", options)?;
    writer.write_all(binary)?;
    Ok(writer.finish()?.into_inner())
}

/// What the sizes are of: the functions built for `target` (a triple, or this machine's default),
/// on this machine's architecture; the template deploys the aarch64 musl build, not measured here.
pub fn build_label(target: &str) -> String {
    format!(
        "{target} release build (the template deploys aarch64-unknown-linux-musl, not measured here)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_holds_an_executable_bootstrap_with_the_same_bytes() {
        let binary: Vec<u8> = (0..64 * 1024).map(|i| (i % 7) as u8).collect();
        let zipped = zip_bootstrap(&binary).unwrap();
        assert!(zipped.len() < binary.len() / 4, "deflated");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
        let mut entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut read).unwrap();
        assert_eq!(read, binary);
    }
}
