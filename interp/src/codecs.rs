//! Text encodings: `str.encode`, `bytes.decode`, `str(b, encoding)` and
//! text files all go through here, with CPython's codec names, its error
//! handlers (`strict`, `ignore`, `replace`, `backslashreplace`,
//! `xmlcharrefreplace`) and its `UnicodeDecodeError`/`UnicodeEncodeError`
//! messages.
//!
//! UTF-8, ASCII, Latin-1, UTF-16 and UTF-32 are done here; the legacy
//! single- and multi-byte encodings (cp1252, iso-8859-15, koi8-r,
//! shift_jis, gbk, ...) come from `encoding_rs`.

use crate::exceptions::*;
use crate::object::{PyErr, PyResult};
use crate::types::types;

/// Byte order of a UTF-16 or UTF-32 codec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Endian {
    Little,
    Big,
}

/// A codec, as `lookup` finds it by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Codec {
    /// UTF-8; `sig` writes and skips a byte-order mark (`utf-8-sig`).
    Utf8 {
        sig: bool,
    },
    Ascii,
    Latin1,
    /// UTF-16; without a byte order, a BOM is written and read.
    Utf16(Option<Endian>),
    /// UTF-32; without a byte order, a BOM is written and read.
    Utf32(Option<Endian>),
    Legacy(&'static encoding_rs::Encoding),
}

impl Codec {
    /// The codec's name in error messages, as CPython gives it.
    pub fn error_name(self) -> String {
        match self {
            Codec::Utf8 { .. } => "utf-8".into(),
            Codec::Ascii => "ascii".into(),
            Codec::Latin1 => "latin-1".into(),
            Codec::Utf16(e) => format!("utf-16{}", endian_suffix(e.unwrap_or(Endian::Little))),
            Codec::Utf32(e) => format!("utf-32{}", endian_suffix(e.unwrap_or(Endian::Little))),
            Codec::Legacy(enc) if enc.is_single_byte() => "charmap".into(),
            Codec::Legacy(enc) => enc.name().to_ascii_lowercase().replace('-', "_"),
        }
    }

    /// Bytes per code unit: lines and characters are found by unit.
    pub fn unit(self) -> usize {
        match self {
            Codec::Utf16(_) => 2,
            Codec::Utf32(_) => 4,
            _ => 1,
        }
    }

    /// Is a byte below 0x80 always the ASCII character it names (so a
    /// stream can be split at b'\n' before decoding)?
    pub fn ascii_compatible(self) -> bool {
        match self {
            Codec::Utf16(_) | Codec::Utf32(_) => false,
            Codec::Legacy(enc) => enc.is_ascii_compatible(),
            _ => true,
        }
    }
}

fn endian_suffix(e: Endian) -> &'static str {
    match e {
        Endian::Little => "-le",
        Endian::Big => "-be",
    }
}

/// The bytes Python's cp1252 does not define.
const CP1252_UNDEFINED: [u8; 5] = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

/// The codec an encoding name stands for, or CPython's `LookupError`.
pub fn lookup(name: &str) -> PyResult<Codec> {
    let n: String = name.trim().to_ascii_lowercase().chars().map(|c| if c == '-' || c == ' ' { '_' } else { c }).collect();
    let codec = match n.as_str() {
        "utf_8" | "utf8" | "u8" | "utf" | "cp65001" | "utf8_ucs2" | "utf8_ucs4" => Codec::Utf8 { sig: false },
        "utf_8_sig" | "utf8_sig" => Codec::Utf8 { sig: true },
        "ascii" | "us_ascii" | "646" | "us" | "ansi_x3.4_1968" => Codec::Ascii,
        "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819" | "iso_ir_100" | "iso_8859_1:1987" => {
            Codec::Latin1
        }
        "utf_16" | "utf16" | "u16" => Codec::Utf16(None),
        "utf_16_le" | "utf_16le" | "utf16le" => Codec::Utf16(Some(Endian::Little)),
        "utf_16_be" | "utf_16be" | "utf16be" => Codec::Utf16(Some(Endian::Big)),
        "utf_32" | "utf32" | "u32" => Codec::Utf32(None),
        "utf_32_le" | "utf_32le" | "utf32le" => Codec::Utf32(Some(Endian::Little)),
        "utf_32_be" | "utf_32be" | "utf32be" => Codec::Utf32(Some(Endian::Big)),
        _ => {
            let label = n.replace('_', "-");
            match encoding_rs::Encoding::for_label_no_replacement(label.as_bytes())
                .or_else(|| encoding_rs::Encoding::for_label_no_replacement(n.as_bytes()))
            {
                // UTF-16 and UTF-8 labels were taken above; what is left
                // here names a legacy encoding.
                Some(enc) if enc.output_encoding() == enc => Codec::Legacy(enc),
                _ => return Err(err(&types().exc.lookup_error, format!("unknown encoding: {name}"))),
            }
        }
    };
    Ok(codec)
}

