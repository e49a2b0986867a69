//! Reading the exception syndrome: names for exception classes and user faults.
//!
//! Pure functions of ESR_EL1 (and FAR/ELR), tested on the host.
#![forbid(unsafe_code)]

/// ESR_EL1.EC for `svc` in AArch64 state: a system call.
pub const EXCEPTION_CLASS_SVC64: u64 = 0x15;
/// ESR_EL1.EC for an instruction abort from EL0.
pub const EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER: u64 = 0x20;
/// ESR_EL1.EC for a PC alignment fault (FAR holds the misaligned PC).
pub const EXCEPTION_CLASS_PC_ALIGNMENT: u64 = 0x22;
/// ESR_EL1.EC for a data abort from EL0.
pub const EXCEPTION_CLASS_DATA_ABORT_LOWER: u64 = 0x24;

/// The exception class (ESR_EL1.EC, bits 31:26).
pub const fn exception_class(esr: u64) -> u64 {
    (esr >> 26) & 0x3f
}

/// A readable name for ESR_EL1.EC.
pub fn exception_class_name(class: u64) -> &'static str {
    match class {
        0x00 => "unknown reason (undefined instruction)",
        0x01 => "trapped WFI/WFE",
        0x07 => "FP/SIMD access trapped",
        0x0e => "illegal execution state",
        0x15 => "SVC from AArch64",
        0x18 => "trapped system register access",
        0x20 => "instruction abort from a lower level",
        0x21 => "instruction abort at the same level",
        0x22 => "PC alignment fault",
        0x24 => "data abort from a lower level",
        0x25 => "data abort at the same level",
        0x26 => "SP alignment fault",
        0x2f => "SError",
        0x3c => "BRK instruction",
        _ => "other",
    }
}

/// What a user fault was, for `Fault::cause`: the exception class, and for aborts the kind
/// of fault from the fault status code (ISS bits 5:0).
pub fn user_fault_cause(esr: u64) -> &'static str {
    let class = exception_class(esr);
    let status = esr & 0x3f;
    let kind = match status {
        0x00..=0x03 => Some(0),
        0x04..=0x07 => Some(1),
        0x08..=0x0b => Some(2),
        0x0c..=0x0f => Some(3),
        0x21 => Some(4),
        _ => None,
    };
    match (class, kind) {
        (EXCEPTION_CLASS_DATA_ABORT_LOWER, Some(0)) => "data abort: address size fault",
        (EXCEPTION_CLASS_DATA_ABORT_LOWER, Some(1)) => "data abort: translation fault",
        (EXCEPTION_CLASS_DATA_ABORT_LOWER, Some(2)) => "data abort: access flag fault",
        (EXCEPTION_CLASS_DATA_ABORT_LOWER, Some(3)) => "data abort: permission fault",
        (EXCEPTION_CLASS_DATA_ABORT_LOWER, Some(_)) => "data abort: alignment fault",
        (EXCEPTION_CLASS_DATA_ABORT_LOWER, None) => "data abort",
        (EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER, Some(0)) => {
            "instruction abort: address size fault"
        }
        (EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER, Some(1)) => {
            "instruction abort: translation fault"
        }
        (EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER, Some(2)) => {
            "instruction abort: access flag fault"
        }
        (EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER, Some(3)) => "instruction abort: permission fault",
        (EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER, _) => "instruction abort",
        _ => exception_class_name(class),
    }
}

/// The address a user fault is about: FAR for aborts and PC alignment faults (where the
/// CPU sets it), the faulting instruction (ELR) for everything else, whose FAR is unknown.
pub fn user_fault_address(esr: u64, far: u64, elr: u64) -> u64 {
    match exception_class(esr) {
        EXCEPTION_CLASS_DATA_ABORT_LOWER
        | EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER
        | EXCEPTION_CLASS_PC_ALIGNMENT => far,
        _ => elr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syndrome(class: u64, status: u64) -> u64 {
        (class << 26) | (1 << 25) | status
    }

    #[test]
    fn data_aborts_name_their_fault_kind() {
        assert_eq!(
            user_fault_cause(syndrome(0x24, 0x07)),
            "data abort: translation fault"
        );
        assert_eq!(
            user_fault_cause(syndrome(0x24, 0x0d)),
            "data abort: permission fault"
        );
        assert_eq!(
            user_fault_cause(syndrome(0x24, 0x21)),
            "data abort: alignment fault"
        );
        assert_eq!(user_fault_cause(syndrome(0x24, 0x10)), "data abort");
    }

    #[test]
    fn instruction_aborts_and_other_classes() {
        assert_eq!(
            user_fault_cause(syndrome(0x20, 0x0f)),
            "instruction abort: permission fault"
        );
        assert_eq!(user_fault_cause(syndrome(0x3c, 0)), "BRK instruction");
        assert_eq!(
            user_fault_cause(syndrome(0x00, 0)),
            "unknown reason (undefined instruction)"
        );
    }

    #[test]
    fn fault_address_is_far_only_where_the_cpu_sets_it() {
        assert_eq!(
            user_fault_address(syndrome(0x24, 7), 0x1000, 0x400000),
            0x1000
        );
        assert_eq!(
            user_fault_address(syndrome(0x22, 0), 0x401, 0x400000),
            0x401
        );
        assert_eq!(
            user_fault_address(syndrome(0x00, 0), 0xdead, 0x400008),
            0x400008
        );
    }
}
