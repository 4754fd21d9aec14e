//! ISO 6346 freight container identification: owner code, category, serial and check digit.

/// Why a container number is not a valid ISO 6346 identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerIdError {
    /// Not three letters, a category letter (U, J or Z), six digits and a check digit.
    Shape,
    /// The check digit does not match; carries the expected digit.
    CheckDigit(u8),
}

/// The ISO 6346 letter values: A=10, then counting up but skipping multiples of 11.
fn letter_value(c: u8) -> u32 {
    let mut v = 10;
    let mut letter = b'A';
    while letter < c {
        v += 1;
        if v % 11 == 0 {
            v += 1;
        }
        letter += 1;
    }
    v
}

/// Checks an ISO 6346 container number such as `MSKU1234565`.
pub fn check_container_id(id: &str) -> Result<(), ContainerIdError> {
    let b = id.as_bytes();
    if b.len() != 11
        || !b[..3].iter().all(u8::is_ascii_uppercase)
        || !matches!(b[3], b'U' | b'J' | b'Z')
        || !b[4..].iter().all(u8::is_ascii_digit)
    {
        return Err(ContainerIdError::Shape);
    }
    let sum: u32 = b[..10]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let v = if c.is_ascii_digit() { u32::from(c - b'0') } else { letter_value(c) };
            v << i
        })
        .sum();
    let expected = ((sum % 11) % 10) as u8;
    if b[10] - b'0' == expected { Ok(()) } else { Err(ContainerIdError::CheckDigit(expected)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert_eq!(check_container_id("MSKU1234565"), Ok(()));
        assert_eq!(check_container_id("CSQU3054383"), Ok(()));
        assert_eq!(check_container_id("MSKU1234566"), Err(ContainerIdError::CheckDigit(5)));
        assert_eq!(check_container_id("MSKX1234565"), Err(ContainerIdError::Shape));
        assert_eq!(check_container_id("MSK"), Err(ContainerIdError::Shape));
    }

    #[test]
    fn letter_values_skip_multiples_of_eleven() {
        assert_eq!(letter_value(b'A'), 10);
        assert_eq!(letter_value(b'B'), 12);
        assert_eq!(letter_value(b'L'), 23);
        assert_eq!(letter_value(b'V'), 34);
        assert_eq!(letter_value(b'Z'), 38);
    }
}