fn unknown_handler(errors: &str) -> PyErr {
    err(&types().exc.lookup_error, format!("unknown error handler name '{errors}'"))
}

fn decode_error(codec: Codec, bytes: &[u8], start: usize, end: usize, reason: &str) -> PyErr {
    let what = if end - start <= 1 {
        format!("byte 0x{:02x} in position {start}", bytes[start])
    } else {
        format!("bytes in position {start}-{}", end - 1)
    };
    err(&types().exc.unicode_decode_error, format!("'{}' codec can't decode {what}: {reason}", codec.error_name()))
}

/// What a decode error handler puts in place of `bytes[start..end]`.
fn decode_fallback(codec: Codec, bytes: &[u8], start: usize, end: usize, reason: &str, errors: &str, out: &mut String) -> PyResult<()> {
    match errors {
        "strict" => return Err(decode_error(codec, bytes, start, end, reason)),
        "ignore" => {}
        "replace" => out.push('\u{fffd}'),
        "backslashreplace" => {
            for b in &bytes[start..end] {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        other => return Err(unknown_handler(other)),
    }
    Ok(())
}

/// Decode `bytes` with `codec`, handling bad input as `errors` says.
pub fn decode(codec: Codec, bytes: &[u8], errors: &str) -> PyResult<String> {
    match codec {
        Codec::Utf8 { sig } => {
            let bytes = if sig { bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes) } else { bytes };
            decode_utf8(codec, bytes, errors)
        }
        Codec::Ascii => {
            if bytes.is_ascii() {
                return Ok(String::from_utf8_lossy(bytes).into_owned());
            }
            let mut out = String::with_capacity(bytes.len());
            for (i, &b) in bytes.iter().enumerate() {
                if b < 128 {
                    out.push(b as char);
                } else {
                    decode_fallback(codec, bytes, i, i + 1, "ordinal not in range(128)", errors, &mut out)?;
                }
            }
            Ok(out)
        }
        Codec::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
        Codec::Utf16(e) => {
            let (e, skip) = bom(bytes, e, &[(b"\xff\xfe", Endian::Little), (b"\xfe\xff", Endian::Big)]);
            decode_utf16(Codec::Utf16(Some(e)), bytes, skip, errors)
        }
        Codec::Utf32(e) => {
            let (e, skip) = bom(bytes, e, &[(b"\xff\xfe\x00\x00", Endian::Little), (b"\x00\x00\xfe\xff", Endian::Big)]);
            decode_utf32(Codec::Utf32(Some(e)), bytes, skip, errors)
        }
        Codec::Legacy(enc) if enc == encoding_rs::WINDOWS_1252 => {
            // cp1252 leaves five bytes undefined, where the web's
            // windows-1252 maps them to control characters.
            let mut out = String::with_capacity(bytes.len());
            let mut from = 0;
            for (i, b) in bytes.iter().enumerate() {
                if CP1252_UNDEFINED.contains(b) {
                    out.push_str(&decode_legacy(codec, enc, &bytes[from..i], errors)?);
                    decode_fallback(codec, bytes, i, i + 1, "character maps to <undefined>", errors, &mut out)?;
                    from = i + 1;
                }
            }
            out.push_str(&decode_legacy(codec, enc, &bytes[from..], errors)?);
            Ok(out)
        }
        Codec::Legacy(enc) => decode_legacy(codec, enc, bytes, errors),
    }
}

/// The byte order to read with, and how many bytes of BOM to skip.
fn bom(bytes: &[u8], given: Option<Endian>, marks: &[(&[u8], Endian)]) -> (Endian, usize) {
    if let Some(e) = given {
        return (e, 0);
    }
    for (m, e) in marks {
        if bytes.starts_with(m) {
            return (*e, m.len());
        }
    }
    (Endian::Little, 0)
}

fn decode_utf8(codec: Codec, bytes: &[u8], errors: &str) -> PyResult<String> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match std::str::from_utf8(&bytes[at..]) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let good = at + e.valid_up_to();
                out.push_str(std::str::from_utf8(&bytes[at..good]).unwrap_or_default());
                let (end, reason) = match e.error_len() {
                    None => (bytes.len(), "unexpected end of data"),
                    Some(n) => {
                        let lead = bytes[good];
                        let reason =
                            if n > 1 || (0xc2..=0xf4).contains(&lead) { "invalid continuation byte" } else { "invalid start byte" };
                        (good + n, reason)
                    }
                };
                decode_fallback(codec, bytes, good, end, reason, errors, &mut out)?;
                at = end;
            }
        }
    }
    Ok(out)
}

