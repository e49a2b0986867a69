//! `irq-reader N FIRST`: reads sectors `FIRST..FIRST+N` of `disk:` one at a time and checks
//! each against the image's pattern; exits 0 if all matched, 1 otherwise. The `irq` suite
//! runs several at once so requests reach the driver while it waits for an interrupt.
#![no_std]
#![no_main]

use disk_api::image::pattern_mismatch;
use disk_client::Disk;
use userlib::Args;

userlib::entry!(main);

fn main(args: Args) -> i32 {
    let number = |index: usize| args.get(index).and_then(|text| text.parse::<u64>().ok());
    let (Some(count), Some(first)) = (number(1), number(2)) else {
        return 2;
    };
    let Ok(disk) = Disk::open(0) else {
        return 1;
    };
    let mut sector = [0u8; 512];
    for index in first..first + count {
        if disk.read_at(index * 512, &mut sector).is_err()
            || pattern_mismatch(index, &sector).is_some()
        {
            return 1;
        }
    }
    0
}
