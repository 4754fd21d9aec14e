//! EPC URIs into canonical GS1 Digital Link URIs (`https://id.gs1.org/…`), as CBV 2.0 section
//! 8.9 requires for identifiers in the pre-hash string (GS1 Tag Data Standard 2.0 section 6 and
//! its EPC URI ↔ Digital Link mapping; GS1 Digital Link 1.2 for the canonical form).
//!
//! Handled: `urn:epc:id:` sgtin, sscc, sgln, grai, giai, gsrn, gsrnp, gdti, cpi, sgcn, ginc,
//! gsin, itip, upui, pgln; `urn:epc:class:lgtin`; `urn:epc:idpat:` sgtin, grai, gdti, sgcn, itip,
//! upui (a pattern with `*` stands for its class); and Digital Link URIs on any domain, with
//! short names (`/gtin/`), GTIN padding, a query string, a CPV (AI 22) or a lot next to a serial:
//! all reduced to the most specific key on `id.gs1.org`. Anything else yields `None`.

/// GS1 mod-10 check digit (GS1 General Specifications section 7.9.1) of a digit string.
fn check_digit(digits: &str) -> char {
    let sum: u32 =
        digits.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Characters allowed in EPC URI serial components (TDS section 5, "GS1 AI encodable character
/// set 82" with `%`-escapes).
fn valid_component(s: &str, max: usize) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut count = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else if b.is_ascii_alphanumeric() || b"!')(*+,.:;=_-".contains(&b) {
            i += 1;
        } else {
            return false;
        }
        count += 1;
    }
    count >= 1 && count <= max
}

/// Percent-encodes the characters that GS1 Digital Link (table 7-1) requires encoded and EPC
/// URIs leave bare; existing `%`-escapes are kept.
fn dl_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            _ => out.push(c),
        }
    }
    out
}

/// `company.ref` with a company prefix of 6 to 12 digits and `total` digits in all.
fn split_company(s: &str, total: usize) -> Option<(&str, &str)> {
    let (company, reference) = s.split_once('.')?;
    let ok = (6..=12).contains(&company.len())
        && all_digits(company)
        && company.len() + reference.len() == total
        && (reference.is_empty() || all_digits(reference));
    ok.then_some((company, reference))
}

/// GTIN-14 from company prefix and indicator + item reference.
fn gtin(company: &str, item_ref: &str) -> String {
    let raw = format!("{}{}{}", &item_ref[..1], company, &item_ref[1..]);
    let cd = check_digit(&raw);
    format!("{raw}{cd}")
}

fn with_check(raw: String) -> String {
    let cd = check_digit(&raw);
    format!("{raw}{cd}")
}

/// The canonical GS1 Digital Link URI for an EPC URI or a GS1 Digital Link URI.
pub fn to_digital_link(uri: &str) -> Option<String> {
    if let Some(rest) = uri.strip_prefix("urn:epc:id:") {
        return epc_id(rest);
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:class:lgtin:") {
        let (head, lot) = split_two(rest)?;
        let (company, item) = split_company(head, 13)?;
        if !valid_component(lot, 20) || item.is_empty() {
            return None;
        }
        return Some(format!("https://id.gs1.org/01/{}/10/{}", gtin(company, item), dl_encode(lot)));
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:idpat:") {
        return epc_pattern(rest);
    }
    if uri.starts_with("https://") || uri.starts_with("http://") {
        return digital_link(uri);
    }
    None
}

/// Splits `a.b.c` into (`a.b`, `c`) at the second dot: EPC URIs put the company prefix, one
/// reference and then a serial that may itself contain dots.
fn split_two(rest: &str) -> Option<(&str, &str)> {
    let first = rest.find('.')?;
    let second = rest[first + 1..].find('.')? + first + 1;
    Some((&rest[..second], &rest[second + 1..]))
}

