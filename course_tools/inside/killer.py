"""Kill every process of one uid (run by the grader as root; ``kill(-1)`` is atomic, so a fork
bomb cannot race). argv: UID"""

import os
import sys


def main(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    try:
        os.kill(-1, 9)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]))
