"""What Debian's maintainer scripts would have made, written without running them.

Every step is a pure function of the unpacked tree, so the OS layer stays reproducible:
merged-/usr symlinks, /etc/passwd and /etc/group (base-passwd's masters when present), the
CA bundle (the C-sorted concatenation of ``mozilla/*.crt`` that update-ca-certificates
writes), /etc/localtime, /etc/hosts, an empty /etc/resolv.conf (runc creates a missing
mount target inside the rootfs otherwise), Debian's dist-packages directory, /tmp 1777,
and /var/lib/dpkg/status so SBOM scanners see the packages.
"""

from __future__ import annotations

from collections.abc import Sequence

from .deb import MERGED_DIRS
from .tree import Tree

# base-passwd's masters start with these; used when base-passwd is not in the lock.
_USERS = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
_GROUP = "root:x:0:\ndaemon:x:1:\nstaff:x:50:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
_CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"


def apply_fixups(tree: Tree, controls: Sequence[str], python_version: str) -> None:
    _merged_usr_links(tree)
    _accounts(tree)
    _ca_bundle(tree)
    _timezone(tree)
    tree.add_bytes("etc/hosts", _HOSTS.encode())
    tree.add_bytes("etc/resolv.conf", b"")
    for sticky in ("tmp", "var/tmp"):
        tree.set_dir(sticky, 0o1777)
    tree.set_dir("root", 0o700)
    tree.add_dir("run/lock")
    tree.add_dir("src")
    if f"usr/lib/python{python_version}" in tree:
        # Debian's python3.X postinst makes it; a python-build-standalone image has none.
        tree.add_dir(f"usr/local/lib/python{python_version}/dist-packages")
        # PEP 668's marker (bookworm on) would make pip refuse to install: an image has no
        # apt-managed Python to protect, and the reference's images let pip install.
        tree.remove(f"usr/lib/python{python_version}/EXTERNALLY-MANAGED")
    tree.add_dir("usr/local/bin")
    if "usr/bin/python3" not in tree and f"usr/bin/python{python_version}" in tree:
        tree.add_symlink("usr/bin/python3", f"python{python_version}")
    if "usr/bin/python" not in tree and f"usr/bin/python{python_version}" in tree:
        # python-is-python3's one file: `python` on PATH, as in python.org's images.
        tree.add_symlink("usr/bin/python", f"python{python_version}")
    tree.add_bytes("var/lib/dpkg/status", dpkg_status(controls).encode())


def _merged_usr_links(tree: Tree) -> None:
    for name in MERGED_DIRS:
        if f"usr/{name}" in tree and name not in tree:
            tree.add_symlink(name, f"usr/{name}")


def _accounts(tree: Tree) -> None:
    for name, fallback in (("passwd", _USERS), ("group", _GROUP)):
        # base-passwd's postinst copies the masters verbatim.
        master = tree.read_bytes(f"usr/share/base-passwd/{name}.master")
        tree.add_bytes(f"etc/{name}", master if master is not None else fallback.encode())


def _ca_bundle(tree: Tree) -> None:
    certs = [c for c in tree.listdir("usr/share/ca-certificates/mozilla") if c.endswith(".crt")]
    if not certs:
        return
    parts: list[bytes] = []
    # update-ca-certificates reads /etc/ca-certificates.conf, which the postinst fills with
    # every mozilla/*.crt in C (byte) order; it adds a newline where a file lacks one.
    for name in sorted(certs, key=lambda n: n.encode()):
        data = tree.read_bytes(f"usr/share/ca-certificates/mozilla/{name}") or b""
        parts.append(data if data.endswith(b"\n") else data + b"\n")
    tree.add_bytes(_CA_BUNDLE, b"".join(parts))
    conf = "".join(f"mozilla/{n}\n" for n in sorted(certs, key=lambda n: n.encode()))
    tree.add_bytes("etc/ca-certificates.conf", conf.encode())
    # The openssl package owns these; without them Python's ssl has no trust store.
    if "usr/lib/ssl/cert.pem" not in tree:
        tree.add_symlink("usr/lib/ssl/cert.pem", "/" + _CA_BUNDLE)
    if "usr/lib/ssl/certs" not in tree:
        tree.add_symlink("usr/lib/ssl/certs", "/etc/ssl/certs")


def _timezone(tree: Tree) -> None:
    if "usr/share/zoneinfo/Etc/UTC" in tree:
        tree.add_symlink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC")
        tree.add_bytes("etc/timezone", b"Etc/UTC\n")


def dpkg_status(controls: Sequence[str]) -> str:
    """dpkg's status file: each control stanza with ``Status: install ok installed``."""
    stanzas: list[tuple[str, str]] = []
    for control in controls:
        lines = control.strip("\n").split("\n")
        out: list[str] = []
        package = ""
        for line in lines:
            if line.startswith("Status:"):
                continue
            out.append(line)
            if line.startswith("Package:"):
                package = line.split(":", 1)[1].strip()
                out.append("Status: install ok installed")
        stanzas.append((package, "\n".join(out) + "\n"))
    return "\n".join(text for _, text in sorted(stanzas))
