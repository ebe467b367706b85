//! Reading and writing X, y, W and a as NumPy `.npy` files (float64 or float32, C or Fortran order).
//!
//! This module and nothing else in the model crate touches the file system. Writes are atomic
//! (a temporary file in the same folder, then a rename), so an interrupted write leaves nothing.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use faer::{Col, ColRef, Mat, MatRef};
use npyz::{DType, NpyFile, Order, WriterBuilder};

use crate::{ModelError, Result};

fn err(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::Npy { path: path.to_path_buf(), reason: reason.into() }
}

/// The element type a `.npy` file stored (values are always returned as f64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// float64 (`<f8` / `>f8`).
    Float64,
    /// float32 (`<f4` / `>f4`): each value carries a relative rounding error up to 2^−24 ≈ 6·10⁻⁸.
    Float32,
}

/// A parsed array: its shape and its values in row-major (C) order.
struct Array {
    shape: Vec<usize>,
    values: Vec<f64>,
    precision: Precision,
}

/// The element count of `shape`, or an error naming the shape when the product overflows.
///
/// Every partial product (npyz's strides) is bounded by the product of max(s, 1), which is checked too.
fn element_count(shape: &[u64], path: &Path) -> Result<usize> {
    let tuple = shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let too_many =
        || err(path, format!("the header's shape ({tuple}) has more elements than this machine can address"));
    shape
        .iter()
        .try_fold(1usize, |acc, &s| usize::try_from(s.max(1)).ok().and_then(|s| acc.checked_mul(s)))
        .ok_or_else(too_many)?;
    shape.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s as usize)).ok_or_else(too_many)
}

/// The shape written in a `.npy` header, read before npyz parses it (npyz multiplies the
/// dimensions unchecked). `None` when the header cannot be located: npyz then names the problem.
fn header_shape(bytes: &[u8]) -> Option<Vec<u64>> {
    // bytes.len() ≥ 10 is checked before any index here (≥ 12 before the u32 length in bytes[8..=11]).
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return None;
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        _ => return None,
    };
    let text = std::str::from_utf8(bytes.get(start..start.checked_add(len)?)?).ok()?;
    // Offsets come from find() of ASCII needles, so they lie on char boundaries and within text.
    let after = &text[text.find("'shape'")? + "'shape'".len()..];
    let tuple = &after[after.find('(')? + 1..];
    let tuple = &tuple[..tuple.find(')')?];
    tuple.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| t.parse::<u64>().ok()).collect()
}

fn parse(bytes: &[u8], path: &Path) -> Result<Array> {
    if let Some(shape) = header_shape(bytes) {
        element_count(&shape, path)?;
    }
    // The parser's message can span several lines (a caret diagram of the header): keep its
    // first line, so that the error stays one line.
    let file = NpyFile::new(bytes).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unreadable header");
        let first = first.trim_end_matches(|c: char| c == ':' || c.is_whitespace() || c == '-' || c == '>');
        err(path, format!("not a valid .npy file ({first})"))
    })?;
    let header = file.header().clone();
    let len = element_count(header.shape(), path)?;
    let shape: Vec<usize> = header.shape().iter().map(|&s| s as usize).collect();
    let (width, is_f32) = match header.dtype() {
        DType::Plain(ty) => match ty.to_string().as_str() {
            "<f8" | ">f8" => (8, false),
            "<f4" | ">f4" => (4, true),
            other => return Err(err(path, format!("dtype {other} is not supported: save it as float64 (np.float64)"))),
        },
        other => {
            return Err(err(path, format!("dtype {} is not supported: save a plain float64 array", other.descr())));
        }
    };
    let rest = file.into_inner();
    // Checked: a shape from the file must not wrap round (len ≤ usize::MAX, but len · width may not be).
    if len.checked_mul(width).is_none_or(|bytes| rest.len() < bytes) {
        return Err(err(
            path,
            format!(
                "truncated: the header promises {len} values of {width} bytes, the file holds {} bytes of data",
                rest.len()
            ),
        ));
    }
    let order = header.order();
    let data = NpyFile::with_header(header, rest);
    let raw: Vec<f64> = if is_f32 {
        data.into_vec::<f32>()
            .map_err(|e| err(path, format!("cannot read values ({e})")))?
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        data.into_vec::<f64>().map_err(|e| err(path, format!("cannot read values ({e})")))?
    };
    let values = if order == Order::Fortran && shape.len() == 2 {
        // shape.len() == 2 (condition above); into_vec yielded exactly r·c values (element_count and data
        // length checked), and (k % c)·r + k / c ≤ r·c − 1.
        let (r, c) = (shape[0], shape[1]);
        (0..r * c).map(|k| raw[(k % c) * r + k / c]).collect()
    } else {
        raw
    };
    let precision = if is_f32 { Precision::Float32 } else { Precision::Float64 };
    Ok(Array { shape, values, precision })
}

/// Parses a 2-D float64 (or float32) `.npy` image; `path` only names the source in errors.
pub fn matrix_from_npy_bytes(bytes: &[u8], path: &Path) -> Result<Mat<f64>> {
    Ok(matrix_and_precision_from_npy_bytes(bytes, path)?.0)
}

