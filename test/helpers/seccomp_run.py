"""Runs a command under a seccomp filter built like systemd's SystemCallFilter= (no systemd PID 1 needed).

usage: seccomp_run.py ERRNO ALLOW_GROUPS DENY_GROUPS -- ARGV...
ALLOW_GROUPS and DENY_GROUPS are space-separated systemd syscall groups or names ("@system-service",
"@privileged @resources"), expanded with `systemd-analyze syscall-filter`; every other syscall fails with
ERRNO, as SystemCallErrorNumber= makes it. libseccomp (a dependency of systemd) is loaded through ctypes.
"""
import ctypes
import os
import subprocess
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000


def expand(names, seen):
    calls = set()
    for name in names.split():
        if not name.startswith("@"):
            calls.add(name)
            continue
        if name in seen:
            continue
        seen.add(name)
        out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name], capture_output=True, text=True, check=True).stdout
        words = [w.strip() for w in out.splitlines()[1:]]
        calls |= expand(" ".join(w for w in words if w and not w.startswith("#")), seen)
    return calls


def main():
    errno, allow, deny, sep, *argv = sys.argv[1:]
    if sep != "--" or not argv:
        sys.exit(__doc__)
    allowed = expand(allow, set()) - expand(deny, set())
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ERRNO | int(errno))
    for name in sorted(allowed):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr >= 0:  # names unknown on this architecture are skipped, as systemd does
            lib.seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)
    if lib.seccomp_load(ctx) != 0:
        sys.exit("seccomp_load failed")
    os.execvp(argv[0], argv)


main()
