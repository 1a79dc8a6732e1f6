#!/usr/bin/env python3
"""Builds the container's seccomp allowlist from `strace -f -qq -o FILE` traces of the real server.

    strace-to-profile.py --out PROFILE [--host-trace FILE]... [--container-trace FILE]...

--host-trace: a trace of anything that may run the server on the host (the e2e suite, the
  workload driver). Only threads of processes whose last execve ran `dist/cli/main.js` count, so
  the test runner, esbuild, strace's own helpers and the stubs do not widen the profile.
--container-trace: a trace of `podman run` of the rootfs. Only the thread of `runc init` that
  installed the seccomp filter counts, from that moment on, plus every thread it or its exec'd
  image (node) creates afterwards: exactly the code the profile will confine.

Why not `strace -c`: it leaves out calls that never return (exit, exit_group), and a profile
built from it leaves Node unable to exit. Names are mapped to their aarch64 equivalents (arm64 has
no open, stat, poll, epoll_wait, pipe, dup2, ...), and the profile lists both, so one file serves
linux/amd64 and linux/arm64: runc and libseccomp skip a name unknown to the running architecture.
The output is deterministic (sorted), so a regeneration shows as a reviewable diff.
"""
import argparse
import json
import re
import sys
from collections import defaultdict

LINE = re.compile(r'^(\d+)\s+(.*)$')
CALL = re.compile(r'^([a-z_][a-z0-9_]*)\(')
RESUMED = re.compile(r'^<\.\.\. ([a-z_][a-z0-9_]*) resumed>')
RETURN = re.compile(r'=\s+(-?\d+)(?:\s|$)')

# Always allowed: a process must be able to exit and return from a signal handler, and strace
# may miss them (exit_group never returns; rt_sigreturn appears only when a handler ran).
# sched_yield: V8 and libuv yield under contention; it shows in some traces of the same workload
# and not in others, and yielding the CPU grants nothing.
ALWAYS = {'exit', 'exit_group', 'rt_sigreturn', 'restart_syscall', 'sched_yield'}

# Durability calls the gateway may make on any write path: fdatasync flushes a file's data (and the
# size that changed), what fsync does minus the timestamps; allowing it grants nothing fsync does not.
# Today's writers call fsync (audit-writer.ts, private-file.ts); a writer switched to fdatasync, or a
# Node/libuv that picks it, must not be killed by the profile in the container only (that happened:
# the audit writer's fdatasync failed there and was changed to fsync). The traces cannot show it
# until something calls it, so it is listed here.
DURABILITY = {'fsync', 'fdatasync'}

# What newer runc init does after installing the filter, which Debian's runc 1.1.5 (where the
# container traces are taken) does not: runc >= 1.1.13 / 1.2 marks inherited descriptors
# close-on-exec with close_range(CLOSE_RANGE_CLOEXEC) and fails the start when it is refused.
# Docker and containerd ship those versions. Closing one's own descriptors grants nothing.
RUNTIME_INIT_NEWER = {'close_range'}