/// [`matrix_from_npy_bytes`], also telling which precision the file stored.
pub fn matrix_and_precision_from_npy_bytes(bytes: &[u8], path: &Path) -> Result<(Mat<f64>, Precision)> {
    let a = parse(bytes, path)?;
    if a.shape.len() != 2 {
        return Err(err(path, format!("expected a 2-D array, found shape {:?}", a.shape)));
    }
    // shape.len() == 2 checked just above; values holds r·c entries in C order.
    let (r, c) = (a.shape[0], a.shape[1]);
    Ok((Mat::from_fn(r, c, |i, j| a.values[i * c + j]), a.precision))
}

/// Parses a 1-D float64 (or float32) `.npy` image (an n × 1 or 1 × n array is accepted too).
pub fn vector_from_npy_bytes(bytes: &[u8], path: &Path) -> Result<Col<f64>> {
    let a = parse(bytes, path)?;
    // a.shape[0] and a.shape[1] are read only after a.shape.len() == 2 (&& short-circuits).
    let ok = a.shape.len() == 1 || (a.shape.len() == 2 && (a.shape[0] == 1 || a.shape[1] == 1));
    if !ok {
        return Err(err(path, format!("expected a 1-D array, found shape {:?}", a.shape)));
    }
    // i ranges over 0..a.values.len().
    Ok(Col::from_fn(a.values.len(), |i| a.values[i]))
}

/// The `.npy` image of a matrix (float64, C order).
pub fn matrix_to_npy_bytes(m: MatRef<'_, f64>) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        // The writer targets an in-memory Cursor<Vec<u8>>: no I/O error.
        let mut w = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(&[m.nrows() as u64, m.ncols() as u64])
            .writer(&mut buf)
            .begin_nd()
            .expect("writing to memory");
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                // In-memory writer (no I/O error); exactly nrows·ncols values are pushed for the declared shape.
                w.push(&m[(i, j)]).expect("writing to memory");
            }
        }
        // In-memory writer (no I/O error), and exactly the declared number of values was pushed.
        w.finish().expect("writing to memory");
    }
    buf.into_inner()
}

