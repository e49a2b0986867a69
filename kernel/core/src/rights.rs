//! A process's rights: what the kernel lets it serve, use and hand on, attached at spawn.
//!
//! Rights are capabilities, not names. The kernel gives a process its [`Rights`] when it is
//! spawned and never looks them up again by program name: init receives the manifest's rights
//! (it may hand any manifest section's rights to a child and may declare pools); every other
//! process is spawned with the rights of the manifest section its parent names, or none.
//! [`Rights::may_grant`] is the spawn rule: a parent may name a section only when it may give
//! any section (init), lists it in its `spawns`, or already holds every right the section
//! would confer.
//!
//! A scheme server asks the kernel for the rights of the caller of a request it is serving;
//! the answer is [`Rights::to_text`] and servers read it with [`Rights::parse`], so the wire
//! format is defined once, here.

use alloc::string::String;
use alloc::vec::Vec;

/// What one process may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rights {
    /// The manifest section these rights came from: the identity servers see (a quota is a
    /// server's policy for a section). `None` for a process spawned with no rights.
    pub section: Option<String>,
    /// Schemes it may register and serve; `memory` lets it use the kernel's `memory:`.
    pub schemes: Vec<String>,
    /// Devices whose registers it may map (`device:`) and whose DMA pools it may use.
    pub devices: Vec<String>,
    /// How many DMA pool pages it may hold at once (`None`: no limit). dmad enforces it; the
    /// kernel only sees that a child's limit is no looser than its parent's.
    pub quota_pages: Option<u64>,
    /// Whether it may declare and retire DMA pools (`dma:/declare`, `release-pool`).
    pub declare_pools: bool,
    /// Sections whose rights it may hand to its children beyond subsets of its own.
    pub spawns: Vec<String>,
    /// Whether it may hand any section's rights to a child (init alone).
    pub grant_any: bool,
    /// Sections whose processes it may kill (`kills`; see [`Rights::may_kill`]).
    pub kills: Vec<String>,
    /// Whether it may open the kernel's `console:` and read what is typed on the serial
    /// console (`console = true`: the shell's right; one reader at a time).
    pub console: bool,
    /// Whether it may turn the machine off (`power = true`, `SYS_POWER_OFF`: the shell's
    /// `poweroff`).
    pub power: bool,
}

impl Rights {
    /// No rights at all: what a child gets unless its parent names a section.
    pub fn none() -> Self {
        Rights::default()
    }

    /// Whether these rights allow serving (or, for `memory`, using) `scheme`.
    pub fn may_serve(&self, scheme: &str) -> bool {
        self.schemes.iter().any(|granted| granted == scheme)
    }

    /// Whether these rights allow using device `device`.
    pub fn may_use_device(&self, device: &str) -> bool {
        self.devices.iter().any(|granted| granted == device)
    }

    /// Whether a process holding `self` may kill a process holding `target`: only when
    /// `kills` names the target's section. (A parent may always kill its own children; the
    /// kernel checks that, as it is about the process tree, not rights.)
    pub fn may_kill(&self, target: &Rights) -> bool {
        target
            .section
            .as_ref()
            .is_some_and(|section| self.kills.contains(section))
    }

    /// Whether every right in `other` is also in `self` (the section name aside): a quota
    /// counts as covered when it is no looser.
    pub fn covers(&self, other: &Rights) -> bool {
        let quota_covered = match (self.quota_pages, other.quota_pages) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(mine), Some(theirs)) => theirs <= mine,
        };
        quota_covered
            && other.schemes.iter().all(|scheme| self.may_serve(scheme))
            && other
                .devices
                .iter()
                .all(|device| self.may_use_device(device))
            && (!other.declare_pools || self.declare_pools)
            && (!other.grant_any || self.grant_any)
            && (self.grant_any || other.spawns.iter().all(|name| self.spawns.contains(name)))
            && other.kills.iter().all(|name| self.kills.contains(name))
            && (!other.console || self.console)
            && (!other.power || self.power)
    }

    /// Whether a process holding `self` may spawn a child with `section`'s rights, `child`.
    pub fn may_grant(&self, section: &str, child: &Rights) -> bool {
        self.grant_any || self.spawns.iter().any(|name| name == section) || self.covers(child)
    }

    /// The text a server reads: one `key value...` line per right.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = self.write_text(&mut text);
        text
    }

    /// Writes [`Rights::to_text`]'s text to `text` (the kernel writes it into a buffer the
    /// heap may refuse).
    pub fn write_text(&self, text: &mut dyn core::fmt::Write) -> core::fmt::Result {
        let yes_no = |flag: bool| if flag { "yes" } else { "no" };
        writeln!(text, "section {}", self.section.as_deref().unwrap_or("-"))?;
        writeln!(text, "schemes{}", Words(&self.schemes))?;
        writeln!(text, "devices{}", Words(&self.devices))?;
        match self.quota_pages {
            Some(pages) => writeln!(text, "quota-pages {pages}")?,
            None => writeln!(text, "quota-pages none")?,
        }
        writeln!(text, "declare-pools {}", yes_no(self.declare_pools))?;
        writeln!(text, "spawns{}", Words(&self.spawns))?;
        writeln!(text, "grant-any {}", yes_no(self.grant_any))?;
        writeln!(text, "kills{}", Words(&self.kills))?;
        writeln!(text, "console {}", yes_no(self.console))?;
        writeln!(text, "power {}", yes_no(self.power))
    }

    /// Reads [`Rights::to_text`]'s text; `None` when a line is malformed.
    pub fn parse(text: &str) -> Option<Rights> {
        let mut rights = Rights::none();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let mut words = line.split_whitespace();
            let key = words.next()?;
            let names = || words.clone().map(String::from).collect::<Vec<_>>();
            let flag = || match words.clone().next() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            };
            match key {
                "section" => {
                    rights.section = words
                        .clone()
                        .next()
                        .filter(|name| *name != "-")
                        .map(String::from);
                }
                "schemes" => rights.schemes = names(),
                "devices" => rights.devices = names(),
                "spawns" => rights.spawns = names(),
                "kills" => rights.kills = names(),
                "quota-pages" => {
                    rights.quota_pages = match words.clone().next()? {
                        "none" => None,
                        number => Some(number.parse().ok()?),
                    }
                }
                "declare-pools" => rights.declare_pools = flag()?,
                "grant-any" => rights.grant_any = flag()?,
                "console" => rights.console = flag()?,
                "power" => rights.power = flag()?,
                _ => return None,
            }
        }
        Some(rights)
    }
}

