//! `process-tests`: the `process` suite's driver, started by the test image's manifest.
//!
//! It checks, from user space, what the kernel promises processes: isolation (kernel memory,
//! other processes' memory, W^X images), that bad system-call arguments get the errno the
//! ABI names and change nothing, preemption and sleeping, exit statuses and arguments,
//! spawning errors, the `device:` grants and mapping check, that process churn leaks
//! no frames, that memory a server lends is counted and revoked when it dies, that a
//! descriptor on a dead server's scheme never reaches its successor,
//! that full per-process kernel tables give their errnos, that threads share memory and
//! end as documented, that user copies recover from faults, and that `sys:random` gives
//! fresh, capped bytes and refuses bad buffers. It prints
//! the guest test protocol (see `process_tests::runner`) and exits 0 only when every test
//! passed.
#![no_std]
#![no_main]

extern crate alloc;

mod devices;
mod errors;
mod isolation;
mod lending;
mod lifecycle;
mod random;
mod scheduling;
mod tables;
mod threads;

use process_tests::runner::Suite;
use userlib::Args;

userlib::entry!(main);

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("process");
    suite.run(
        "kernel_memory_is_not_readable",
        isolation::kernel_memory_is_not_readable,
    );
    suite.run(
        "other_process_memory_is_not_reachable",
        isolation::other_process_memory_is_not_reachable,
    );
    suite.run(
        "program_images_are_write_xor_execute",
        isolation::program_images_are_write_xor_execute,
    );
    suite.run("bad_pointers_give_efault", errors::bad_pointers_give_efault);
    suite.run(
        "bad_descriptors_give_ebadf",
        errors::bad_descriptors_give_ebadf,
    );
    suite.run(
        "unknown_syscall_gives_enosys",
        errors::unknown_syscall_gives_enosys,
    );
    suite.run(
        "bad_arguments_give_einval",
        errors::bad_arguments_give_einval,
    );
    suite.run(
        "exit_status_and_arguments",
        lifecycle::exit_status_and_arguments,
    );
    suite.run(
        "bad_elf_is_a_spawn_error",
        lifecycle::bad_elf_is_a_spawn_error,
    );
    suite.run("preemption_and_sleep", scheduling::preemption_and_sleep);
    suite.run(
        "device_registers_map_only_when_granted",
        devices::device_registers_map_only_when_granted,
    );
    suite.run(
        "two_hundred_processes_leak_no_frames",
        lifecycle::two_hundred_processes_leak_no_frames,
    );
    suite.run(
        "lent_page_outlives_the_lenders_unmap",
        lending::lent_page_outlives_the_lenders_unmap,
    );
    suite.run(
        "revoked_mapping_kills_its_toucher",
        lending::revoked_mapping_kills_its_toucher,
    );
    suite.run(
        "failed_lent_mapping_undoes_everything",
        lending::failed_lent_mapping_undoes_everything,
    );
    suite.run(
        "unmap_flood_reaches_the_server",
        lending::unmap_flood_reaches_the_server,
    );
    suite.run(
        "stale_handle_never_reaches_a_new_server",
        lending::stale_handle_never_reaches_a_new_server,
    );
    suite.run(
        "full_region_table_gives_enomem",
        tables::full_region_table_gives_enomem,
    );
    suite.run(
        "full_children_table_gives_eagain",
        tables::full_children_table_gives_eagain,
    );
    suite.run(
        "threads_share_memory_and_join_returns_status",
        threads::threads_share_memory_and_join_returns_status,
    );
    suite.run(
        "last_thread_or_exit_ends_the_process",
        threads::last_thread_or_exit_ends_the_process,
    );
    suite.run(
        "fault_in_one_thread_ends_all",
        threads::fault_in_one_thread_ends_all,
    );
    suite.run("kill_ends_every_thread", threads::kill_ends_every_thread);
    suite.run(
        "thread_limit_gives_eagain",
        threads::thread_limit_gives_eagain,
    );
    suite.run(
        "bad_thread_arguments_get_einval",
        threads::bad_thread_arguments_get_einval,
    );
    suite.run(
        "thread_blocks_in_a_scheme_call_while_another_runs",
        threads::thread_blocks_in_a_scheme_call_while_another_runs,
    );
    suite.run(
        "exit_while_a_thread_waits_on_its_own_scheme",
        threads::exit_while_a_thread_waits_on_its_own_scheme,
    );
    suite.run(
        "unmapped_buffer_faults_in_the_copy_and_gives_efault",
        threads::unmapped_buffer_faults_in_the_copy_and_gives_efault,
    );
    random::register(&mut suite);
    suite.finish()
}