/// The `.npy` image of a vector (float64, 1-D).
pub fn vector_to_npy_bytes(v: ColRef<'_, f64>) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        // The writer targets an in-memory Cursor<Vec<u8>>: no I/O error.
        let mut w = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(&[v.nrows() as u64])
            .writer(&mut buf)
            .begin_nd()
            .expect("writing to memory");
        for i in 0..v.nrows() {
            // In-memory writer (no I/O error); exactly nrows values are pushed for the declared shape.
            w.push(&v[i]).expect("writing to memory");
        }
        // In-memory writer (no I/O error), and exactly the declared number of values was pushed.
        w.finish().expect("writing to memory");
    }
    buf.into_inner()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let cannot = |e: std::io::Error| err(path, format!("cannot read ({e})"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    // The magic bytes first: a stream that is no .npy file (`/dev/zero`, a large text file) is
    // refused after six bytes, not after reading all of it.
    let mut bytes = Vec::new();
    (&mut file).take(6).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.as_slice() != b"\x93NUMPY" {
        return Err(err(
            path,
            "not a valid .npy file (it does not start with the .npy magic bytes \\x93NUMPY)".to_string(),
        ));
    }
    file.read_to_end(&mut bytes).map_err(cannot)?;
    Ok(bytes)
}

/// Reads a 2-D array from a `.npy` file.
pub fn read_matrix(path: impl AsRef<Path>) -> Result<Mat<f64>> {
    let path = path.as_ref();
    matrix_from_npy_bytes(&read(path)?, path)
}

/// Reads a 2-D array from a `.npy` file, with the precision the file stored.
pub fn read_matrix_and_precision(path: impl AsRef<Path>) -> Result<(Mat<f64>, Precision)> {
    let path = path.as_ref();
    matrix_and_precision_from_npy_bytes(&read(path)?, path)
}

/// Reads a 1-D array from a `.npy` file.
pub fn read_vector(path: impl AsRef<Path>) -> Result<Col<f64>> {
    let path = path.as_ref();
    vector_from_npy_bytes(&read(path)?, path)
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed, then renamed.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    let name = path.file_name().ok_or_else(|| err(path, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(path, format!("cannot write ({e})"))
    })
}

/// Writes a matrix as a float64 `.npy` file (atomically).
pub fn write_matrix(path: impl AsRef<Path>, m: MatRef<'_, f64>) -> Result<()> {
    write_atomic(path, &matrix_to_npy_bytes(m))
}

/// Writes a vector as a 1-D float64 `.npy` file (atomically).
pub fn write_vector(path: impl AsRef<Path>, v: ColRef<'_, f64>) -> Result<()> {
    write_atomic(path, &vector_to_npy_bytes(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("test.npy")
    }

    #[test]
    fn round_trip_in_memory_and_on_disk() {
        let m = Mat::from_fn(3, 4, |i, j| (i as f64) * 10.0 + j as f64 + 0.125);
        let v = Col::from_fn(5, |i| -(i as f64) / 3.0);
        assert_eq!(matrix_from_npy_bytes(&matrix_to_npy_bytes(m.as_ref()), p()).unwrap(), m);
        assert_eq!(vector_from_npy_bytes(&vector_to_npy_bytes(v.as_ref()), p()).unwrap(), v);
        let dir = std::env::temp_dir().join(format!("model-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_matrix(dir.join("x.npy"), m.as_ref()).unwrap();
        write_vector(dir.join("y.npy"), v.as_ref()).unwrap();
        assert_eq!(read_matrix(dir.join("x.npy")).unwrap(), m);
        assert_eq!(read_vector(dir.join("y.npy")).unwrap(), v);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file as NumPy writes it: `np.save('a.npy', np.array([[1., 2., 3.], [4., 5., 6.]], order='F'))`.
    #[test]
    fn reads_numpy_fortran_order_header() {
        let header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let total = 10 + header.len() + 1;
        let pad = total.div_ceil(64) * 64 - total;
        let hlen = (header.len() + pad + 1) as u16;
        bytes.extend_from_slice(&hlen.to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend(std::iter::repeat_n(b' ', pad));
        bytes.push(b'\n');
        for v in [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let m = matrix_from_npy_bytes(&bytes, p()).unwrap();
        assert_eq!(m, Mat::from_fn(2, 3, |i, j| (i * 3 + j + 1) as f64));
    }

    #[test]
    fn malformed_files_are_clear_errors() {
        let good = matrix_to_npy_bytes(Mat::<f64>::zeros(4, 4).as_ref());
        let message = |r: Result<Mat<f64>>| r.unwrap_err().to_string();
        assert!(message(matrix_from_npy_bytes(&good[..good.len() - 9], p())).contains("truncated"));
        assert!(message(matrix_from_npy_bytes(b"hello world, not numpy", p())).contains("not a valid .npy"));
        assert!(message(matrix_from_npy_bytes(&good[..20], p())).contains("test.npy"));
        let v = vector_to_npy_bytes(Col::<f64>::zeros(3).as_ref());
        assert!(message(matrix_from_npy_bytes(&v, p())).contains("expected a 2-D array"));
        assert!(read_matrix("/nonexistent/dir/x.npy").unwrap_err().to_string().contains("cannot read"));
        let mut ints = Cursor::new(Vec::new());
        {
            let mut w =
                npyz::WriteOptions::<i64>::new().default_dtype().shape(&[2, 2]).writer(&mut ints).begin_nd().unwrap();
            for k in 0..4i64 {
                w.push(&k).unwrap();
            }
            w.finish().unwrap();
        }
        assert!(message(matrix_from_npy_bytes(&ints.into_inner(), p())).contains("float64"));
    }

    /// A header as a file could hold it, followed by `data`.
    fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let total = 10 + header.len() + 1;
        let pad = total.div_ceil(64) * 64 - total;
        bytes.extend_from_slice(&((header.len() + pad + 1) as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend(std::iter::repeat_n(b' ', pad));
        bytes.push(b'\n');
        bytes.extend_from_slice(data);
        bytes
    }

    /// A shape whose element count wraps round a usize (2^32 · 2^32 = 2^64 ≡ 0, and 2^61 · 8 bytes
    /// wraps to 0 too) is an error naming the shape, not a wrapped count that passes the size check.
    #[test]
    fn a_shape_that_overflows_usize_is_refused() {
        for shape in ["(4294967296, 4294967296)", "(2305843009213693952, 1)", "(3, 6148914691236517206)"] {
            let bytes =
                with_header(&format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"), &[0; 16]);
            let e = matrix_from_npy_bytes(&bytes, p()).unwrap_err().to_string();
            assert!(
                e.contains("more elements than this machine can address") || e.contains("truncated"),
                "{shape}: {e}"
            );
            assert!(!e.contains("promises 0 values"), "{shape}: a wrapped count: {e}");
        }
        let e = matrix_from_npy_bytes(
            &with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", &[]),
            p(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("(4294967296, 4294967296)") && e.contains("more elements"), "{e}");
        // 2^61 elements fit a usize, their bytes do not: the true count is printed, not a wrapped one.
        let e = matrix_from_npy_bytes(
            &with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952, 1), }", &[0; 8]),
            p(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("promises 2305843009213693952 values"), "{e}");
    }

    #[test]
    fn float32_files_report_their_precision() {
        let data: Vec<u8> = [0.6f32, 0.8, 1.0, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", &data);
        let (m, precision) = matrix_and_precision_from_npy_bytes(&bytes, p()).unwrap();
        assert_eq!(precision, Precision::Float32);
        assert_eq!(m[(0, 0)], f64::from(0.6f32));
        let good = matrix_to_npy_bytes(Mat::<f64>::zeros(2, 2).as_ref());
        assert_eq!(matrix_and_precision_from_npy_bytes(&good, p()).unwrap().1, Precision::Float64);
    }
}
