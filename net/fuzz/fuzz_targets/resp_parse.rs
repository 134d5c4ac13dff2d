//! Feeds arbitrary bytes to the RESP parser the way a connection does:
//! consume commands from the front until it needs more or fails. Checks that
//! it never panics, never consumes past the input or zero bytes, that every
//! span lies inside the buffer its frame names, and that a command parses
//! the same when only its own bytes are given.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The parser uses std alone, so its file is compiled here directly rather
// than through ringcache-net: the fuzz build then needs neither glommio nor
// the engine, and is not broken by unrelated work in progress there.
#[path = "../../src/resp.rs"]
#[allow(dead_code)]
mod resp;

use resp::{needed_hint, parse_command, Frame, Limits};

fuzz_target!(|data: &[u8]| {
    // The first byte picks tight limits half the time, so the "too big"
    // and over-limit paths are reached with small inputs.
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_bulk_len: u64::from(mode >> 1),
            max_multibulk: 8,
            max_inline: 64,
        }
    };
    let (mut spans, mut scratch) = (Vec::new(), Vec::new());
    let (mut again, mut again_scratch) = (Vec::new(), Vec::new());
    let mut rest = data;
    loop {
        match parse_command(rest, &limits, &mut spans, &mut scratch) {
            Ok(Some((n, frame))) => {
                assert!(n > 0 && n <= rest.len());
                let base_len = match frame {
                    Frame::Multibulk => n,
                    Frame::Inline => scratch.len(),
                };
                for &(s, e) in &spans {
                    assert!(s <= e && e as usize <= base_len);
                }
                // The command alone must give the same answer.
                let alone = parse_command(&rest[..n], &limits, &mut again, &mut again_scratch);
                assert_eq!(alone, Ok(Some((n, frame))));
                assert_eq!(again, spans);
                assert_eq!(again_scratch, scratch);
                rest = &rest[n..];
            }
            Ok(None) => {
                if let Some(needed) = needed_hint(rest, &limits) {
                    assert!(needed > rest.len());
                }
                break;
            }
            Err(_) => break,
        }
    }
});
