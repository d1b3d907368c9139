"""First process of every sandboxed run: drops privileges (when started as root), sets the
resource limits, then execs the command. argv: CONFIG_JSON CMD...

Standard library only: it runs before anything else, with ``python -I``.
"""

import ctypes
import json
import os
import resource
import sys

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38


def drop_privileges(uid):
    """No capability can come back, setuid programs stay powerless, and (as root) become uid."""
    libc = ctypes.CDLL(None, use_errno=True)
    if os.getuid() == 0:
        for cap in range(64):
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        sys.exit("launcher: could not set no_new_privs")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getuid() == 0 or os.geteuid() == 0:
            sys.exit("launcher: could not drop root privileges")


def processes_of_this_uid():
    """Threads of this uid already running (RLIMIT_NPROC counts them too)."""
    me, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat("/proc/" + pid).st_uid == me:
                    count += len(os.listdir("/proc/" + pid + "/task"))
            except OSError:
                pass
    return count


def set_limit(name, value):
    which = getattr(resource, name)
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    new_hard = value + (5 if name == "RLIMIT_CPU" else 0)
    if hard != resource.RLIM_INFINITY:
        new_hard = min(new_hard, hard)
    resource.setrlimit(which, (value, new_hard))


def main(cfg, cmd):
    drop_privileges(cfg.get("uid"))
    nproc = cfg["nproc"] + (processes_of_this_uid() if cfg.get("nproc_relative") else 0)
    limits = {"RLIMIT_AS": cfg["memory"], "RLIMIT_CPU": cfg["cpu"], "RLIMIT_FSIZE": cfg["fsize"],
              "RLIMIT_NPROC": nproc, "RLIMIT_CORE": 0}
    for name, value in limits.items():
        set_limit(name, value)
    os.umask(0o077)
    os.makedirs(cfg["tmpdir"], exist_ok=True)
    os.chdir(cfg["cwd"])
    os.execve(cmd[0], cmd, cfg["env"])


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), sys.argv[2:])
