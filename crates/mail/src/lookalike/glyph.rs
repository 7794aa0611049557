//! What a label looks like, as one comparable string.
//!
//! [`fold`] maps every character to the plain letter it is drawn like, so that two
//! labels a reader cannot tell apart fold to the same string: the UTS #39 skeleton
//! (Cyrillic `о` → `o`, `ɑ` → `a`), accents and strokes dropped (`í`, `ł`), the
//! letters the confusables table leaves out (Cyrillic `м`, small capitals), and the
//! ASCII tricks (`rn` for `m`, `vv` for `w`, `0` for `o`, `1` and `i` for `l`).

use unicode_normalization::char::is_combining_mark;

/// The look of `label` (already lower-case): equal folds mean a reader sees the same name.
pub fn fold(label: &str) -> String {
    let mut plain = String::with_capacity(label.len());
    if label.is_ascii() {
        plain.push_str(label);
    } else {
        // Letters the confusables table leaves out go first, so that its own mapping of
        // them (to a rarer shape) cannot hide the plain letter.
        let seen: String = label.chars().map(|c| drawn_like(c).unwrap_or(c)).collect();
        for c in unicode_security::skeleton(&seen) {
            if is_combining_mark(c) {
                continue;
            }
            for lower in c.to_lowercase() {
                plain.push(drawn_like(lower).unwrap_or(lower));
            }
        }
    }
    fold_ascii(&plain)
}

/// Letters that UTS #39's confusables table does not map to the Latin letter they
/// resemble at text sizes (it keeps them apart because they differ in shape when large).
fn drawn_like(c: char) -> Option<char> {
    Some(match c {
        'ʍ' | 'м' | 'ᴍ' | 'ɱ' => 'm',
        'ꞑ' | 'ŋ' | 'ɲ' | 'ɳ' => 'n',
        'ʙ' | 'ɓ' | 'ƅ' | 'ь' => 'b',
        'ᴄ' | 'ƈ' => 'c',
        'ɖ' | 'ɗ' | 'đ' | 'ԁ' => 'd',
        'ɇ' | 'ə' => 'e',
        'ƒ' => 'f',
        'ɡ' | 'ɢ' | 'ǥ' | 'ԍ' => 'g',
        'ɦ' | 'ħ' | 'ⱨ' | 'һ' => 'h',
        'ɩ' | 'ɪ' | 'ɨ' | 'ı' | 'і' => 'i',
        'ʝ' | 'ɉ' | 'ј' => 'j',
        'ĸ' | 'ⱪ' | 'ᴋ' | 'к' => 'k',
        'ł' | 'ɫ' | 'ӏ' => 'l',
        'ø' | 'ᴏ' | 'ơ' | 'о' => 'o',
        'ƿ' | 'ƥ' | 'р' => 'p',
        'ʠ' | 'ԛ' => 'q',
        'ʀ' | 'ɍ' | 'ɾ' | 'ɽ' | 'ɼ' => 'r',
        'ꜱ' | 'ʂ' | 'ѕ' => 's',
        'ƫ' | 'ŧ' | 'т' => 't',
        'ᴜ' | 'ư' | 'ʉ' => 'u',
        'ᶌ' | 'ᴠ' | 'ⱴ' | 'ⱱ' | 'ѵ' => 'v',
        'ᴡ' | 'ⱳ' | 'ԝ' => 'w',
        'ɏ' | 'ƴ' | 'ʏ' | 'у' => 'y',
        'ƶ' | 'ⱬ' | 'ᴢ' | 'ʐ' => 'z',
        'ʒ' => '3',
        'ƻ' => '2',
        'ƽ' => '5',
        'а' | 'ɑ' => 'a',
        'с' => 'c',
        'е' => 'e',
        'х' => 'x',
        _ => return None,
    })
}

/// ASCII characters and pairs drawn alike in the fonts mail clients and browsers use.
fn fold_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes.get(i..i + 2);
        let merged = match pair {
            Some(b"rn") | Some(b"nn") => Some('m'),
            Some(b"vv") => Some('w'),
            Some(b"cl") => Some('d'),
            _ => None,
        };
        if let Some(m) = merged {
            out.push(m);
            i += 2;
            continue;
        }
        let c = match bytes[i] {
            b'0' => 'o',
            b'1' | b'i' | b'|' => 'l',
            other => char::from(other),
        };
        // Non-ASCII bytes only reach here inside multi-byte characters the tables above
        // did not map; copy the whole character.
        if bytes[i].is_ascii() {
            out.push(c);
            i += 1;
        } else {
            let rest = &s[i..];
            let ch = rest.chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn labels_a_reader_cannot_tell_apart_fold_alike() {
        let cases = [
            ("microsoft", "micrоsoft"), // Cyrillic о
            ("microsoft", "rnicrosoft"),
            ("microsoft", "micr0soft"),
            ("microsoft", "mícrosoft"),
            ("microsoft", "мicrosoft"), // Cyrillic м
            ("linkedin", "1inkedin"),
            ("linkedin", "linkedln"),
            ("linkedin", "łinkedin"),
            ("who", "vvho"),
            ("who", "ẉho"),
            ("who", "ᶌᶌho"),
            ("google", "ɡооgle"),
        ];
        for (real, fake) in cases {
            assert_eq!(fold(real), fold(fake), "{fake} should look like {real}");
        }
    }

    #[test]
    fn different_names_fold_apart() {
        for (a, b) in [
            ("who", "wmo"),
            ("microsoft", "macrosoft"),
            ("linkedin", "linked"),
        ] {
            assert_ne!(fold(a), fold(b), "{a} vs {b}");
        }
    }
}