/// Names as ` a b c` (each after a space).
struct Words<'a>(&'a [String]);

impl core::fmt::Display for Words<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0
            .iter()
            .try_for_each(|word| write!(formatter, " {word}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn rights(schemes: &[&str], devices: &[&str]) -> Rights {
        Rights {
            section: Some("s".to_string()),
            schemes: schemes.iter().map(|name| name.to_string()).collect(),
            devices: devices.iter().map(|name| name.to_string()).collect(),
            ..Rights::none()
        }
    }

    #[test]
    fn a_parent_grants_only_subsets_of_its_own_rights() {
        let parent = rights(&["disk"], &["blk0"]);
        assert!(parent.may_grant("a", &rights(&[], &["blk0"])));
        assert!(parent.may_grant("a", &Rights::none()));
        assert!(!parent.may_grant("a", &rights(&["dma"], &[])));
        assert!(!parent.may_grant("a", &rights(&[], &["net0"])));
        let declarer = Rights {
            declare_pools: true,
            ..Rights::none()
        };
        assert!(!parent.may_grant("a", &declarer));
        assert!(!Rights::none().may_grant("a", &rights(&[], &["blk0"])));
    }

    #[test]
    fn a_child_quota_is_no_looser_than_its_parents() {
        let limited = |quota| Rights {
            quota_pages: quota,
            ..rights(&[], &["blk0"])
        };
        assert!(limited(Some(10)).may_grant("a", &limited(Some(10))));
        assert!(limited(Some(10)).may_grant("a", &limited(Some(4))));
        assert!(!limited(Some(10)).may_grant("a", &limited(Some(11))));
        assert!(!limited(Some(10)).may_grant("a", &limited(None)));
        assert!(limited(None).may_grant("a", &limited(Some(10))));
    }

    #[test]
    fn init_grants_anything_and_spawns_lists_sections() {
        let init = Rights {
            grant_any: true,
            ..Rights::none()
        };
        let everything = Rights {
            grant_any: true,
            declare_pools: true,
            ..rights(&["dma", "memory"], &["blk0"])
        };
        assert!(init.may_grant("dmad", &everything));
        let launcher = Rights {
            spawns: ["driver".to_string()].into(),
            ..Rights::none()
        };
        assert!(launcher.may_grant("driver", &rights(&["disk"], &["blk0"])));
        assert!(!launcher.may_grant("dmad", &rights(&["dma"], &[])));
        // Holding `spawns` is itself a right a child gets only from a parent that has it.
        assert!(!Rights::none().may_grant("x", &launcher));
        assert!(launcher.may_grant("x", &launcher));
    }

    #[test]
    fn killing_needs_the_targets_section_in_kills() {
        let dmad = rights(&["dma"], &[]);
        let supervisor = Rights {
            kills: ["s".to_string()].into(),
            ..Rights::none()
        };
        assert!(supervisor.may_kill(&dmad));
        assert!(!Rights::none().may_kill(&dmad));
        assert!(!supervisor.may_kill(&Rights::none()));
        // A kill right is passed on only by a parent holding it.
        assert!(!Rights::none().may_grant("x", &supervisor));
        assert!(supervisor.may_grant("x", &supervisor));
    }

    #[test]
    fn text_round_trips() {
        let all = Rights {
            quota_pages: Some(64),
            declare_pools: true,
            spawns: ["a".to_string(), "b".to_string()].into(),
            grant_any: true,
            kills: ["dmad".to_string()].into(),
            console: true,
            power: true,
            ..rights(&["dma", "memory"], &["blk0"])
        };
        for value in [all, Rights::none(), rights(&[], &["x"])] {
            assert_eq!(Rights::parse(&value.to_text()), Some(value));
        }
        assert_eq!(Rights::parse("bogus line\n"), None);
        assert_eq!(Rights::parse("declare-pools maybe\n"), None);
        assert_eq!(Rights::parse("quota-pages lots\n"), None);
    }
}
