//! Teltonika's binary protocol for GPS trackers and e-locks over TCP: Codec 8 and Codec 8
//! Extended (8E), as the vendor's public "data sending protocols" documentation describes them.
//!
//! A session opens with the tracker's IMEI (two length bytes, then the IMEI in ASCII digits); the
//! server accepts it with one byte `0x01` (or refuses with `0x00`). Then AVL data packets follow:
//!
//! ```text
//! 00 00 00 00 | data length (u32) | codec id | n records | records … | n records | CRC (u32)
//! ```
//!
//! The CRC is CRC-16/IBM (polynomial 0xA001 reflected, initial value 0) over the bytes from the
//! codec id to the second record count, in the low two bytes of the last four. The server
//! answers each packet with the number of records it accepted, as four bytes big-endian: a
//! tracker keeps and re-sends whatever was not acknowledged.
//!
//! Every length is checked before it is used; nothing here panics on input. [`Deframer`] cuts
//! frames out of a TCP byte stream that may deliver them in pieces.

use crate::geo::Point;

/// The largest data field accepted (the documented maximum of a packet is far below it).
pub const MAX_DATA_LENGTH: u32 = 64 * 1024;

/// What is wrong with a handshake or a packet, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    #[error("IMEI handshake: {0}")]
    Imei(&'static str),
    #[error("packet: the preamble must be four zero bytes")]
    Preamble,
    #[error("packet: data length {0} exceeds the limit of {MAX_DATA_LENGTH} bytes")]
    TooLong(u32),
    #[error("packet: CRC mismatch (packet says {stated:#06x}, data gives {computed:#06x})")]
    Crc { stated: u16, computed: u16 },
    #[error("packet: codec {0:#04x} is not Codec 8 (0x08) or Codec 8 Extended (0x8e)")]
    Codec(u8),
    #[error("packet: the record counts differ ({first} before the records, {last} after)")]
    Counts { first: u8, last: u8 },
    #[error("packet: record {record}: {what} runs past the end of the data")]
    Truncated { record: usize, what: &'static str },
    #[error("packet: {0} bytes left after the last record")]
    Trailing(usize),
    #[error("packet: record {record}: the position ({lat}, {lon}) is not on the earth")]
    Position { record: usize, lat: f64, lon: f64 },
}

/// CRC-16/IBM (also known as CRC-16/ARC): reflected polynomial 0xA001, initial value 0.
pub fn crc16_ibm(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

/// Reads the IMEI handshake. Returns the IMEI and the bytes it took, or `None` when more bytes
/// are needed.
pub fn parse_imei(buf: &[u8]) -> Result<Option<(String, usize)>, FrameError> {
    let Some(len) = buf.get(..2) else { return Ok(None) };
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if !(1..=17).contains(&len) {
        return Err(FrameError::Imei("the IMEI length must be 1 to 17 digits"));
    }
    let Some(digits) = buf.get(2..2 + len) else { return Ok(None) };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::Imei("the IMEI must be ASCII digits"));
    }
    Ok(Some((String::from_utf8_lossy(digits).into_owned(), 2 + len)))
}

/// The server's reply to a packet: the number of records accepted.
pub fn ack(accepted: u32) -> [u8; 4] {
    accepted.to_be_bytes()
}

/// The codec of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Codec8,
    Codec8Extended,
}

/// A GNSS fix as the tracker reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gps {
    pub position: Point,
    /// Metres above sea level.
    pub altitude: i16,
    /// Heading in degrees from north, clockwise.
    pub angle: u16,
    pub satellites: u8,
    /// km/h; 0 also when the fix is invalid.
    pub speed: u16,
}

impl Gps {
    /// A fix with no satellites (all zero, as trackers send without one) is no position.
    pub fn is_valid(&self) -> bool {
        self.satellites > 0
    }
}

/// An I/O element's value: a number for the fixed-size ones, bytes for 8E's variable ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoValue {
    Number(u64),
    Bytes(Vec<u8>),
}