fn epc_id(rest: &str) -> Option<String> {
    let (scheme, body) = rest.split_once(':')?;
    match scheme {
        "sgtin" => {
            let (head, serial) = split_two(body)?;
            let (company, item) = split_company(head, 13)?;
            (!item.is_empty() && valid_component(serial, 20))
                .then(|| format!("https://id.gs1.org/01/{}/21/{}", gtin(company, item), dl_encode(serial)))
        }
        "sscc" => {
            let (company, serial_ref) = split_company(body, 17)?;
            let raw = format!("{}{}{}", &serial_ref[..1], company, &serial_ref[1..]);
            Some(format!("https://id.gs1.org/00/{}", with_check(raw)))
        }
        "sgln" | "grai" | "gdti" | "sgcn" => {
            let (head, ext) = split_two(body)?;
            let (company, reference) = split_company(head, 12)?;
            let key = match scheme {
                "grai" => with_check(format!("0{company}{reference}")),
                _ => with_check(format!("{company}{reference}")),
            };
            match scheme {
                "sgln" if ext == "0" => Some(format!("https://id.gs1.org/414/{key}")),
                "sgln" => {
                    valid_component(ext, 20).then(|| format!("https://id.gs1.org/414/{key}/254/{}", dl_encode(ext)))
                }
                "grai" => valid_component(ext, 16).then(|| format!("https://id.gs1.org/8003/{key}{}", dl_encode(ext))),
                "gdti" => valid_component(ext, 17).then(|| format!("https://id.gs1.org/253/{key}{}", dl_encode(ext))),
                _ => (all_digits(ext) && ext.len() <= 12).then(|| format!("https://id.gs1.org/255/{key}{ext}")),
            }
        }
        "giai" | "ginc" => {
            let (company, reference) = body.split_once('.')?;
            if !(6..=12).contains(&company.len()) || !all_digits(company) {
                return None;
            }
            let max = 30 - company.len();
            let ai = if scheme == "giai" { "8004" } else { "401" };
            valid_component(reference, max)
                .then(|| format!("https://id.gs1.org/{ai}/{company}{}", dl_encode(reference)))
        }
        "gsrn" | "gsrnp" => {
            let (company, reference) = split_company(body, 17)?;
            let ai = if scheme == "gsrn" { "8018" } else { "8017" };
            Some(format!("https://id.gs1.org/{ai}/{}", with_check(format!("{company}{reference}"))))
        }
        "gsin" => {
            let (company, reference) = split_company(body, 16)?;
            Some(format!("https://id.gs1.org/402/{}", with_check(format!("{company}{reference}"))))
        }
        "pgln" => {
            let (company, reference) = split_company(body, 12)?;
            Some(format!("https://id.gs1.org/417/{}", with_check(format!("{company}{reference}"))))
        }
        "cpi" => {
            let (head, serial) = body.rsplit_once('.')?;
            let (company, cp_ref) = head.split_once('.')?;
            let ok = (6..=12).contains(&company.len())
                && all_digits(company)
                && !cp_ref.is_empty()
                && all_digits(serial)
                && serial.len() <= 12;
            ok.then(|| format!("https://id.gs1.org/8010/{}/8011/{serial}", dl_encode(&format!("{company}{cp_ref}"))))
        }
        "itip" => {
            let mut parts = body.splitn(5, '.');
            let (company, item, piece, total, serial) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let ok = split_company(&format!("{company}.{item}"), 13).is_some()
                && !item.is_empty()
                && piece.len() == 2
                && all_digits(piece)
                && total.len() == 2
                && all_digits(total)
                && valid_component(serial, 20);
            ok.then(|| {
                format!("https://id.gs1.org/8006/{}{piece}{total}/21/{}", gtin(company, item), dl_encode(serial))
            })
        }
        "upui" => {
            let (head, serial) = split_two(body)?;
            let (company, item) = split_company(head, 13)?;
            (!item.is_empty() && valid_component(serial, 28))
                .then(|| format!("https://id.gs1.org/01/{}/235/{}", gtin(company, item), dl_encode(serial)))
        }
        _ => None,
    }
}

