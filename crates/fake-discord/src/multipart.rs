//! Just enough `multipart/form-data` parsing for what serenity sends when a message has
//! files: a `payload_json` text part plus `files[n]` parts.

/// One uploaded file.
#[derive(Clone, Debug)]
pub struct FilePart {
    pub field: String,
    pub filename: String,
    pub size: usize,
    pub content_type: Option<String>,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// The parsed form: the JSON payload (if any) and the files.
#[derive(Debug, Default)]
pub struct Form {
    pub payload_json: Option<String>,
    pub files: Vec<FilePart>,
}

/// Extracts the boundary from a `Content-Type: multipart/form-data; boundary=...` header.
pub fn boundary(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return None;
    }
    content_type.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=").map(|b| b.trim_matches('"').to_string())
    })
}

/// Parses a multipart body. Returns an error message for a malformed body.
pub fn parse(body: &[u8], boundary: &str) -> Result<Form, String> {
    let delim = format!("--{boundary}").into_bytes();
    let mut form = Form::default();
    let mut rest = body;
    let start = find(rest, &delim).ok_or("multipart body without a boundary")?;
    rest = &rest[start + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Ok(form);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or("boundary not followed by CRLF")?;
        let end = find(rest, &delim).ok_or("unterminated multipart part")?;
        // The part ends with CRLF before the next delimiter.
        let part = rest[..end].strip_suffix(b"\r\n").unwrap_or(&rest[..end]);
        let split = find(part, b"\r\n\r\n").ok_or("multipart part without headers")?;
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let content = &part[split + 4..];
        let (mut name, mut filename, mut ctype) = (String::new(), None, None);
        for line in headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = param(line, "name").unwrap_or_default();
                filename = param(line, "filename");
            } else if let Some(v) = lower.strip_prefix("content-type:") {
                ctype = Some(v.trim().to_string());
            }
        }
        match filename {
            Some(filename) => form.files.push(FilePart {
                field: name,
                filename,
                size: content.len(),
                content_type: ctype,
                data: content.to_vec(),
            }),
            None if name == "payload_json" => {
                form.payload_json = Some(String::from_utf8_lossy(content).to_string());
            }
            None => {}
        }
        rest = &rest[end + delim.len()..];
    }
}

fn param(line: &str, key: &str) -> Option<String> {
    line.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