/// One AVL record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: i64,
    /// 0 low, 1 high, 2 panic.
    pub priority: u8,
    pub gps: Gps,
    /// The I/O element that caused the record (0 for a periodic record).
    pub event_io: u16,
    /// The I/O elements, in packet order.
    pub io: Vec<(u16, IoValue)>,
}

impl Record {
    /// The value of I/O element `id`, when it is a number.
    pub fn io_number(&self, id: u16) -> Option<u64> {
        self.io.iter().find_map(|(i, v)| match v {
            IoValue::Number(n) if *i == id => Some(*n),
            _ => None,
        })
    }
}

/// A decoded AVL data packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub codec: Codec,
    pub records: Vec<Record>,
}

/// A cursor over the data field that names what ran short.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    record: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], FrameError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.data.len());
        let end = end.ok_or(FrameError::Truncated { record: self.record, what })?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn uint(&mut self, n: usize, what: &'static str) -> Result<u64, FrameError> {
        Ok(self.take(n, what)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A count or an id: one byte in Codec 8, two in 8E.
    fn small(&mut self, codec: Codec, what: &'static str) -> Result<u16, FrameError> {
        let n = if codec == Codec::Codec8 { 1 } else { 2 };
        Ok(self.uint(n, what)? as u16)
    }
}

/// Decodes a whole packet (preamble to CRC). Returns the packet and its length in bytes, or
/// `None` when `buf` does not yet hold the whole packet.
pub fn parse_packet(buf: &[u8]) -> Result<Option<(Packet, usize)>, FrameError> {
    let Some(head) = buf.get(..8) else { return Ok(None) };
    if head[..4] != [0, 0, 0, 0] {
        return Err(FrameError::Preamble);
    }
    let length = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if length > MAX_DATA_LENGTH {
        return Err(FrameError::TooLong(length));
    }
    let total = 8 + length as usize + 4;
    let Some(frame) = buf.get(..total) else { return Ok(None) };
    let data = &frame[8..8 + length as usize];
    let stated = u16::from_be_bytes([frame[total - 2], frame[total - 1]]);
    let computed = crc16_ibm(data);
    if frame[total - 4..total - 2] != [0, 0] || stated != computed {
        return Err(FrameError::Crc { stated, computed });
    }
    Ok(Some((decode_data(data)?, total)))
}

/// Decodes the data field (codec id to the second record count).
fn decode_data(data: &[u8]) -> Result<Packet, FrameError> {
    let mut r = Reader { data, at: 0, record: 0 };
    let codec = match r.uint(1, "the codec id")? as u8 {
        0x08 => Codec::Codec8,
        0x8E => Codec::Codec8Extended,
        other => return Err(FrameError::Codec(other)),
    };
    let first = r.uint(1, "the record count")? as u8;
    let mut records = Vec::with_capacity(usize::from(first));
    for i in 0..usize::from(first) {
        r.record = i;
        records.push(decode_record(&mut r, codec)?);
    }
    r.record = records.len();
    let last = r.uint(1, "the closing record count")? as u8;
    if first != last {
        return Err(FrameError::Counts { first, last });
    }
    if r.at != data.len() {
        return Err(FrameError::Trailing(data.len() - r.at));
    }
    Ok(Packet { codec, records })
}

fn decode_record(r: &mut Reader<'_>, codec: Codec) -> Result<Record, FrameError> {
    let timestamp_ms = r.uint(8, "the timestamp")? as i64;
    let priority = r.uint(1, "the priority")? as u8;
    let lon = f64::from(r.uint(4, "the longitude")? as u32 as i32) / 1e7;
    let lat = f64::from(r.uint(4, "the latitude")? as u32 as i32) / 1e7;
    let position = Point::new(lat, lon).map_err(|_| FrameError::Position { record: r.record, lat, lon })?;
    let altitude = r.uint(2, "the altitude")? as u16 as i16;
    let angle = r.uint(2, "the angle")? as u16;
    let satellites = r.uint(1, "the satellites")? as u8;
    let speed = r.uint(2, "the speed")? as u16;
    let event_io = r.small(codec, "the event I/O id")?;
    let _total = r.small(codec, "the I/O count")?;
    let mut io = Vec::new();
    for size in [1usize, 2, 4, 8] {
        let count = r.small(codec, "an I/O group count")?;
        for _ in 0..count {
            let id = r.small(codec, "an I/O id")?;
            io.push((id, IoValue::Number(r.uint(size, "an I/O value")?)));
        }
    }
    if codec == Codec::Codec8Extended {
        let count = r.uint(2, "the variable I/O count")?;
        for _ in 0..count {
            let id = r.uint(2, "a variable I/O id")? as u16;
            let len = r.uint(2, "a variable I/O length")? as usize;
            io.push((id, IoValue::Bytes(r.take(len, "a variable I/O value")?.to_vec())));
        }
    }
    Ok(Record { timestamp_ms, priority, gps: Gps { position, altitude, angle, satellites, speed }, event_io, io })
}

/// Encodes records as one Codec 8 AVL data packet (preamble, length, data, CRC): what a tracker
/// sends, for simulators and benchmarks. Each numeric I/O value goes in the smallest group (1, 2,
/// 4 or 8 bytes) that holds it; byte values (Codec 8E only) are left out. At most 255 records.
pub fn encode_packet(records: &[Record]) -> Vec<u8> {
    let records = &records[..records.len().min(255)];
    let mut data = vec![0x08, records.len() as u8];
    for r in records {
        data.extend_from_slice(&(r.timestamp_ms as u64).to_be_bytes());
        data.push(r.priority);
        data.extend_from_slice(&((r.gps.position.lon * 1e7).round() as i32).to_be_bytes());
        data.extend_from_slice(&((r.gps.position.lat * 1e7).round() as i32).to_be_bytes());
        data.extend_from_slice(&r.gps.altitude.to_be_bytes());
        data.extend_from_slice(&r.gps.angle.to_be_bytes());
        data.push(r.gps.satellites);
        data.extend_from_slice(&r.gps.speed.to_be_bytes());
        data.push(r.event_io.min(255) as u8);
        let numbers: Vec<(u16, u64)> =
            r.io.iter()
                .filter_map(|(id, v)| match v {
                    IoValue::Number(n) => Some((*id, *n)),
                    IoValue::Bytes(_) => None,
                })
                .take(255)
                .collect();
        data.push(numbers.len() as u8);
        for (size, max) in [(1usize, 0xFFu64), (2, 0xFFFF), (4, 0xFFFF_FFFF), (8, u64::MAX)] {
            let lower = match size {
                1 => None,
                2 => Some(0xFFu64),
                4 => Some(0xFFFF),
                _ => Some(0xFFFF_FFFF),
            };
            let group: Vec<&(u16, u64)> =
                numbers.iter().filter(|(_, n)| *n <= max && lower.is_none_or(|l| *n > l)).collect();
            data.push(group.len() as u8);
            for (id, n) in group {
                data.push((*id).min(255) as u8);
                data.extend_from_slice(&n.to_be_bytes()[8 - size..]);
            }
        }
    }
    data.push(records.len() as u8);
    let mut out = vec![0, 0, 0, 0];
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let crc = crc16_ibm(&data);
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The IMEI handshake a tracker opens its connection with (length, then the IMEI's digits).
pub fn encode_imei(imei: &str) -> Vec<u8> {
    let mut out = (imei.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(imei.as_bytes());
    out
}

/// Cuts a TCP byte stream into the handshake and packets, whatever pieces it arrives in.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    imei: Option<String>,
}

/// What the stream held.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Imei(String),
    Packet(Packet),
}

impl Deframer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The IMEI once the handshake is read.
    pub fn imei(&self) -> Option<&str> {
        self.imei.as_deref()
    }

    /// Adds bytes read from the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `None` when more bytes are needed. After an error the connection
    /// must be closed: the stream has lost its framing.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let parsed = if self.imei.is_none() {
            parse_imei(&self.buf)?.map(|(imei, used)| {
                self.imei = Some(imei.clone());
                (Frame::Imei(imei), used)
            })
        } else {
            parse_packet(&self.buf)?.map(|(p, used)| (Frame::Packet(p), used))
        };
        Ok(parsed.map(|(frame, used)| {
            self.buf.drain(..used);
            frame
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of the vendor's documentation ("Teltonika Data Sending Protocols",
    /// wiki.teltonika-gps.com/view/Teltonika_Data_Sending_Protocols): the IMEI handshake, Codec 8
    /// examples 1 to 3 and the Codec 8 Extended example, as hexadecimal streams.
    const IMEI: &str = "000F333536333037303432343431303133";
    const CODEC8_1: &str = "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F10000601A014E0000000000000000010000C7CF";
    const CODEC8_2: &str =
        "000000000000002808010000016B40D9AD80010000000000000000000000000000000103021503010101425E100000010000F22A";
    const CODEC8_3: &str = "000000000000004308020000016B40D57B480100000000000000000000000000000001010101000000000000016B40D5C198010000000000000000000000000000000101010101000000020000252C";
    const CODEC8E: &str = "000000000000004A8E010000016B412CEE000100000000000000000000000000000000010005000100010100010011001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994";

    fn bytes(h: &str) -> Vec<u8> {
        hex::decode(h).unwrap()
    }

    #[test]
    fn encoded_packets_read_back_as_the_records_they_carry() {
        for v in [CODEC8_1, CODEC8_2, CODEC8_3] {
            let (packet, _) = parse_packet(&bytes(v)).unwrap().unwrap();
            let encoded = encode_packet(&packet.records);
            let (again, used) = parse_packet(&encoded).unwrap().unwrap();
            assert_eq!(used, encoded.len());
            // The same records; an I/O value may move to a smaller group (a zero sent in 8 bytes).
            let sorted = |rs: &[Record]| -> Vec<Record> {
                rs.iter()
                    .cloned()
                    .map(|mut r| {
                        r.io.sort_by_key(|(id, _)| *id);
                        r
                    })
                    .collect()
            };
            assert_eq!(sorted(&again.records), sorted(&packet.records), "{v}");
        }
        let (imei, used) = parse_imei(&encode_imei("356307042441013")).unwrap().unwrap();
        assert_eq!((imei.as_str(), used), ("356307042441013", 17));
    }

    #[test]
    fn the_handshake_gives_the_imei() {
        let (imei, used) = parse_imei(&bytes(IMEI)).unwrap().unwrap();
        assert_eq!((imei.as_str(), used), ("356307042441013", 17));
        assert_eq!(parse_imei(&bytes(IMEI)[..10]).unwrap(), None);
        assert!(parse_imei(&bytes("0003414243")).is_err(), "letters");
        assert!(parse_imei(&bytes("0000")).is_err(), "empty");
    }

    #[test]
    fn the_documented_codec8_examples_decode() {
        let (p, used) = parse_packet(&bytes(CODEC8_1)).unwrap().unwrap();
        assert_eq!(used, bytes(CODEC8_1).len());
        assert_eq!(p.codec, Codec::Codec8);
        assert_eq!(p.records.len(), 1);
        let r = &p.records[0];
        assert_eq!(r.timestamp_ms, 0x16B40D8EA30, "2019-06-10T10:04:46Z");
        assert_eq!(r.priority, 1);
        assert!(!r.gps.is_valid());
        assert_eq!(r.event_io, 1);
        assert_eq!(
            r.io,
            vec![
                (0x15, IoValue::Number(3)),
                (0x01, IoValue::Number(1)),
                (0x42, IoValue::Number(0x5E0F)),
                (0xF1, IoValue::Number(0x601A)),
                (0x4E, IoValue::Number(0)),
            ]
        );
        assert_eq!(r.io_number(0x42), Some(24079), "external voltage, mV");

        let (p, _) = parse_packet(&bytes(CODEC8_2)).unwrap().unwrap();
        assert_eq!(
            p.records[0].io,
            vec![(0x15, IoValue::Number(3)), (0x01, IoValue::Number(1)), (0x42, IoValue::Number(0x5E10))]
        );

        let (p, _) = parse_packet(&bytes(CODEC8_3)).unwrap().unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[0].timestamp_ms, 0x16B40D57B48);
        assert_eq!(p.records[1].io, vec![(0x01, IoValue::Number(1))]);
        assert_eq!(ack(p.records.len() as u32), [0, 0, 0, 2]);
    }

    #[test]
    fn the_documented_codec8_extended_example_decodes() {
        let (p, _) = parse_packet(&bytes(CODEC8E)).unwrap().unwrap();
        assert_eq!(p.codec, Codec::Codec8Extended);
        let r = &p.records[0];
        assert_eq!(r.event_io, 1);
        assert_eq!(
            r.io,
            vec![
                (0x0001, IoValue::Number(1)),
                (0x0011, IoValue::Number(0x1D)),
                (0x0010, IoValue::Number(0x015E2C88)),
                (0x000B, IoValue::Number(0x3544C87A)),
                (0x000E, IoValue::Number(0x1DD7E06A)),
            ]
        );
    }

    #[test]
    fn the_crc_is_crc16_ibm() {
        // The standard check value of CRC-16/ARC over "123456789".
        assert_eq!(crc16_ibm(b"123456789"), 0xBB3D);
        let mut b = bytes(CODEC8_1);
        b[20] ^= 0x01;
        assert!(matches!(parse_packet(&b), Err(FrameError::Crc { stated: 0xC7CF, .. })));
    }

    #[test]
    fn bad_frames_are_refused_with_their_reason() {
        let good = bytes(CODEC8_1);
        let mut b = good.clone();
        b[0] = 1;
        assert_eq!(parse_packet(&b), Err(FrameError::Preamble));
        let mut b = good.clone();
        b[4..8].copy_from_slice(&(MAX_DATA_LENGTH + 1).to_be_bytes());
        assert_eq!(parse_packet(&b), Err(FrameError::TooLong(MAX_DATA_LENGTH + 1)));
        // A frame whose CRC is right but whose counts disagree.
        let mut data = good[8..good.len() - 4].to_vec();
        let last = data.len() - 1;
        data[last] = 2;
        let mut b = good[..8].to_vec();
        b.extend_from_slice(&data);
        b.extend_from_slice(&u32::from(crc16_ibm(&data)).to_be_bytes());
        assert_eq!(parse_packet(&b), Err(FrameError::Counts { first: 1, last: 2 }));
        // A record cut short (the length says less than the record needs).
        let data = &good[8..30];
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&(data.len() as u32).to_be_bytes());
        b.extend_from_slice(data);
        b.extend_from_slice(&u32::from(crc16_ibm(data)).to_be_bytes());
        assert!(matches!(parse_packet(&b), Err(FrameError::Truncated { record: 0, .. })), "{:?}", parse_packet(&b));
    }

    #[test]
    fn every_prefix_waits_and_every_corruption_is_an_error_never_a_panic() {
        let good = bytes(CODEC8E);
        for n in 0..good.len() {
            assert_eq!(parse_packet(&good[..n]), Ok(None), "prefix of {n} bytes");
        }
        for i in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut b = good.clone();
                b[i] ^= flip;
                // Whatever the outcome, it is a value: Ok(None) for a longer stated length, or an error.
                if let Ok(Some((p, _))) = parse_packet(&b) {
                    panic!("byte {i} ^ {flip:#x} decoded as {p:?}");
                }
            }
        }
    }

    #[test]
    fn the_deframer_reassembles_a_stream_delivered_byte_by_byte() {
        let mut stream = bytes(IMEI);
        stream.extend(bytes(CODEC8_1));
        stream.extend(bytes(CODEC8_3));
        let mut d = Deframer::new();
        let mut frames = Vec::new();
        for b in stream {
            d.push(&[b]);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(d.imei(), Some("356307042441013"));
        assert_eq!(frames.len(), 3);
        assert!(matches!(&frames[2], Frame::Packet(p) if p.records.len() == 2));
    }
}