fn epc_pattern(rest: &str) -> Option<String> {
    let (scheme, body) = rest.split_once(':')?;
    match scheme {
        "sgtin" | "upui" => {
            let head = body.strip_suffix(".*")?;
            let (company, item) = split_company(head, 13)?;
            (!item.is_empty()).then(|| format!("https://id.gs1.org/01/{}", gtin(company, item)))
        }
        "grai" | "gdti" | "sgcn" => {
            let head = body.strip_suffix(".*")?;
            let (company, reference) = split_company(head, 12)?;
            Some(match scheme {
                "grai" => format!("https://id.gs1.org/8003/{}", with_check(format!("0{company}{reference}"))),
                "gdti" => format!("https://id.gs1.org/253/{}", with_check(format!("{company}{reference}"))),
                _ => format!("https://id.gs1.org/255/{}", with_check(format!("{company}{reference}"))),
            })
        }
        "itip" => {
            let head = body.strip_suffix(".*")?;
            let mut parts = head.splitn(4, '.');
            let (company, item, piece, total) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let ok = split_company(&format!("{company}.{item}"), 13).is_some()
                && !item.is_empty()
                && piece.len() == 2
                && all_digits(piece)
                && total.len() == 2
                && all_digits(total);
            ok.then(|| format!("https://id.gs1.org/8006/{}{piece}{total}", gtin(company, item)))
        }
        _ => None,
    }
}

/// Primary keys (AI) and their Digital Link short names.
const KEYS: [(&str, &str); 14] = [
    ("00", "sscc"),
    ("01", "gtin"),
    ("253", "gdti"),
    ("255", "gcn"),
    ("401", "ginc"),
    ("402", "gsin"),
    ("414", "gln"),
    ("417", "party"),
    ("8003", "grai"),
    ("8004", "giai"),
    ("8006", "itip"),
    ("8010", "cpid"),
    ("8017", "gsrnp"),
    ("8018", "gsrn"),
];

/// Key qualifiers and their short names.
const QUALIFIERS: [(&str, &str); 3] = [("22", "cpv"), ("10", "lot"), ("21", "ser")];

/// Characters allowed in a canonical Digital Link path value (a subset of AI character set 82).
fn dl_value_ok(s: &str, max: usize) -> bool {
    s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"\"'-.;<=>?_".contains(&b))
}