fn decode_utf16(codec: Codec, bytes: &[u8], from: usize, errors: &str) -> PyResult<String> {
    let big = codec == Codec::Utf16(Some(Endian::Big));
    let whole = from + (bytes.len() - from) / 2 * 2;
    let units = bytes[from..whole].chunks(2).map(|c| if big { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) });
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut at = from;
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => {
                out.push(c);
                at += c.len_utf16() * 2;
            }
            Err(e) => {
                let reason = if e.unpaired_surrogate() < 0xdc00 { "illegal UTF-16 surrogate" } else { "illegal encoding" };
                decode_fallback(codec, bytes, at, at + 2, reason, errors, &mut out)?;
                at += 2;
            }
        }
    }
    if whole < bytes.len() {
        decode_fallback(codec, bytes, whole, bytes.len(), "truncated data", errors, &mut out)?;
    }
    Ok(out)
}

fn decode_utf32(codec: Codec, bytes: &[u8], from: usize, errors: &str) -> PyResult<String> {
    let big = codec == Codec::Utf32(Some(Endian::Big));
    let mut out = String::with_capacity(bytes.len() / 4);
    let whole = from + (bytes.len() - from) / 4 * 4;
    for (i, c) in bytes[from..whole].chunks(4).enumerate() {
        let a = [c[0], c[1], c[2], c[3]];
        let n = if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) };
        match char::from_u32(n) {
            Some(ch) => out.push(ch),
            None => {
                let reason = if n > 0x10ffff {
                    "code point not in range(0x110000)"
                } else {
                    "code point in surrogate code point range(0xd800, 0xe000)"
                };
                let at = from + i * 4;
                decode_fallback(codec, bytes, at, at + 4, reason, errors, &mut out)?;
            }
        }
    }
    if whole < bytes.len() {
        decode_fallback(codec, bytes, whole, bytes.len(), "truncated data", errors, &mut out)?;
    }
    Ok(out)
}

fn decode_legacy(codec: Codec, enc: &'static encoding_rs::Encoding, bytes: &[u8], errors: &str) -> PyResult<String> {
    use encoding_rs::DecoderResult;
    let mut dec = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(dec.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3));
    let mut at = 0;
    loop {
        let need = dec.max_utf8_buffer_length_without_replacement(bytes.len() - at).unwrap_or(bytes.len() * 3);
        out.reserve(need);
        let (r, read) = dec.decode_to_string_without_replacement(&bytes[at..], &mut out, true);
        at += read;
        match r {
            DecoderResult::InputEmpty => return Ok(out),
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(bad, extra) => {
                let end = at - extra as usize;
                let start = end - bad as usize;
                let reason = if enc.is_single_byte() { "character maps to <undefined>" } else { "illegal multibyte sequence" };
                decode_fallback(codec, bytes, start, end, reason, errors, &mut out)?;
            }
        }
    }
}

/// The character a message shows: `'\xe9'`, `'\u20ac'`, `'\U0001f600'`.
fn shown_char(c: char) -> String {
    let n = c as u32;
    if n < 0x100 {
        format!("'\\x{n:02x}'")
    } else if n < 0x10000 {
        format!("'\\u{n:04x}'")
    } else {
        format!("'\\U{n:08x}'")
    }
}

fn encode_error(codec: Codec, chars: &[char], start: usize, end: usize, reason: &str) -> PyErr {
    let what = if end - start <= 1 {
        format!("character {} in position {start}", shown_char(chars[start]))
    } else {
        format!("characters in position {start}-{}", end - 1)
    };
    err(&types().exc.unicode_encode_error, format!("'{}' codec can't encode {what}: {reason}", codec.error_name()))
}