# Calls that never belong in this profile even if a trace showed them (a trace taken as root
# on a host may show the runtime's own setup). The derivation fails loudly instead.
FORBIDDEN = {'ptrace', 'mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'chroot', 'init_module',
             'finit_module', 'delete_module', 'kexec_load', 'bpf', 'perf_event_open', 'keyctl',
             'add_key', 'request_key', 'reboot', 'swapon', 'swapoff', 'setuid', 'setgid', 'setreuid',
             'setregid', 'setresuid', 'setresgid', 'setgroups', 'capset', 'open_by_handle_at',
             'process_vm_writev', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register'}

# x86_64 name -> the calls glibc and libuv use for the same thing on aarch64.
AARCH64_EQUIVALENTS = {
    'open': ['openat'], 'creat': ['openat'], 'stat': ['newfstatat'], 'lstat': ['newfstatat'],
    'access': ['faccessat', 'faccessat2'], 'readlink': ['readlinkat'], 'unlink': ['unlinkat'],
    'rmdir': ['unlinkat'], 'mkdir': ['mkdirat'], 'rename': ['renameat', 'renameat2'],
    'link': ['linkat'], 'symlink': ['symlinkat'], 'chmod': ['fchmodat'], 'chown': ['fchownat'],
    'lchown': ['fchownat'], 'utime': ['utimensat'], 'utimes': ['utimensat'], 'futimesat': ['utimensat'],
    'poll': ['ppoll'], 'select': ['pselect6'], 'epoll_wait': ['epoll_pwait'], 'epoll_create': ['epoll_create1'],
    'pipe': ['pipe2'], 'dup2': ['dup3'], 'eventfd': ['eventfd2'], 'signalfd': ['signalfd4'],
    'inotify_init': ['inotify_init1'], 'getdents': ['getdents64'], 'fork': ['clone'], 'vfork': ['clone'],
    'getpgrp': ['getpgid'], 'alarm': ['setitimer'], 'time': ['clock_gettime'], 'pause': ['ppoll'],
}
X86_ONLY = {'arch_prctl'}


def parse_trace(path, mode):
    """Returns {syscall name: count} for the threads that count in this mode."""
    lines = []
    parent = {}
    with open(path, encoding='utf-8', errors='replace') as handle:
        for raw in handle:
            match = LINE.match(raw)
            if match:
                lines.append((int(match.group(1)), match.group(2)))
    # Pass 1: who created whom. The child's first line can precede the parent's return line.
    for tid, rest in lines:
        name = call_name(rest)
        if name in ('clone', 'clone3', 'fork', 'vfork'):
            ret = RETURN.search(rest)
            if ret and int(ret.group(1)) > 0:
                parent[int(ret.group(1))] = tid
    counted = set()       # threads whose calls count right now
    installing = set()    # threads whose filter-install call is still unfinished
    seen = set()
    counts = defaultdict(int)
    unknown = set()
    for tid, rest in lines:
        if tid not in seen:
            seen.add(tid)
            if parent.get(tid) in counted:
                counted.add(tid)
        name = call_name(rest)
        if name is None:
            continue
        if mode == 'host' and name == 'execve' and not rest.startswith('<...'):
            # A new program image: it counts when it is the server's entry point.
            if 'dist/cli/main.js' in rest.split(']', 1)[0]:
                counted.add(tid)
            else:
                counted.discard(tid)
        if mode == 'container' and tid not in counted and is_filter_install(rest):
            counted.add(tid)
            if 'unfinished' in rest:
                installing.add(tid)
            continue  # the install itself runs before the filter applies
        if tid in installing and rest.startswith('<...'):
            installing.discard(tid)
            continue  # its `resumed` line
        if tid in counted:
            if name.startswith('syscall_'):
                unknown.add(name)
            else:
                counts[name] += 1
    if unknown:
        sys.exit(f'{path}: strace could not name {sorted(unknown)}; update strace')
    return counts


def call_name(rest):
    match = RESUMED.match(rest)
    if match:
        return match.group(1)
    match = CALL.match(rest)
    return match.group(1) if match else None


def is_filter_install(rest):
    installs = rest.startswith('prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {') or (
        rest.startswith('seccomp(SECCOMP_SET_MODE_FILTER,') and '{len=' in rest)
    return installs and ('= 0' in rest or 'unfinished' in rest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--host-trace', action='append', default=[])
    parser.add_argument('--container-trace', action='append', default=[])
    options = parser.parse_args()
    if not options.host_trace and not options.container_trace:
        parser.error('give at least one trace')

    sources = defaultdict(set)
    for path in options.host_trace:
        counts = parse_trace(path, 'host')
        if not counts:
            sys.exit(f'{path}: no call of the server found (did the trace run dist/cli/main.js?)')
        for name in counts:
            sources[name].add('host')
    for path in options.container_trace:
        counts = parse_trace(path, 'container')
        if 'execve' not in counts:
            sys.exit(f'{path}: no runc init filter install followed by execve found')
        for name in counts:
            sources[name].add('container')

    observed = set(sources)
    forbidden = sorted(observed & FORBIDDEN)
    if forbidden:
        sys.exit(f'refusing to allow {forbidden}: the server must not need them; investigate the trace')
    names = set(observed) | ALWAYS | DURABILITY | RUNTIME_INIT_NEWER
    for name in list(names):
        names.update(AARCH64_EQUIVALENTS.get(name, []))
    names -= FORBIDDEN

    profile = {
        'defaultAction': 'SCMP_ACT_ERRNO',
        'defaultErrnoRet': 1,
        'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
        'syscalls': [{
            'names': sorted(names),
            'action': 'SCMP_ACT_ALLOW',
            'comment': 'Derived by scripts/derive-seccomp.sh from strace of the built server '
                       '(e2e suite, workload and load run, host and container) plus runc init '
                       'after it installs the filter; aarch64 equivalents added. Do not edit by hand.',
        }],
    }
    with open(options.out, 'w', encoding='utf-8') as handle:
        json.dump(profile, handle, indent=2)
        handle.write('\n')
    only_container = sorted(name for name, where in sources.items() if where == {'container'})
    print(f'{options.out}: {len(names)} names ({len(observed)} observed, '
          f'{len(names) - len(observed)} added: always-needed, durability, newer runc init, aarch64 equivalents)')
    if only_container:
        print(f'  seen only in the container (runc init and the containerized node): {" ".join(only_container)}')


if __name__ == '__main__':
    main()