fn digital_link(uri: &str) -> Option<String> {
    let without_scheme = uri.split_once("://")?.1;
    let path_start = without_scheme.find('/')?;
    let path = &without_scheme[path_start..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The primary key is the first segment pair whose name is a key (AI or short name) and whose
    // value starts with four digits; what precedes it is a custom path prefix.
    let start = segments.iter().enumerate().position(|(i, s)| {
        KEYS.iter().any(|(ai, short)| s == ai || s == short)
            && segments.get(i + 1).is_some_and(|v| v.len() > 4 && v.bytes().take(4).all(|b| b.is_ascii_digit()))
    })?;
    let canon = |s: &str| -> String {
        KEYS.iter()
            .chain(QUALIFIERS.iter())
            .find(|(_, short)| *short == s)
            .map_or_else(|| s.to_owned(), |(ai, _)| (*ai).to_owned())
    };
    let key_ai = canon(segments[start]);
    let mut key_value = segments[start + 1].to_owned();
    if key_ai == "01" && all_digits(&key_value) {
        key_value = match key_value.len() {
            13 => format!("0{key_value}"),
            12 => format!("00{key_value}"),
            8 => format!("000000{key_value}"),
            _ => key_value,
        };
    }
    let mut qualifiers: Vec<(String, String)> = Vec::new();
    let mut rest = segments[start + 2..].chunks(2);
    for pair in rest.by_ref() {
        let [name, value] = pair else { return None };
        qualifiers.push((canon(name), (*value).to_owned()));
    }
    // Most specific identification only: a serial makes the lot and the CPV redundant; the CPV
    // is never part of the canonical key.
    let has_serial = qualifiers.iter().any(|(ai, _)| ai == "21");
    qualifiers.retain(|(ai, _)| ai != "22" && !(has_serial && ai == "10"));
    let ok = match key_ai.as_str() {
        "00" => key_value.len() == 18 && all_digits(&key_value) && qualifiers.is_empty(),
        "01" => {
            key_value.len() == 14
                && all_digits(&key_value)
                && match qualifiers.as_slice() {
                    [] => true,
                    [(ai, v)] if ai == "21" || ai == "10" => dl_value_ok(v, 20),
                    [(ai, v)] if ai == "235" => dl_value_ok(v, 28),
                    _ => false,
                }
        }
        "8006" => {
            key_value.len() == 18
                && all_digits(&key_value)
                && match qualifiers.as_slice() {
                    [] => true,
                    [(ai, v)] if ai == "21" || ai == "10" => dl_value_ok(v, 20),
                    _ => false,
                }
        }
        "414" => {
            key_value.len() == 13
                && all_digits(&key_value)
                && match qualifiers.as_slice() {
                    [] => true,
                    [(ai, v)] if ai == "254" => dl_value_ok(v, 20),
                    _ => false,
                }
        }
        "417" => key_value.len() == 13 && all_digits(&key_value) && qualifiers.is_empty(),
        "8017" | "8018" => key_value.len() == 18 && all_digits(&key_value) && qualifiers.is_empty(),
        "402" => key_value.len() == 17 && all_digits(&key_value) && qualifiers.is_empty(),
        "253" => {
            key_value.get(..13).is_some_and(all_digits)
                && key_value.get(13..).is_some_and(|rest| dl_value_ok(rest, 17))
                && qualifiers.is_empty()
        }
        "255" => (13..=25).contains(&key_value.len()) && all_digits(&key_value) && qualifiers.is_empty(),
        "8003" => {
            key_value.get(..14).is_some_and(all_digits)
                && key_value.get(14..).is_some_and(|rest| dl_value_ok(rest, 16))
                && qualifiers.is_empty()
        }
        "401" | "8004" => dl_value_ok(&key_value, 30) && qualifiers.is_empty(),
        "8010" => {
            key_value.len() <= 30
                && key_value.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b"#-/".contains(&b))
                && match qualifiers.as_slice() {
                    [] => true,
                    [(ai, v)] if ai == "8011" => v.len() <= 12 && all_digits(v),
                    _ => false,
                }
        }
        _ => false,
    };
    if !ok {
        return None;
    }
    let mut out = format!("https://id.gs1.org/{key_ai}/{key_value}");
    for (ai, v) in qualifiers {
        out.push('/');
        out.push_str(&ai);
        out.push('/');
        out.push_str(&v);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::to_digital_link;

    #[test]
    fn epc_uris_become_canonical_digital_links() {
        let cases = [
            ("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"),
            ("urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338"),
            ("urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987"),
            ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
            ("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"),
            ("urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929"),
            ("urn:epc:idpat:sgtin:4012345.044444.*", "https://id.gs1.org/01/04012345444445"),
            (
                "https://example.com/gtin/09780345418913/21/765tz?abc=211121",
                "https://id.gs1.org/01/09780345418913/21/765tz",
            ),
        ];
        for (epc, dl) in cases {
            assert_eq!(to_digital_link(epc).as_deref(), Some(dl), "{epc}");
        }
    }

    #[test]
    fn other_uris_are_left_alone() {
        for s in [
            "urn:epcglobal:cbv:bt:0614141073467:1152",
            "http://transaction.acme.com/po/12345678",
            "urn:epc:id:sgtin:1.2.3",
            "",
        ] {
            assert_eq!(to_digital_link(s), None, "{s}");
        }
    }
}
