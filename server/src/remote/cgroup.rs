//! The cgroup a proc with a memory limit or a CPU weight runs in (issue 16): the root-owned run
//! script's lines that make and join it, for any runner. Read back by the poller
//! (`supervisor::Supervisor::oom_kills`) and removed with the proc (`Supervisor::destroy`).

use super::shell::quote;

/// What a proc's cgroup holds it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Memory, MiB: the kernel kills the proc past it.
    pub mem_mb: Option<u64>,
    /// CPU weight (cgroup v2's scale; v1 gets the same share as `cpu.shares`).
    pub cpu_weight: Option<u32>,
}

/// The run script's lines (run as root) that put the proc in a cgroup of its own under `vr/`
/// before anything of it starts, so everything it starts is held too: cgroup v2's
/// `memory.max` and `cpu.weight`, or v1's memory and cpu controllers where that is what the
/// host has. A memory limit falls back to `ulimit -v` where neither can be used; a CPU weight
/// is best effort (a host without a cpu controller runs the proc at the default weight).
pub fn cgroup_lines(program: &str, limits: Limits) -> String {
    let p = quote(program);
    let mut v2_set = String::new();
    let mut v1 = String::new();
    let mut wants = String::new();
    if let Some(mb) = limits.mem_mb {
        let bytes = mb.saturating_mul(1024 * 1024);
        wants.push_str(" memory");
        v2_set.push_str(&format!(
            "echo {bytes} > $g/memory.max && {{ echo 0 > $g/memory.swap.max 2>/dev/null || true; }} && "
        ));
        v1.push_str(&format!(
            "c=/sys/fs/cgroup/memory; [ -f $c/memory.limit_in_bytes ] && g=$c/vr/{p} && mkdir -p $g && \
             echo {bytes} > $g/memory.limit_in_bytes && {{ echo {bytes} > $g/memory.memsw.limit_in_bytes 2>/dev/null || true; }} && \
             echo $$ > $g/cgroup.procs || return 1; "
        ));
    }
    let mut cpu_v2 = String::new();
    if let Some(w) = limits.cpu_weight {
        let shares = vr_app::release::cpu_shares(w);
        cpu_v2 = format!(
            "if grep -qw cpu $c/cgroup.controllers; then {{ grep -qw cpu $c/cgroup.subtree_control || echo +cpu > $c/cgroup.subtree_control; }} && \
             {{ grep -qw cpu $c/vr/cgroup.subtree_control || echo +cpu > $c/vr/cgroup.subtree_control; }} && echo {w} > $c/vr/{p}/cpu.weight; fi; "
        );
        v1.push_str(&format!(
            "c=/sys/fs/cgroup/cpu; if [ -f $c/cpu.shares ] && g=$c/vr/{p} && mkdir -p $g && echo {shares} > $g/cpu.shares; then echo $$ > $g/cgroup.procs; fi; "
        ));
    }
    let fallback = match limits.mem_mb {
        Some(mb) => format!("ulimit -v {}", mb.saturating_mul(1024)),
        None => "true".to_string(),
    };
    format!(
        "limit_v2() {{ c=/sys/fs/cgroup; [ -f $c/cgroup.controllers ] || return 1; \
         for k in{wants}; do grep -qw $k $c/cgroup.controllers || return 1; grep -qw $k $c/cgroup.subtree_control || echo +$k > $c/cgroup.subtree_control || return 1; done; \
         mkdir -p $c/vr || return 1; \
         for k in{wants}; do grep -qw $k $c/vr/cgroup.subtree_control || echo +$k > $c/vr/cgroup.subtree_control || return 1; done; \
         g=$c/vr/{p}; mkdir -p $g && {v2_set}{{ {cpu_v2}true; }} && echo $$ > $g/cgroup.procs; }}
limit_v1() {{ {v1}true; }}
limit_v2 2>/dev/null || limit_v1 2>/dev/null || {fallback}
"
    )
}