/// Encode `s` with `codec`, handling unencodable characters as `errors` says.
pub fn encode(codec: Codec, s: &str, errors: &str) -> PyResult<Vec<u8>> {
    match codec {
        Codec::Utf8 { sig } => {
            let mut out = Vec::with_capacity(s.len() + 3);
            if sig {
                out.extend_from_slice(b"\xef\xbb\xbf");
            }
            out.extend_from_slice(s.as_bytes());
            Ok(out)
        }
        Codec::Ascii | Codec::Latin1 if s.is_ascii() => Ok(s.as_bytes().to_vec()),
        Codec::Ascii | Codec::Latin1 => {
            let limit = if codec == Codec::Ascii { 128 } else { 256 };
            let reason = format!("ordinal not in range({limit})");
            encode_by_char(codec, s, errors, &reason, |c, out| {
                let ok = (c as u32) < limit;
                if ok {
                    out.push(c as u8);
                }
                ok
            })
        }
        Codec::Utf16(e) => {
            let mut out = Vec::with_capacity(s.len() * 2 + 2);
            let big = e == Some(Endian::Big);
            if e.is_none() {
                out.extend_from_slice(b"\xff\xfe");
            }
            for u in s.encode_utf16() {
                out.extend_from_slice(&if big { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            Ok(out)
        }
        Codec::Utf32(e) => {
            let mut out = Vec::with_capacity(s.len() * 4 + 4);
            let big = e == Some(Endian::Big);
            if e.is_none() {
                out.extend_from_slice(b"\xff\xfe\x00\x00");
            }
            for c in s.chars() {
                let n = c as u32;
                out.extend_from_slice(&if big { n.to_be_bytes() } else { n.to_le_bytes() });
            }
            Ok(out)
        }
        Codec::Legacy(enc) => {
            let mut encoder = enc.new_encoder();
            let mut buf = [0u8; 4];
            encode_by_char(codec, s, errors, "character maps to <undefined>", |c, out| {
                let piece = c.encode_utf8(&mut buf);
                let mut tmp = Vec::with_capacity(8);
                let (r, _) = encoder.encode_from_utf8_to_vec_without_replacement(piece, &mut tmp, false);
                let undefined = enc == encoding_rs::WINDOWS_1252 && tmp.len() == 1 && CP1252_UNDEFINED.contains(&tmp[0]);
                let ok = !matches!(r, encoding_rs::EncoderResult::Unmappable(_)) && !undefined;
                if ok {
                    out.extend_from_slice(&tmp);
                }
                ok
            })
            .map(|mut out| {
                let mut tail = Vec::with_capacity(8);
                let _ = encoder.encode_from_utf8_to_vec_without_replacement("", &mut tail, true);
                out.extend_from_slice(&tail);
                out
            })
        }
    }
}

/// Encode one character at a time with `put`, which says whether the
/// character could be encoded; runs of those that cannot go to `errors`.
fn encode_by_char(codec: Codec, s: &str, errors: &str, reason: &str, mut put: impl FnMut(char, &mut Vec<u8>) -> bool) -> PyResult<Vec<u8>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if put(chars[i], &mut out) {
            i += 1;
            continue;
        }
        // CPython reports the whole run of characters that cannot be encoded.
        let mut end = i + 1;
        let mut scratch = Vec::new();
        while end < chars.len() && !put(chars[end], &mut scratch) {
            end += 1;
        }
        match errors {
            "strict" => return Err(encode_error(codec, &chars, i, end, reason)),
            "ignore" => {}
            "replace" => out.extend(std::iter::repeat_n(b'?', end - i)),
            "backslashreplace" | "xmlcharrefreplace" => {
                for &c in &chars[i..end] {
                    let text = if errors == "xmlcharrefreplace" {
                        format!("&#{};", c as u32)
                    } else {
                        shown_char(c).trim_matches('\'').to_string()
                    };
                    out.extend_from_slice(text.as_bytes());
                }
            }
            other => return Err(unknown_handler(other)),
        }
        // The character that ended the run was encoded into `scratch`.
        out.extend_from_slice(&scratch);
        i = end + usize::from(end < chars.len());
    }
    Ok(out)
}

/// The `encoding` and `errors` arguments of `str.encode`, `bytes.decode`
/// and `str(b, ...)`: positional from `args.pos[first]` on, or by keyword.
pub fn codec_args(args: &crate::object::Args, first: usize, func: &str) -> PyResult<(Codec, String)> {
    let get = |i: usize, name: &str| -> PyResult<Option<String>> {
        let v = args.pos.get(first + i).or_else(|| args.kw.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v));
        match v {
            None => Ok(None),
            Some(crate::value::Value::Str(s)) => Ok(Some(s.as_str().to_string())),
            Some(other) => Err(type_error(format!("{func}() argument '{name}' must be str, not {}", crate::types::type_name(other)))),
        }
    };
    let codec = match get(0, "encoding")? {
        Some(name) => lookup(&name)?,
        None => Codec::Utf8 { sig: false },
    };
    Ok((codec, get(1, "errors")?.unwrap_or_else(|| "strict".to_string())))
}
