//! The `content-disposition` of a download: `attachment` with the original file name, as RFC 6266
//! says: an ASCII `filename` fallback and the exact name in `filename*` (RFC 8187, UTF-8,
//! percent-encoded).

/// `attachment; filename="…"; filename*=UTF-8''…` for a file name.
pub fn attachment(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for byte in file_name.bytes() {
        // RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" /
        // "`" / "|" / "~"; everything else is percent-encoded.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ascii_name_is_kept_and_encoded() {
        assert_eq!(
            attachment("notes v2.pdf"),
            "attachment; filename=\"notes v2.pdf\"; filename*=UTF-8''notes%20v2.pdf"
        );
    }

    #[test]
    fn quotes_and_non_ascii_never_break_the_header() {
        let value = attachment("résumé \"final\".pdf");
        assert_eq!(
            value,
            "attachment; filename=\"r_sum_ _final_.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert!(value.is_ascii());
    }
}
