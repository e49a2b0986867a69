//! Host tests for the initfs reader and writer.

use super::*;

fn sample() -> Vec<u8> {
    let mut builder = Builder::new();
    builder
        .add_file("/bin/init", b"init program", 0o755)
        .unwrap();
    builder.add_file("bin/dmad", b"dmad", 0o755).unwrap();
    builder
        .add_file("manifest.toml", b"[image]\nname = \"x\"\n", 0o644)
        .unwrap();
    builder.add_file("empty", b"", 0o600).unwrap();
    builder.finish()
}

#[test]
fn round_trip_keeps_paths_data_and_modes() {
    let bytes = sample();
    let archive = Archive::new(&bytes).unwrap();
    let entries: Vec<_> = archive.entries().collect();
    let paths: Vec<_> = entries.iter().map(|entry| entry.path).collect();
    assert_eq!(
        paths,
        ["bin", "bin/init", "bin/dmad", "manifest.toml", "empty"]
    );
    assert!(entries[0].is_directory());
    assert_eq!(entries[0].permissions(), 0o755);
    assert!(entries[1].is_file());
    assert_eq!(entries[1].data, b"init program");
    assert_eq!(entries[1].mode, 0o100_755);
    assert_eq!(entries[3].mode, 0o100_644);
    assert_eq!(entries[4].data, b"");
    assert_eq!(archive.len(), bytes.len());
    assert!(!archive.is_empty());
}

#[test]
fn find_accepts_absolute_and_relative_paths() {
    let bytes = sample();
    let archive = Archive::new(&bytes).unwrap();
    for path in ["/bin/init", "bin/init", "./bin/init"] {
        assert_eq!(archive.find(path).unwrap().data, b"init program");
    }
    assert!(archive.find("bin/missing").is_none());
    assert!(archive.find("/bin").unwrap().is_directory());
}

#[test]
fn empty_archive_is_only_a_trailer() {
    let bytes = Builder::new().finish();
    let archive = Archive::new(&bytes).unwrap();
    assert!(archive.is_empty());
    assert_eq!(bytes.len(), 124);
}

/// The exact bytes `cpio -o -H newc` rules give for one file `a` holding `hi`, mode 0644.
#[test]
fn writer_output_matches_newc_byte_layout() {
    let mut builder = Builder::new();
    builder.add_file("a", b"hi", 0o644).unwrap();
    let bytes = builder.finish();
    let mut expected = Vec::new();
    // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
    // rdevminor, namesize, check
    expected.extend_from_slice(b"070701");
    expected.extend_from_slice(b"00000001000081A4000000000000000000000001");
    expected.extend_from_slice(b"0000000000000002000000000000000000000000");
    expected.extend_from_slice(b"000000000000000200000000");
    // header (110) + "a\0" = 112, already four-aligned; data "hi" padded to four.
    expected.extend_from_slice(b"a\0hi\0\0");
    expected.extend_from_slice(b"070701");
    expected.extend_from_slice(b"00000000000000000000000000000000000000010000000000000000");
    expected.extend_from_slice(b"00000000000000000000000000000000");
    expected.extend_from_slice(b"0000000B00000000");
    // header (110) + "TRAILER!!!\0" (11) = 121, padded to 124.
    expected.extend_from_slice(b"TRAILER!!!\0\0\0\0");
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(bytes.len() % 4, 0);
}

#[test]
fn reader_accepts_lowercase_hex_dot_slash_names_and_block_padding() {
    let mut bytes = Vec::new();
    let mut push = |name: &str, mode: u32, data: &[u8]| {
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            1,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes.extend_from_slice(data);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
    };
    push(".", 0o40_755, b"");
    push("./sbin/tool", 0o100_700, b"abcdefghij");
    push("TRAILER!!!", 0, b"");
    let trailer_end = bytes.len();
    bytes.resize(512, 0);
    let archive = Archive::new(&bytes).unwrap();
    assert_eq!(archive.len(), trailer_end);
    let paths: Vec<_> = archive.entries().map(|entry| entry.path).collect();
    assert_eq!(paths, ["", "sbin/tool"]);
    assert_eq!(archive.find("/sbin/tool").unwrap().data, b"abcdefghij");
}

