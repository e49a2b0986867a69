//! Tests of the typed views: image, pools and processes, and the schema errors.

use crate::manifest::{ImageConfig, Manifest, ManifestError};
use crate::pool::{Placement, PoolCache, PAGE_SIZE};

const SAMPLE: &str = include_str!("sample.toml");

fn schema_error(text: &str) -> ManifestError {
    Manifest::parse(text).unwrap().validate().unwrap_err()
}

#[test]
fn sample_reads_into_typed_views() {
    let manifest = Manifest::parse(SAMPLE).unwrap();
    manifest.validate().unwrap();
    assert_eq!(
        manifest.image().unwrap(),
        ImageConfig {
            name: "default",
            test_suite: Some("boot")
        }
    );
    let pools: Vec<_> = manifest.pools().map(Result::unwrap).collect();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[0].name, "virtio-blk0");
    assert_eq!(pools[0].devices().collect::<Vec<_>>(), ["virtio-blk0"]);
    assert_eq!(
        pools[0].placement,
        Placement::Dynamic {
            size: 0x10_0000,
            align: 0x1_0000,
            limit: Some(0x1_0000_0000),
            alloc_ranges: [None; 4]
        }
    );
    assert!(!pools[0].no_map);
    assert_eq!(pools[0].device_offset, 0);
    assert_eq!(pools[1].size(), 0x4000);
    assert!(matches!(
        pools[1].placement,
        Placement::Dynamic {
            align: PAGE_SIZE,
            limit: None,
            ..
        }
    ));

    let processes: Vec<_> = manifest.processes().map(Result::unwrap).collect();
    assert_eq!(processes.len(), 2);
    let dmad = &processes[0];
    assert_eq!((dmad.name, dmad.path, dmad.line), ("dmad", "/bin/dmad", 18));
    let args: Vec<String> = dmad.args.clone().map(|text| text.to_string()).collect();
    assert_eq!(args, ["--verbose", "--say \"hi\""]);
    assert_eq!(dmad.schemes.clone().collect::<Vec<_>>(), ["dma"]);
    assert_eq!(dmad.devices.clone().collect::<Vec<_>>(), ["virtio-blk0"]);
    assert_eq!(dmad.quota_pages, Some(256));
    assert!(dmad.autostart);
    assert!(!dmad.declare_pools);
    assert_eq!(dmad.spawns.clone().count(), 0);
    assert_eq!(dmad.kills.clone().count(), 0);
    let helper = &processes[1];
    assert_eq!(helper.name, "init-helper");
    assert_eq!(helper.args.clone().count(), 0);
    assert_eq!(helper.schemes.clone().count(), 0);
    assert_eq!(helper.quota_pages, None);
    assert!(!helper.autostart);
    assert!(helper.declare_pools);
    assert_eq!(helper.spawns.clone().collect::<Vec<_>>(), ["dmad"]);
    assert_eq!(helper.kills.clone().collect::<Vec<_>>(), ["dmad"]);
}

#[test]
fn minimal_image_has_no_test_suite() {
    let manifest = Manifest::parse("[image]\nname = \"x\"").unwrap();
    assert_eq!(manifest.image().unwrap().test_suite, None);
    assert_eq!(manifest.pools().count(), 0);
    manifest.validate().unwrap();
}

#[test]
fn device_offset_and_no_map_are_read() {
    let text = "[image]\nname = \"x\"\n[pool.p]\ndevice = \"d\"\nsize = 4096\nlimit = 0x8000_0000\ndevice-offset = 0x4000_0000\nno-map = true";
    let manifest = Manifest::parse(text).unwrap();
    manifest.validate().unwrap();
    let pool = manifest.pools().next().unwrap().unwrap();
    assert!(pool.no_map);
    assert_eq!(pool.device_offset, 0x4000_0000);
    assert_eq!(pool.device_address(0x1000), Some(0x4000_1000));
    assert_eq!(pool.address_limit(), Some(0x8000_0000));
}

#[test]
fn cache_is_read_and_defaults_to_write_combining() {
    let text = "[image]\nname = \"x\"\n[pool.plain]\ndevice = \"a\"\nsize = 4096\n\
        [pool.wb]\ndevice = \"b\"\nsize = 4096\ncache = \"wb\"\n\
        [pool.wc]\ndevice = \"c\"\nsize = 4096\ncache = \"wc\"\n\
        [pool.uc]\ndevice = \"d\"\nsize = 4096\ncache = \"uc\"";
    let manifest = Manifest::parse(text).unwrap();
    manifest.validate().unwrap();
    let caches: Vec<_> = manifest.pools().map(|pool| pool.unwrap().cache).collect();
    assert_eq!(
        caches,
        [
            PoolCache::WriteCombining,
            PoolCache::WriteBack,
            PoolCache::WriteCombining,
            PoolCache::Uncached
        ]
    );
}

