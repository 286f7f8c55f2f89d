//! What text from a partner may hold where a person reads it or a record is matched on it.
//!
//! Two strings that look the same must not be two people: a zero-width space inside an email
//! made Lever keep two opportunities for one candidate, and a right-to-left override makes a
//! name or file name display as something it is not. So text is put in NFKC form (full-width
//! and compatibility letters become the plain ones) and characters that are invisible or steer
//! the display are refused, not silently dropped: the partner learns its data was odd.

use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;

/// `s` in Unicode NFKC form.
pub fn nfkc(s: &str) -> String {
    ComposingNormalizerBorrowed::new_nfkc().normalize(s).into_owned()
}

/// A control character (NUL, escapes, line breaks) or an invisible format character (zero-width
/// spaces, bidirectional overrides and isolates, the byte-order mark). The zero-width joiner
/// and non-joiner are allowed: Persian and Indic names are spelled with them.
pub fn is_hidden_or_control(c: char) -> bool {
    if matches!(c, '\u{200C}' | '\u{200D}') {
        return false;
    }
    matches!(CodePointMapData::<GeneralCategory>::new().get(c), GeneralCategory::Control | GeneralCategory::Format)
}

/// The first character of `s` that [`is_hidden_or_control`], named for an error message.
pub fn first_hidden_or_control(s: &str) -> Option<String> {
    s.chars().find(|c| is_hidden_or_control(*c)).map(|c| format!("U+{:04X}", c as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_control_characters() {
        for c in ['\0', '\n', '\u{7f}', '\u{200B}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{061C}', '\u{00AD}'] {
            assert!(is_hidden_or_control(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', ' ', '-', '\u{200C}', '\u{200D}', 'ß', '李'] {
            assert!(!is_hidden_or_control(c), "U+{:04X}", c as u32);
        }
        assert_eq!(first_hidden_or_control("cv\u{202E}fdp.exe").as_deref(), Some("U+202E"));
        assert_eq!(first_hidden_or_control("Zoë O'Brien"), None);
    }

    #[test]
    fn compatibility_forms_become_plain() {
        assert_eq!(nfkc("ｇｒａｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"), "grace@example.com");
        assert_eq!(nfkc("ﬁle"), "file");
        assert_eq!(nfkc("Zoë"), "Zoë");
    }
}
