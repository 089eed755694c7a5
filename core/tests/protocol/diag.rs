//! CBOR diagnostic notation (RFC 8949 section 8) of the subset our codec
//! writes, read straight from the bytes so that map keys keep their wire
//! order (a decoded `serde_cbor::Value` map would sort them).

/// The diagnostic notation of one CBOR item, or why it is not one we write.
pub fn diag(bytes: &[u8]) -> Result<String, String> {
    let mut r = Reader { bytes, at: 0 };
    let mut out = String::new();
    r.item(&mut out, 0)?;
    if r.at != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - r.at));
    }
    Ok(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("truncated")?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("truncated")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn argument(&mut self, info: u8) -> Result<u64, String> {
        let n = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => {
                return Err(format!(
                    "additional information {info} is not written by our codec"
                ))
            }
        };
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn item(&mut self, out: &mut String, depth: usize) -> Result<(), String> {
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if major == 7 {
            out.push_str(match info {
                20 => "false",
                21 => "true",
                22 => "null",
                _ => return Err(format!("simple value {info} is not written by our codec")),
            });
            return Ok(());
        }
        let n = self.argument(info)?;
        let len = usize::try_from(n).map_err(|_| "length too large")?;
        match major {
            0 => out.push_str(&n.to_string()),
            1 => out.push_str(&format!("-{}", u128::from(n) + 1)),
            2 => out.push_str(&format!("h'{}'", hex::encode(self.take(len)?))),
            3 => {
                let s = std::str::from_utf8(self.take(len)?).map_err(|e| e.to_string())?;
                out.push_str(&serde_json::to_string(s).map_err(|e| e.to_string())?);
            }
            4 => {
                out.push('[');
                for i in 0..len {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.item(out, depth + 1)?;
                }
                out.push(']');
            }
            5 => {
                out.push('{');
                for i in 0..len {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    out.push_str(&"  ".repeat(depth + 1));
                    self.item(out, depth + 1)?;
                    out.push_str(": ");
                    self.item(out, depth + 1)?;
                }
                if len > 0 {
                    out.push('\n');
                    out.push_str(&"  ".repeat(depth));
                }
                out.push('}');
            }
            _ => return Err(format!("major type {major} is not written by our codec")),
        }
        Ok(())
    }
}
