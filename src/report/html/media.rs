//! The files the HTML report embeds: images (generated ones and the figures pages show) as
//! `data:` URIs, and DOT text, read from disk with size caps so that one huge image cannot
//! make a report nobody can open. What is over a cap, missing or unreadable is not embedded;
//! the report names its path and says why.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use base64::Engine as _;

/// Images larger than this are linked by path instead of inlined.
pub const DEFAULT_MAX_INLINE_BYTES: u64 = 5 * 1024 * 1024;

/// Bytes of images inlined in one report; images past it are linked by path.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// How much the report may inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// Largest image inlined, in bytes.
    pub max_inline_bytes: u64,
    /// Most image bytes inlined in the whole report.
    pub max_total_bytes: u64,
}

impl Default for MediaLimits {
    fn default() -> MediaLimits {
        MediaLimits {
            max_inline_bytes: DEFAULT_MAX_INLINE_BYTES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
        }
    }
}

/// An image as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Embedded {
    /// `data:<mime>;base64,...`, ready for an `<img src>`.
    Inline { data_uri: String },
    /// Not inlined: the report names the path and says why.
    Linked { reason: String },
}

/// Reads images for one report, keeping count of what it inlined.
#[derive(Debug)]
pub struct Embedder {
    limits: MediaLimits,
    inlined_bytes: u64,
}

impl Embedder {
    pub fn new(limits: MediaLimits) -> Embedder {
        Embedder {
            limits,
            inlined_bytes: 0,
        }
    }

    /// The image at `path` as a `data:` URI, or why it is not one. SVG goes through a data
    /// URI too (never inline markup): an `<img>` runs none of the scripts an SVG may hold.
    pub fn image(&mut self, path: &Path) -> Embedded {
        let Some(mime) = image_mime(path) else {
            return linked("not an image type the report shows (png, svg, jpg, gif)");
        };
        let budget = self.limits.max_inline_bytes.min(
            self.limits
                .max_total_bytes
                .saturating_sub(self.inlined_bytes),
        );
        let bytes = match read_bounded(path, budget) {
            Ok(bytes) => bytes,
            Err(Unread::TooLarge(size)) if size > self.limits.max_inline_bytes => {
                return linked(&format!(
                    "{} is larger than the {} the report inlines",
                    mib(size),
                    mib(self.limits.max_inline_bytes)
                ));
            }
            Err(Unread::TooLarge(_)) => {
                return linked(&format!(
                    "the report already holds {} of images, its most",
                    mib(self.limits.max_total_bytes)
                ));
            }
            Err(Unread::Io(reason)) => return linked(&reason),
        };
        self.inlined_bytes += bytes.len() as u64;
        let mut data_uri = format!("data:{mime};base64,");
        base64::engine::general_purpose::STANDARD.encode_string(&bytes, &mut data_uri);
        Embedded::Inline { data_uri }
    }
}

/// DOT text written by an example, up to `max_bytes` (lossy UTF-8), or why it cannot be shown.
pub fn dot_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    match read_bounded(path, max_bytes) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(Unread::TooLarge(size)) => Err(format!(
            "{} is larger than the {} the report shows",
            mib(size),
            mib(max_bytes)
        )),
        Err(Unread::Io(reason)) => Err(reason),
    }
}

/// The MIME type of an image the report shows, by extension (as `ArtifactKind::of` decides).
pub fn image_mime(path: &Path) -> Option<&'static str> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match extension.as_str() {
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        _ => return None,
    })
}

enum Unread {
    TooLarge(u64),
    Io(String),
}

fn linked(reason: &str) -> Embedded {
    Embedded::Linked {
        reason: reason.to_owned(),
    }
}

/// A regular file's bytes when it holds at most `max_bytes`; read with a bound, since the
/// file may grow between the size check and the read.
fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Unread> {
    let file = File::open(path).map_err(|error| Unread::Io(format!("cannot be read: {error}")))?;
    let metadata = file
        .metadata()
        .map_err(|error| Unread::Io(format!("cannot be read: {error}")))?;
    if !metadata.is_file() {
        return Err(Unread::Io("is not a regular file".to_owned()));
    }
    if metadata.len() > max_bytes {
        return Err(Unread::TooLarge(metadata.len()));
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| Unread::Io(format!("cannot be read: {error}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Unread::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_images_are_inlined_and_large_ones_linked() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.png");
        let large = dir.path().join("large.svg");
        std::fs::write(&small, b"\x89PNG").unwrap();
        std::fs::write(&large, vec![b'x'; 20]).unwrap();
        let mut embedder = Embedder::new(MediaLimits {
            max_inline_bytes: 10,
            max_total_bytes: 100,
        });
        assert_eq!(
            embedder.image(&small),
            Embedded::Inline {
                data_uri: "data:image/png;base64,iVBORw==".to_owned()
            }
        );
        let Embedded::Linked { reason } = embedder.image(&large) else {
            panic!("a 20-byte image over a 10-byte cap was inlined");
        };
        assert!(reason.contains("larger than"), "{reason}");
        let Embedded::Linked { reason } = embedder.image(&dir.path().join("missing.gif")) else {
            panic!("a missing image was inlined");
        };
        assert!(reason.starts_with("cannot be read"), "{reason}");
    }

    #[test]
    fn the_total_budget_stops_inlining() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("a.png");
        std::fs::write(&image, [0u8; 8]).unwrap();
        let mut embedder = Embedder::new(MediaLimits {
            max_inline_bytes: 10,
            max_total_bytes: 12,
        });
        assert!(matches!(embedder.image(&image), Embedded::Inline { .. }));
        let Embedded::Linked { reason } = embedder.image(&image) else {
            panic!("inlined past the report's budget");
        };
        assert!(reason.contains("its most"), "{reason}");
    }

    #[test]
    fn only_image_types_are_embedded() {
        assert_eq!(image_mime(Path::new("a.SVG")), Some("image/svg+xml"));
        assert_eq!(image_mime(Path::new("a.dot")), None);
        assert_eq!(image_mime(Path::new("noext")), None);
    }
}