#[test]
fn errors_name_the_problem_and_offset() {
    let good = sample();
    let mut bad_magic = good.clone();
    bad_magic[5] = b'2';
    assert_eq!(
        Archive::new(&bad_magic).unwrap_err(),
        InitfsError {
            offset: 0,
            kind: InitfsErrorKind::BadMagic
        }
    );

    let mut not_hex = good.clone();
    not_hex[6 + 8 + 3] = b'g';
    assert_eq!(
        Archive::new(&not_hex).unwrap_err(),
        InitfsError {
            offset: 14,
            kind: InitfsErrorKind::NotHexadecimal
        }
    );

    let mut unterminated = good.clone();
    // "bin\0" follows the first header; overwrite the NUL.
    unterminated[HEADER_LENGTH + 3] = b'x';
    assert_eq!(
        Archive::new(&unterminated).unwrap_err(),
        InitfsError {
            offset: HEADER_LENGTH,
            kind: InitfsErrorKind::BadName
        }
    );

    assert_eq!(
        Archive::new(&[]).unwrap_err(),
        InitfsError {
            offset: 0,
            kind: InitfsErrorKind::MissingTrailer
        }
    );
    assert!(InitfsError {
        offset: 7,
        kind: InitfsErrorKind::BadMagic
    }
    .to_string()
    .contains("byte 7"));
}

#[test]
fn missing_trailer_is_reported_at_the_end() {
    let good = sample();
    // The trailer header is the last 124 bytes.
    let without_trailer = &good[..good.len() - 124];
    assert_eq!(
        Archive::new(without_trailer).unwrap_err(),
        InitfsError {
            offset: without_trailer.len(),
            kind: InitfsErrorKind::MissingTrailer
        }
    );
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let good = sample();
    for length in 0..good.len() {
        let error = Archive::new(&good[..length]).unwrap_err();
        assert!(error.offset <= length, "{error:?} past length {length}");
    }
}

#[test]
fn every_single_byte_corruption_is_handled() {
    let good = sample();
    for offset in 0..good.len() {
        for value in [0u8, b'0', b'F', b'z', 0xFF] {
            let mut corrupt = good.clone();
            corrupt[offset] = value;
            if let Ok(archive) = Archive::new(&corrupt) {
                assert!(archive.entries().count() <= 5);
            }
        }
    }
}

#[test]
fn huge_sizes_do_not_overflow() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"070701");
    for index in 0..13 {
        let field = if index == 6 || index == 11 {
            "FFFFFFFF"
        } else {
            "00000000"
        };
        bytes.extend_from_slice(field.as_bytes());
    }
    bytes.extend_from_slice(b"x\0\0\0");
    assert_eq!(
        Archive::new(&bytes).unwrap_err().kind,
        InitfsErrorKind::TruncatedName
    );
}

#[test]
fn builder_rejects_bad_and_duplicate_paths() {
    let mut builder = Builder::new();
    for path in ["", "/", "a//b", "a/../b", "./", "TRAILER!!!", "a\0b", "a/."] {
        assert!(
            matches!(
                builder.add_file(path, b"", 0o644),
                Err(BuildError::BadPath(_))
            ),
            "{path:?}"
        );
    }
    builder.add_file("dir/file", b"", 0o644).unwrap();
    assert_eq!(
        builder.add_directory("/dir", 0o755),
        Err(BuildError::Duplicate("dir".into()))
    );
    assert_eq!(
        builder.add_file("./dir/file", b"", 0o644),
        Err(BuildError::Duplicate("dir/file".into()))
    );
    builder.add_directory("other", 0o700).unwrap();
    let bytes = builder.finish();
    let archive = Archive::new(&bytes).unwrap();
    let other = archive.find("other").unwrap();
    assert!(other.is_directory());
    assert_eq!(other.permissions(), 0o700);
}
