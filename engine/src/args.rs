//! A command's arguments as spans over one byte buffer. The parser fills the
//! spans over the connection's read buffer (no copy); a command that hops to
//! another shard is copied once into an owned buffer of the same shape.

#[derive(Clone, Copy)]
pub struct Args<'a> {
    buf: &'a [u8],
    spans: &'a [(u32, u32)],
}

impl<'a> Args<'a> {
    pub fn new(buf: &'a [u8], spans: &'a [(u32, u32)]) -> Self {
        Args { buf, spans }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i`; argument 0 is the command name.
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (start, end) = self.spans[i];
        &self.buf[start as usize..end as usize]
    }

    /// Argument `i`, if the command has that many.
    pub fn arg(&self, i: usize) -> Option<&'a [u8]> {
        (i < self.len()).then(|| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Case-insensitive compare of argument `i` with an ASCII keyword.
    pub fn is(&self, i: usize, keyword: &str) -> bool {
        self.get(i).eq_ignore_ascii_case(keyword.as_bytes())
    }

    pub fn spans(&self) -> &'a [(u32, u32)] {
        self.spans
    }

    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }
}

/// An owned command: what hops between shards and what tests build.
#[derive(Clone, Default, Debug)]
pub struct OwnedArgs {
    pub buf: Vec<u8>,
    pub spans: Vec<(u32, u32)>,
}

impl OwnedArgs {
    pub fn push(&mut self, arg: &[u8]) {
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(arg);
        self.spans.push((start, self.buf.len() as u32));
    }

    pub fn from_slices<T: AsRef<[u8]>>(parts: &[T]) -> Self {
        let mut owned = OwnedArgs::default();
        for p in parts {
            owned.push(p.as_ref());
        }
        owned
    }

    pub fn from_args(args: &Args) -> Self {
        let mut owned = OwnedArgs::default();
        for a in args.iter() {
            owned.push(a);
        }
        owned
    }

    pub fn args(&self) -> Args<'_> {
        Args::new(&self.buf, &self.spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_is_a_checked_get() {
        let owned = OwnedArgs::from_slices(&["GET", "k"]);
        let args = owned.args();
        assert_eq!(args.arg(1), Some(&b"k"[..]));
        assert_eq!(args.arg(2), None);
        assert_eq!(OwnedArgs::from_slices(&["PING"]).args().arg(1), None);
    }
}
