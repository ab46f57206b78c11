"""A private Dovecot IMAP server for tests: own config, TLS certificate, user and maildir, on loopback.

It runs in the foreground (``dovecot -F -c <conf>``) as a child of the test process, on free high ports, so
it neither needs nor disturbs a system Dovecot. As root (CI) the mails belong to ``nobody`` (Dovecot refuses
uid 0); as an ordinary user everything runs as that user.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from servers import free_port
from services.mailsort.imap import encode_folder_name

USER = "kai-test"
PASSWORD = "hemmelig-æøå"  # non-ASCII on purpose: the watcher logs in with SASL PLAIN (UTF-8)


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def openssl_binary() -> str | None:
    return shutil.which("openssl")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(folder: Path) -> Path:
    """A throwaway CA and a server certificate for localhost/127.0.0.1 signed by it; returns the CA file."""
    openssl = openssl_binary() or "openssl"
    days = "2"
    _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", days, "-subj", "/CN=kai test CA",
         "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)  # fmt: skip
    _run(openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", "server.key", "-out", "server.csr", cwd=folder)  # fmt: skip
    (folder / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    _run(openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", days, "-extfile", "server.ext", "-out", "server.pem", cwd=folder)  # fmt: skip
    return folder / "ca.pem"


def _config(root: Path, imaps_port: int, imap_port: int) -> str:
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        mail_user = pwd.getpwnam("nobody")
        service_users = ""  # the Debian package's dovecot/dovenull users
    else:
        mail_user = me
        group = me.pw_gid
        service_users = (
            f"default_internal_user = {me.pw_name}\ndefault_login_user = {me.pw_name}\n"
            f"default_internal_group = {grp.getgrgid(group).gr_name}\n"
        )
    return f"""# written by tests/mailsort/imap_server.py
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{service_users}ssl = required
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
auth_mechanisms = plain login
# Fast test runs: no delay after the deliberate wrong-password login (the per-IP penalty is off below).
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class DovecotServer:
    root: Path
    imaps_port: int  # TLS from the start
    imap_port: int  # plain, with STARTTLS (ssl = required: no login before it)
    ca_file: Path
    process: subprocess.Popen[bytes]
    user: str = USER
    password: str = PASSWORD

    def client(self) -> imaplib.IMAP4_SSL:
        """A logged-in connection for the test itself (delivering, creating folders)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context, timeout=30)
        credentials = f"\0{self.user}\0{self.password}".encode()
        conn.authenticate("PLAIN", lambda _: credentials)
        return conn

    def create_folder(self, name: str) -> None:
        self._folder_command("create", name)

    def delete_folder(self, name: str) -> None:
        self._folder_command("delete", name)

    def _folder_command(self, command: str, name: str) -> None:
        conn = self.client()
        try:
            typ, data = getattr(conn, command)(encode_folder_name(name))
            assert typ == "OK", data
        finally:
            conn.logout()

    def append(self, folder: str, raw: bytes, *, flags: str | None = None) -> int:
        """Deliver one mail by IMAP APPEND; returns its UID."""
        conn = self.client()
        try:
            typ, data = conn.append(encode_folder_name(folder), flags, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()
        found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        assert found, data
        return int(found.group(1))

    def flags(self, folder: str, uid: int) -> str:
        conn = self.client()
        try:
            conn.select(encode_folder_name(folder), readonly=True)
            typ, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            assert typ == "OK", data
        finally:
            conn.logout()
        return b" ".join(d for d in data if isinstance(d, bytes)).decode()

    def log_tail(self, chars: int = 3000) -> str:
        """What dovecot said: its own log, and what it wrote before the log was open."""
        logs = (self.root / "dovecot.out", self.root / "dovecot.log")
        return "\n".join(log.read_text(errors="replace")[-chars:] for log in logs if log.exists())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_until_listening(server: DovecotServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {server.process.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.imaps_port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(
        f"dovecot did not listen on {server.imaps_port} within {timeout:.0f} s:\n{server.log_tail()}"
    )


def start_dovecot() -> DovecotServer:
    """Configure and start a private Dovecot; the caller stops it with ``stop()``."""
    binary = dovecot_binary()
    if binary is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not pytest's tmp_path: its parents are mode 0700, and as root the mails belong to `nobody`.
    root = Path(tempfile.mkdtemp(prefix="kai-dovecot-"))
    root.chmod(0o755)
    ca_file = make_certificates(root)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    home = root / "home"
    home.mkdir()
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
    imaps_port, imap_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, imaps_port, imap_port), encoding="utf-8")
    output = (root / "dovecot.out").open("wb")
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=output, stderr=subprocess.STDOUT)
    output.close()
    server = DovecotServer(root, imaps_port, imap_port, ca_file, process)
    try:
        _wait_until_listening(server)
    except BaseException:
        server.stop()
        raise
    return server