#[test]
fn a_default_pool_needs_no_device() {
    let text = "[image]\nname = \"x\"\n[pool.global]\nsize = 0x10000\ndefault = true\n\
        [pool.own]\ndevice = \"d\"\nsize = 4096\n[pool.missing]\nsize = 4096\ndefault = false";
    let manifest = Manifest::parse(text).unwrap();
    let pools: Vec<_> = manifest.pools().collect();
    let global = pools[0].unwrap();
    assert!(global.default);
    assert_eq!(global.devices().count(), 0);
    assert!(!pools[1].unwrap().default);
    assert_eq!(pools[2].unwrap_err().reason, "pool lacks 'device'");
}

#[test]
fn schema_errors_name_their_line() {
    let image = "[image]\nname = \"x\"\n";
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "missing [image] section"),
        ("[image]", 1, "[image] lacks 'name'"),
        ("[image]\nname = 1", 2, "value must be a string"),
        ("[image]\nname = \"\"", 2, "value must not be empty"),
        (
            "[image]\nname = \"a\\nb\"",
            2,
            "escape sequences are not allowed in this value",
        ),
        (
            "[image]\nname = \"x\"\ntest_suite = \"boot\"",
            3,
            "unknown key",
        ),
        ("[image]\nname = \"x\"\n[imag]", 3, "unknown section"),
        ("[image]\nname = \"x\"\n[pool]", 3, "unknown section"),
    ];
    for (text, line, reason) in cases {
        assert_eq!(
            schema_error(text),
            ManifestError::new(*line, reason),
            "{text:?}"
        );
    }
    let pool_cases: &[(&str, usize, &str)] = &[
        ("[pool.a.b]\ndevice = \"d\"\nsize = 4096", 3, "section name must be KIND.NAME with one NAME"),
        ("[pool.p]\nsize = 4096", 3, "pool lacks 'device'"),
        ("[pool.p]\ndevice = \"d\"", 3, "pool lacks 'size'"),
        ("[pool.p]\ndevice = \"a/b\"\nsize = 4096", 4, "device name holds a reserved character"),
        ("[pool.p]\ndevice = \"d\"\nsize = 0", 5, "pool size must be a non-zero multiple of 4096"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4097", 5, "pool size must be a non-zero multiple of 4096"),
        ("[pool.p]\ndevice = \"d\"\nsize = \"4096\"", 5, "value must be an integer"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\nalign = 2048", 6, "pool align must be a power of two of at least 4096"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\nalign = 0x3000", 6, "pool align must be a power of two of at least 4096"),
        ("[pool.p]\ndevice = \"d\"\nsize = 8192\nlimit = 4096", 6, "pool limit is below the pool size"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\nno-map = 1", 6, "value must be true or false"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\nlimit = 0x1_0000_0000\ndevice-offset = 0xffff_ffff_0000_0001", 7, "device-offset makes device addresses wrap past 2^64"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\nsise = 4096", 6, "unknown key"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\ncache = \"wt\"", 6, "pool cache must be \"wb\", \"wc\" or \"uc\""),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\ncache = \"WB\"", 6, "pool cache must be \"wb\", \"wc\" or \"uc\""),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\ncache = 1", 6, "value must be a string"),
        ("[pool.p]\ndevice = \"d\"\nsize = 4096\n[pool.q]\ndevice = \"d\"\nsize = 4096", 6, "device already has a pool"),
        ("[process.p]\nargs = []", 3, "process lacks 'path'"),
        ("[process.p]\npath = \"/bin/p\"\nschemes = [\"a:b\"]", 5, "scheme names must be letters, digits, '-' or '_'"),
        ("[process.p]\npath = \"/bin/p\"\ndevices = [\"\"]", 5, "device names must be non-empty without '/', ':', '?', '&' or '='"),
        ("[process.p]\npath = \"/bin/p\"\nargs = [1]", 5, "value must be an array of strings"),
        ("[process.p]\npath = \"/bin/p\"\nquota-pages = true", 5, "value must be an integer"),
        ("[process.p]\npath = \"/bin/p\"\nquota = 1", 5, "unknown key"),
        ("[process.p]\npath = \"/bin/p\"\nautostart = \"no\"", 5, "value must be true or false"),
        ("[process.p]\npath = \"/bin/p\"\ndeclare-pools = 1", 5, "value must be true or false"),
    ];
    for (text, line, reason) in pool_cases {
        let text = format!("{image}{text}");
        assert_eq!(
            schema_error(&text),
            ManifestError::new(*line, reason),
            "{text:?}"
        );
    }
}

#[test]
fn device_offset_without_limit_is_bounded_at_placement() {
    let text = "[image]\nname = \"x\"\n[pool.p]\ndevice = \"d\"\nsize = 4096\ndevice-offset = 0xffff_0000_0000_0000";
    let manifest = Manifest::parse(text).unwrap();
    manifest.validate().unwrap();
    let pool = manifest.pools().next().unwrap().unwrap();
    assert_eq!(pool.address_limit(), Some(0x1_0000_0000_0000));
}
