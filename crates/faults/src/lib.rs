//! Fault injection for the storage tests: a file damaged the same way every time a seed is
//! given ([`damage`], [`damaged_copy`]), and trials run in child processes ([`trials`]) so that
//! a panic, an abort (a failed allocation, a stack overflow) or a hang of the code under test is
//! caught and named with its seed instead of taking the whole test binary down.
//!
//! A test that uses [`trials`] is run twice: once by the test harness (the parent, which builds
//! the fixture and supervises) and once per child, the same test binary re-executed with
//! `--exact NAME` and the fixture's folder and the seeds in the environment. The child runs the
//! trials, prints one line per finished trial and exits; the first seed without a line is the
//! one that crashed, and the parent starts a new child after it.
//!
//! **Invariant:** damage depends only on the seed and the original bytes, so any failure is
//! reproduced by its seed alone.

use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A small deterministic generator (xorshift64*, its state seeded through SplitMix64 so that
/// seeds 0, 1, 2, … start far apart).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator of `seed`.
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        // xorshift's state must not be zero.
        Self((z ^ (z >> 31)) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// A byte that is not zero (an XOR with it changes the byte).
    fn nonzero_byte(&mut self) -> u8 {
        (self.below(255) + 1) as u8
    }
}

/// Damages `bytes` as `seed` says and describes what was done. The kinds, by seed: single bytes
/// changed anywhere (half of the seeds), bytes changed in the first 8 KiB where headers live, a
/// run of up to 64 random bytes written over, a 4 KiB block zeroed (a lost sector), and the file
/// cut short.
pub fn damage(bytes: &mut Vec<u8>, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let len = bytes.len();
    if len == 0 {
        return "nothing to damage (empty file)".into();
    }
    match rng.below(100) {
        kind @ 0..65 => {
            // Within the headers for kinds 50..65, anywhere otherwise.
            let span = if kind < 50 { len } else { len.min(8192) };
            let n = 1 + rng.below(4);
            let at: Vec<String> = (0..n)
                .map(|_| {
                    let i = rng.below(span);
                    bytes[i] ^= rng.nonzero_byte();
                    i.to_string()
                })
                .collect();
            format!("changed the byte(s) at {}", at.join(", "))
        }
        65..80 => {
            let n = (1 + rng.below(64)).min(len);
            let at = rng.below(len - n + 1);
            for b in &mut bytes[at..at + n] {
                *b = rng.next_u64() as u8;
            }
            format!("wrote {n} random bytes at {at}")
        }
        80..90 => {
            let at = rng.below(len.div_ceil(4096)) * 4096;
            let end = (at + 4096).min(len);
            bytes[at..end].fill(0);
            format!("zeroed bytes {at}..{end}")
        }
        _ => {
            let to = rng.below(len);
            bytes.truncate(to);
            format!("cut the file to {to} of {len} bytes")
        }
    }
}

/// Writes to `to` a copy of `from` damaged by [`damage`], and describes the damage.
pub fn damaged_copy(from: &Path, to: &Path, seed: u64) -> std::io::Result<String> {
    let mut bytes = std::fs::read(from)?;
    let what = damage(&mut bytes, seed);
    std::fs::write(to, &bytes)?;
    Ok(what)
}

/// How one trial ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trial {
    /// The seed.
    pub seed: u64,
    /// The line the trial returned, or how its process died.
    pub outcome: Result<String, Crash>,
}

/// A child process that died (or hung) during a trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// How it ended: its exit status, or that it hung.
    pub how: String,
    /// The end of what it wrote to standard error (the panic message, if any).
    pub stderr: String,
}

impl std::fmt::Display for Trial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            Ok(line) => write!(f, "seed {}: {line}", self.seed),
            Err(c) => write!(f, "seed {}: CRASHED ({}): {}", self.seed, c.how, c.stderr),
        }
    }
}

/// The trials that crashed, one line each (empty when none did).
pub fn crashes(trials: &[Trial]) -> Vec<String> {
    trials.iter().filter(|t| t.outcome.is_err()).map(ToString::to_string).collect()
}

const FIXTURE_VAR: &str = "BORDERLINK_FAULTS_FIXTURE";
const SEEDS_VAR: &str = "BORDERLINK_FAULTS_SEEDS";
const LINE: &str = "borderlink-faults trial ";
/// Longest a child may stay silent (one trial) before it counts as hung: generous for debug
/// builds on a loaded 2-core machine, short enough to end a hang.
const HANG: Duration = Duration::from_secs(120);

