//! Markdown image targets: where a target is written in the page, and what file it names
//! (CommonMark destinations are URLs, so `%XX` escapes are decoded).

use std::ops::Range;

/// The byte range of an image's target: where the destination is written inside the image's
/// range, or the whole image when the target is defined elsewhere (`![alt][ref]`).
pub(super) fn image_target_bytes(text: &str, image: Range<usize>, target: &str) -> Range<usize> {
    let Some(written) = text.get(image.clone()) else {
        return image;
    };
    written
        .match_indices("](")
        .find_map(|(at, _)| {
            let after = at + 2;
            let rest = written.get(after..)?;
            let skipped = rest.len() - rest.trim_start().trim_start_matches('<').len();
            rest.get(skipped..)?
                .starts_with(target)
                .then(|| image.start + after + skipped)
        })
        .map_or(image, |start| start..start + target.len())
}

/// A link destination with its `%XX` escapes decoded, as CommonMark destinations are URLs
/// (`my%20graph.png` names `my graph.png`). A destination whose escapes do not decode to
/// UTF-8 is kept as written.
pub(super) fn percent_decoded(destination: &str) -> String {
    let bytes = destination.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(value) => {
                decoded.push(value);
                at += 3;
            }
            None => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap_or_else(|_| destination.to_owned())
}
