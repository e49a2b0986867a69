//! Tests of request-path parsing and formatting.

use super::*;

fn alloc(device: &str, size: u64, align: Option<u64>) -> DmaPath<'_> {
    DmaPath::Alloc {
        device,
        size,
        align,
        mask: None,
        boundary: None,
    }
}

#[test]
fn good_paths() {
    assert_eq!(DmaPath::parse(""), Ok(DmaPath::Root));
    assert_eq!(DmaPath::parse("/"), Ok(DmaPath::Root));
    assert_eq!(
        DmaPath::parse("blk/stats"),
        Ok(DmaPath::Stats { device: "blk" })
    );
    assert_eq!(
        DmaPath::parse("blk/map"),
        Ok(DmaPath::Map { device: "blk" })
    );
    assert_eq!(DmaPath::parse("blk/map?x=1"), Err(DmaError::Invalid));
    assert_eq!(
        DmaPath::parse("/blk/alloc?size=4096"),
        Ok(alloc("blk", 4096, None))
    );
    assert_eq!(
        DmaPath::parse("blk/alloc?align=0x10000&size=0x3000"),
        Ok(alloc("blk", 0x3000, Some(0x10000)))
    );
    assert_eq!(
        DmaPath::parse("blk/release-pool"),
        Ok(DmaPath::ReleasePool { device: "blk" })
    );
    assert_eq!(
        DmaPath::parse("declare?name=p&device=d&phys=0x1000&size=8192"),
        Ok(DmaPath::Declare(DeclareRequest {
            name: "p",
            device: "d",
            phys: 0x1000,
            device_base: 0x1000,
            size: 8192
        }))
    );
}

#[test]
fn malformed_paths_are_invalid() {
    for path in [
        "blk/alloc",
        "blk/alloc?",
        "blk/alloc?size=0",
        "blk/alloc?size=",
        "blk/alloc?size=-1",
        "blk/alloc?size=18446744073709551616",
        "blk/alloc?size=4096&size=4096",
        "blk/alloc?size=4096&align=0",
        "blk/alloc?size=4096&align=0x3000",
        "blk/alloc?size=4096&colour=red",
        "blk/alloc?size=4096&",
        "blk/stats?x=1",
        "blk/release-pool?now=1",
        "?x",
        "declare",
        "declare?name=p&device=d&phys=0",
        "declare?name=p&device=d&phys=0&size=0",
        "declare?name=&device=d&phys=0&size=4096",
        "/alloc?size=1",
    ] {
        assert_eq!(DmaPath::parse(path), Err(DmaError::Invalid), "{path:?}");
    }
}

#[test]
fn paths_naming_nothing_are_unknown() {
    for path in ["blk", "blk/free", "blk/alloc/x", "blk/stats/"] {
        assert_eq!(
            DmaPath::parse(path),
            Err(DmaError::UnknownDevice),
            "{path:?}"
        );
    }
}

#[test]
fn client_paths_parse_back() {
    extern crate std;
    use std::string::ToString;
    let path = AllocPath {
        device: "virtio-blk0",
        size: 12288,
        align: Some(0x10000),
        mask: None,
        boundary: None,
    }
    .to_string();
    assert_eq!(path, "dma:/virtio-blk0/alloc?size=12288&align=0x10000");
    let inner = path.strip_prefix("dma:").unwrap();
    assert_eq!(
        DmaPath::parse(inner),
        Ok(alloc("virtio-blk0", 12288, Some(0x10000)))
    );
    let declare = DeclareRequest {
        name: "p",
        device: "d",
        phys: 0x8000_0000,
        device_base: 0x4000_0000,
        size: 0x10_0000,
    };
    let text = declare.to_string();
    assert_eq!(
        DmaPath::parse(text.strip_prefix("dma:").unwrap()),
        Ok(DmaPath::Declare(declare))
    );
}

#[test]
fn errors_have_one_meaning_each() {
    for error in DmaError::ALL {
        assert_eq!(DmaError::from_errno(error.errno()), Some(error));
        assert_eq!(DmaError::from_name(error.name()), Some(error));
    }
}

#[test]
fn constrained_alloc_paths() {
    extern crate std;
    use std::string::ToString;
    assert_eq!(
        DmaPath::parse("nvme/alloc?size=0x2000&mask=0xffffffff&boundary=0x10000"),
        Ok(DmaPath::Alloc {
            device: "nvme",
            size: 0x2000,
            align: None,
            mask: Some(0xffff_ffff),
            boundary: Some(0x10000),
        })
    );
    assert!(DmaPath::parse("nvme/alloc?size=1&mask=0xffffffffffffffff").is_ok());
    for bad in [
        "nvme/alloc?size=1&mask=0x12345",
        "nvme/alloc?size=1&mask=0x7ff",
        "nvme/alloc?size=1&mask=0",
        "nvme/alloc?size=1&boundary=0x3000",
        "nvme/alloc?size=1&boundary=0",
        "nvme/alloc?size=1&mask=0xfff&mask=0xfff",
    ] {
        assert_eq!(DmaPath::parse(bad), Err(DmaError::Invalid), "{bad}");
    }
    let path = AllocPath {
        device: "nvme",
        size: 4096,
        align: None,
        mask: Some(0xffff_ffff),
        boundary: Some(0x1_0000),
    }
    .to_string();
    assert_eq!(
        path,
        "dma:/nvme/alloc?size=4096&mask=0xffffffff&boundary=0x10000"
    );
    assert_eq!(
        DmaPath::parse(path.strip_prefix("dma:").unwrap()),
        Ok(DmaPath::Alloc {
            device: "nvme",
            size: 4096,
            align: None,
            mask: Some(0xffff_ffff),
            boundary: Some(0x1_0000),
        })
    );
}
