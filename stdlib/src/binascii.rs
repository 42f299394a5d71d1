//! `_binascii`: the byte loops of `binascii` and `base64` (base64, base32,
//! hex, Ascii85 and base85), so that encoding a megabyte runs no .aio code
//! per byte. The .aio modules keep argument checking and the exception
//! classes: a kernel that meets input it does not accept answers with an
//! error message (`a2b_base64`) or `None` (`b32decode`, whose .aio code
//! then finds CPython's exact error), except the 85 decoders, whose errors
//! are plain ValueErrors raised here.

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::bytes::{bytes_like, need_bytes_like, Buf};
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};
use data_encoding::{BASE32, BASE32HEX, BASE64, HEXLOWER, HEXLOWER_PERMISSIVE};

fn data(a: &Args, i: usize) -> PyResult<Buf> {
    match a.pos.get(i) {
        Some(v) => need_bytes_like(v),
        None => Err(type_error("missing bytes argument")),
    }
}

fn flag(a: &Args, i: usize) -> bool {
    matches!(a.pos.get(i), Some(Value::Bool(b)) if b.get()) || matches!(a.pos.get(i), Some(Value::Int(n)) if *n != 0)
}

/// `b2a_base64(data, newline)`.
fn b2a_base64(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    let mut out = BASE64.encode(&d).into_bytes();
    if flag(&a, 1) {
        out.push(b'\n');
    }
    Ok(Value::bytes(out))
}

/// The value of a standard base64 digit.
fn b64_digit(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// `a2b_base64(data, strict_mode)`: the decoded bytes, or the message of
/// the `binascii.Error` to raise. Outside strict mode, bytes that are not
/// base64 digits are skipped and decoding stops at the padding that
/// completes a quantum, as CPython's decoder does.
fn a2b_base64(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    Ok(match decode_base64(&d, flag(&a, 1)) {
        Ok(b) => Value::bytes(b),
        Err(msg) => Value::str(&msg),
    })
}

fn decode_base64(s: &[u8], strict: bool) -> Result<Vec<u8>, String> {
    if strict && s.first() == Some(&b'=') {
        return Err("Leading padding not allowed".into());
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    // The digits of the quantum being read and how many there are; the
    // `=` seen since the last digit, and whether any was seen at all.
    let (mut acc, mut quad, mut digits) = (0u32, 0, 0usize);
    let (mut pads, mut padding_started) = (0, false);
    for (i, &c) in s.iter().enumerate() {
        if c == b'=' {
            padding_started = true;
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    if strict && i + 1 < s.len() {
                        return Err("Excess data after padding".into());
                    }
                    break;
                }
            }
            continue;
        }
        let Some(v) = b64_digit(c) else {
            if strict {
                return Err("Only base64 data is allowed".into());
            }
            continue;
        };
        if strict && padding_started {
            return Err("Discontinuous padding not allowed".into());
        }
        pads = 0;
        acc = (acc << 6) | v;
        quad += 1;
        digits += 1;
        if quad == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            (acc, quad) = (0, 0);
        }
    }
    match quad {
        1 => Err(format!("Invalid base64-encoded string: number of data characters ({digits}) cannot be 1 more than a multiple of 4")),
        2 | 3 if quad + pads < 4 => Err("Incorrect padding".into()),
        2 => {
            out.push((acc >> 4) as u8);
            Ok(out)
        }
        3 => {
            out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            Ok(out)
        }
        _ => Ok(out),
    }
}

/// `hexlify(data)`: lowercase hex digits, two per byte.
fn hexlify(_vm: &mut Vm, a: Args) -> PyResult {
    Ok(Value::bytes(HEXLOWER.encode(&data(&a, 0)?).into_bytes()))
}

/// `unhexlify(data)`: the bytes two hex digits (either case) stand for,
/// or `None` for an odd length or a byte that is no hex digit.
fn unhexlify(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    Ok(HEXLOWER_PERMISSIVE.decode(&d).map(Value::bytes).unwrap_or(Value::None))
}

/// `b32encode(data, extended_hex)`.
fn b32encode(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    let enc = if flag(&a, 1) { &BASE32HEX } else { &BASE32 };
    Ok(Value::bytes(enc.encode(&d).into_bytes()))
}

/// `b32decode(data, extended_hex)`: the bytes, or `None` when the input is
/// not a canonical base32 encoding (the .aio code then decodes it the
/// lenient way or raises CPython's error). Canonical: whole blocks of eight,
/// `=` only at the end and as many as a short last block needs.
fn b32decode(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    let body = d.iter().rposition(|&c| c != b'=').map_or(0, |p| p + 1);
    let canonical = d.len() % 8 == 0 && matches!(d.len() - body, 0 | 1 | 3 | 4 | 6) && !d[..body].contains(&b'=');
    let enc = if flag(&a, 1) { &BASE32HEX } else { &BASE32 };
    Ok(match canonical {
        true => enc.decode(&d).map(Value::bytes).unwrap_or(Value::None),
        false => Value::None,
    })
}