/// Runs `trial(fixture, seed)` for every seed in child processes and returns how each ended.
///
/// `test` is the full name of the calling test as the harness knows it (`module::name`): the
/// child is that test re-run. In the parent, `fixture` builds the files the trials start from
/// (kept until all trials are done, e.g. a temporary folder that removes itself); in a child,
/// `fixture` is not called, the trials run and the process exits. A trial returns one line
/// saying what the code under test answered; the caller judges those lines.
pub fn trials<F: AsRef<Path>>(
    test: &str,
    seeds: Range<u64>,
    fixture: impl FnOnce() -> F,
    trial: impl Fn(&Path, u64) -> String,
) -> Vec<Trial> {
    if let (Some(dir), Some(range)) = (std::env::var_os(FIXTURE_VAR), std::env::var_os(SEEDS_VAR)) {
        run_child(Path::new(&dir), &range.to_string_lossy(), trial);
    }
    let fixture = fixture();
    let mut done = Vec::new();
    let mut next = seeds.start;
    while next < seeds.end {
        let before = next;
        let crash = supervise(test, fixture.as_ref(), next..seeds.end, |seed, line| {
            let t = Trial { seed, outcome: Ok(line) };
            // Captured by the harness, shown when the test fails: the trials up to a failure.
            eprintln!("{t}");
            done.push(t);
            next = seed + 1;
        });
        if let Some(crash) = crash {
            let t = Trial { seed: next, outcome: Err(crash) };
            eprintln!("{t}");
            done.push(t);
            next += 1;
        } else if next == before {
            panic!("the child process ran no trial: is {test:?} the full name of the calling test?");
        }
    }
    done
}

/// The child's side: runs the trials, one line each, then exits without returning to the harness.
fn run_child(fixture: &Path, range: &str, trial: impl Fn(&Path, u64) -> String) -> ! {
    use std::io::Write;
    let parse = |s: &str| s.parse::<u64>().unwrap_or_else(|e| panic!("{SEEDS_VAR}={range:?}: {e}"));
    let (from, to) = range.split_once("..").unwrap_or_else(|| panic!("{SEEDS_VAR}={range:?}: expected FROM..TO"));
    let mut out = std::io::stdout().lock();
    for seed in parse(from)..parse(to) {
        let line = trial(fixture, seed).replace(['\n', '\r'], " / ");
        // Flushed per trial: what is printed before a crash tells which seed crashed.
        writeln!(out, "{LINE}{seed} {line}").and_then(|()| out.flush()).expect("stdout of the trial child");
    }
    std::process::exit(0)
}

/// Runs one child over `seeds`, passing each finished trial to `finished`; returns how the
/// child died if it did not finish them all.
fn supervise(test: &str, fixture: &Path, seeds: Range<u64>, mut finished: impl FnMut(u64, String)) -> Option<Crash> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--include-ignored", "--test-threads=1"])
        .env(FIXTURE_VAR, fixture)
        .env(SEEDS_VAR, format!("{}..{}", seeds.start, seeds.end))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again as a child");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut expected = seeds.start;
    let mut hung = false;
    loop {
        match rx.recv_timeout(HANG) {
            Ok(line) => {
                // The harness may have begun the line (`test NAME ... `) before the trial's.
                let Some((_, rest)) = line.split_once(LINE) else { continue };
                let (seed, text) = rest.split_once(' ').unwrap_or((rest, ""));
                if seed.parse() == Ok(expected) {
                    finished(expected, text.to_owned());
                    expected += 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                hung = true;
                let _ = child.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child.wait().expect("the child is waited for");
    let stderr = errors.join().unwrap_or_default();
    if expected == seeds.end && status.success() {
        return None;
    }
    let tail = stderr.char_indices().rev().nth(1999).map_or(stderr.as_str(), |(i, _)| &stderr[i..]);
    let how = if hung { format!("silent for {} s, killed", HANG.as_secs()) } else { status.to_string() };
    Some(Crash { how, stderr: tail.trim().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_is_the_same_for_the_same_seed_and_changes_the_bytes() {
        let original: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        for seed in 0..200 {
            let (mut a, mut b) = (original.clone(), original.clone());
            assert_eq!(damage(&mut a, seed), damage(&mut b, seed));
            assert_eq!(a, b);
            // A zeroed block may already have been zeros, and a run may be rewritten with the
            // same bytes; every other kind changes the file.
            let what = damage(&mut original.clone(), seed);
            if !what.starts_with("zeroed") && !what.starts_with("wrote") {
                assert_ne!(a, original, "seed {seed}: {what}");
            }
        }
    }

    #[test]
    fn every_kind_of_damage_is_drawn() {
        let kinds: std::collections::BTreeSet<String> = (0..200)
            .map(|seed| damage(&mut vec![7u8; 10_000], seed).split(' ').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["changed", "cut", "wrote", "zeroed"]);
    }
}
