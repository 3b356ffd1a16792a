"""One store object's bytes at one destination path, atomically.

A hard link where the file system allows it (no copy, no disk), otherwise a
copy. A new target is linked in one step; an existing one is replaced only
once the new file is complete (temp name, then rename), so a reader sees the
old file or the new one.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Literal

from modelpm.fs.atomic import temp_sibling
from modelpm.fs.errors import storage_errors

LinkKind = Literal["hardlink", "copy"]
# EXDEV: another file system; EPERM/EMLINK/ENOTSUP/EACCES: this one refuses links.
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES)


def place_file(source: Path, target: Path) -> LinkKind:
    """Put ``source``'s bytes at ``target``; the target's folder is created."""
    with storage_errors(target, "place"):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
            return "hardlink"
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
        tmp = temp_sibling(target)
        kind: LinkKind = "hardlink"
        try:
            try:
                os.link(source, tmp)
            except OSError as exc:
                if exc.errno not in _NO_LINK:
                    raise
                shutil.copyfile(source, tmp)
                os.chmod(tmp, 0o644)
                kind = "copy"
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return kind