/// `encode85(data, alphabet, pad, fold_zero, fold_spaces)`: Ascii85 or
/// base85 digits, five per four bytes (big-endian), a short last group
/// padded with zero bytes whose extra digits are dropped unless `pad`.
fn encode85(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    let alphabet = match a.pos.get(1).and_then(bytes_like) {
        Some(b) if b.len() == 85 => b,
        _ => return Err(value_error("an 85-byte alphabet is required")),
    };
    let (pad, fold_zero, fold_spaces) = (flag(&a, 2), flag(&a, 3), flag(&a, 4));
    let mut out = Vec::with_capacity(d.len() / 4 * 5 + 5);
    let chunks = d.chunks(4);
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.enumerate() {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        let mut w = u32::from_be_bytes(word);
        // A short last group keeps one digit more than its bytes unless
        // `pad`; padded with zero bytes it can be "z" but never "y".
        let keep = if i == last && chunk.len() < 4 && !pad { chunk.len() + 1 } else { 5 };
        if fold_zero && w == 0 && keep == 5 {
            out.push(b'z');
            continue;
        }
        if fold_spaces && w == 0x2020_2020 {
            out.push(b'y');
            continue;
        }
        let mut digits = [0u8; 5];
        for k in (0..5).rev() {
            digits[k] = alphabet[(w % 85) as usize];
            w /= 85;
        }
        out.extend_from_slice(&digits[..keep]);
    }
    Ok(Value::bytes(out))
}

/// `a85decode(data, foldspaces, ignorechars)` (the Adobe frame is removed
/// by the caller).
fn a85decode(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    let foldspaces = flag(&a, 1);
    let ignore = data(&a, 2)?;
    let mut out = Vec::with_capacity(d.len() / 5 * 4 + 4);
    let mut group = [0u32; 5];
    let mut n = 0;
    // Four "u" (the digit 84) complete a short last group; what they add
    // is cut off below.
    for &c in d.iter().chain(b"uuuu".iter()) {
        match c {
            33..=117 => {
                group[n] = u32::from(c - 33);
                n += 1;
                if n == 5 {
                    let word = group.iter().fold(0u64, |w, &g| w * 85 + u64::from(g));
                    let word = u32::try_from(word).map_err(|_| value_error("Ascii85 overflow"))?;
                    out.extend_from_slice(&word.to_be_bytes());
                    n = 0;
                }
            }
            b'z' => {
                if n > 0 {
                    return Err(value_error("z inside Ascii85 5-tuple"));
                }
                out.extend_from_slice(&[0; 4]);
            }
            b'y' if foldspaces => {
                if n > 0 {
                    return Err(value_error("y inside Ascii85 5-tuple"));
                }
                out.extend_from_slice(b"    ");
            }
            _ if ignore.contains(&c) => {}
            _ => return Err(value_error(format!("Non-Ascii85 digit found: {}", char::from(c)))),
        }
    }
    out.truncate(out.len().saturating_sub(4 - n));
    Ok(Value::bytes(out))
}

/// The RFC 1924 alphabet's value of each byte (`u8::MAX` for the others).
const B85_VALUES: [u8; 256] = {
    const ALPHABET: &[u8; 85] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < 85 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// `b85decode(data)`.
fn b85decode(_vm: &mut Vm, a: Args) -> PyResult {
    let d = data(&a, 0)?;
    let extra = (5 - d.len() % 5) % 5;
    let mut out = Vec::with_capacity(d.len() / 5 * 4 + 4);
    let padded = d.iter().copied().chain(std::iter::repeat_n(b'~', extra)).collect::<Vec<u8>>();
    for (h, chunk) in padded.chunks(5).enumerate() {
        let mut word: u64 = 0;
        for (j, &c) in chunk.iter().enumerate() {
            let v = B85_VALUES[usize::from(c)];
            if v == u8::MAX {
                return Err(value_error(format!("bad base85 character at position {}", h * 5 + j)));
            }
            word = word * 85 + u64::from(v);
        }
        let word = u32::try_from(word).map_err(|_| value_error(format!("base85 overflow in hunk starting at byte {}", h * 5)))?;
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.truncate(out.len() - extra);
    Ok(Value::bytes(out))
}

/// The `_binascii` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_binascii",
        vec![
            ("b2a_base64", native_fn("b2a_base64", b2a_base64)),
            ("a2b_base64", native_fn("a2b_base64", a2b_base64)),
            ("hexlify", native_fn("hexlify", hexlify)),
            ("unhexlify", native_fn("unhexlify", unhexlify)),
            ("b32encode", native_fn("b32encode", b32encode)),
            ("b32decode", native_fn("b32decode", b32decode)),
            ("encode85", native_fn("encode85", encode85)),
            ("a85decode", native_fn("a85decode", a85decode)),
            ("b85decode", native_fn("b85decode", b85decode)),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_round_trips_and_errors() {
        assert_eq!(decode_base64(b"aGVsbG8=", false).unwrap(), b"hello");
        assert_eq!(decode_base64(b"aGVs\nbG8=", false).unwrap(), b"hello");
        assert_eq!(decode_base64(b"aGVsbA==", false).unwrap(), b"hell");
        assert_eq!(decode_base64(b"aGVsbA==junk", false).unwrap(), b"hell");
        assert_eq!(decode_base64(b"aGVsbA", false).unwrap_err(), "Incorrect padding");
        assert!(decode_base64(b"a", false).unwrap_err().contains("(1)"));
        assert_eq!(decode_base64(b"=aGVs", true).unwrap_err(), "Leading padding not allowed");
        assert_eq!(decode_base64(b"aG!s", true).unwrap_err(), "Only base64 data is allowed");
    }
}
