//! Reading documents: a file, or standard input.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use crate::Fatal;

/// The named file, or standard input for `-` or nothing.
pub(crate) fn open_input(file: Option<PathBuf>) -> Result<Box<dyn BufRead>, Fatal> {
    match file {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => {
            let f =
                File::open(&p).map_err(|e| Fatal(format!("cannot open {}: {e}", p.display())))?;
            Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
        }
    }
}
