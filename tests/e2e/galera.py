"""
galera.py - a 3-node MariaDB Galera cluster on loopback for the end-to-end
tests (tests/e2e/test_galera.py): Debian's mariadb-server + galera-4, state
transfer by rsync (Debian's rsync package).

Each node has its own data folder, socket and four TCP ports that the kernel
says are free on 127.0.0.1: the client port, Galera's group communication
(gmcast), incremental state transfer (IST) and full state transfer (SST).
The nodes run as the `mysql` user (`--user=mysql`): as root the rsync state
transfer fails, because its receiving daemon drops to an unprivileged user
that cannot write the joiner's data folder.  So the data folders are owned by
mysql, under a folder of their own in /tmp that mysql can traverse (pytest's
tmp folders are 0700 root).

The first node starts with --wsrep-new-cluster; the others join one at a time
(rsync SST from a donor).  stop() shuts the nodes down last first and removes
the folder (VRMS2FA_KEEP_GALERA=1 keeps it, with the nodes' logs); every node
is registered with harness's process tracking, so it is stopped (and the
folder removed) at exit whatever happens.

Standard library only.
"""
import atexit
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import harness as H

GALERA_PROVIDER = "/usr/lib/galera/libgalera_smm.so"
MYSQL_USER = "mysql"


def unavailable():
    """None when a Galera cluster can be started here, else why not (a clear sentence)."""
    missing = [p for p in ("mariadbd", "mariadb-install-db", "mariadb", "mariadb-admin", "rsync",
                           "wsrep_sst_rsync") if not shutil.which(p)]
    if missing:
        return "Galera cluster not testable here: missing %s (Debian packages mariadb-server, " \
               "galera-4, rsync: scripts/install-deps.sh)" % ", ".join(missing)
    if not os.path.exists(GALERA_PROVIDER):
        return "Galera cluster not testable here: no %s (Debian package galera-4)" % GALERA_PROVIDER
    try:
        pwd.getpwnam(MYSQL_USER)
    except KeyError:
        return "Galera cluster not testable here: no '%s' user (created by mariadb-server)" % MYSQL_USER
    if os.geteuid() != 0:
        return "Galera cluster not testable here: the nodes run as '%s', which needs root to start them" % MYSQL_USER
    return None


class GaleraNode(H.RootSql):
    """One node.  It has the attributes harness.write_module_config reads
    (port, user, password, db) and the SQL helpers of harness.MariaDB."""

    def __init__(self, cluster, index, base):
        self.cluster = cluster
        self.index = index			# 1, 2, 3
        self.name = "node%d" % index
        self.label = self.name
        self.base = Path(base)
        self.datadir = self.base / "data"
        self.socket = str(self.base / "mysqld.sock")
        self.pidfile = str(self.base / "mysqld.pid")
        self.logfile = str(self.base / "mysqld.log")
        self.port = H.free_port("tcp")		# clients
        self.gmcast_port = H.free_port("tcp")	# group communication
        self.ist_port = H.free_port("tcp")	# incremental state transfer
        self.sst_port = H.free_port("tcp")	# full state transfer (rsync daemon of a joiner)
        self.db = cluster.db
        self.user = cluster.user
        self.password = cluster.password
        self.proc = None
        self._out = None

    # --- processes ---

    def command(self, new_cluster=False):
        c = self.cluster
        provider_options = ";".join([
            "gmcast.listen_addr=tcp://127.0.0.1:%d" % self.gmcast_port,
            "ist.recv_addr=127.0.0.1:%d" % self.ist_port,
            "gcache.size=64M",
        ] + list(c.provider_options))
        cmd = [
            "mariadbd", "--no-defaults", "--user=%s" % MYSQL_USER,
            "--datadir=%s" % self.datadir, "--socket=%s" % self.socket, "--port=%d" % self.port,
            "--bind-address=127.0.0.1", "--pid-file=%s" % self.pidfile, "--log-error=%s" % self.logfile,
            "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=2", "--skip-name-resolve", "--max-connections=300",
            "--skip-log-bin", "--binlog-format=ROW", "--default-storage-engine=InnoDB",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-on=ON", "--wsrep-provider=%s" % GALERA_PROVIDER,
            "--wsrep-cluster-name=%s" % c.cluster_name,
            "--wsrep-cluster-address=gcomm://%s" % ",".join("127.0.0.1:%d" % n.gmcast_port for n in c.nodes),
            "--wsrep-node-name=%s" % self.name, "--wsrep-node-address=127.0.0.1",
            "--wsrep-node-incoming-address=127.0.0.1:%d" % self.port,
            "--wsrep-provider-options=%s" % provider_options,
            "--wsrep-sst-method=rsync", "--wsrep-sst-receive-address=127.0.0.1:%d" % self.sst_port,
            "--wsrep-slave-threads=2",
        ]
        if new_cluster:
            cmd.append("--wsrep-new-cluster")
        return cmd

    def install(self):
        """The system tables (first node only: the others get everything by SST)."""
        H.mariadb_install_db(self.datadir, MYSQL_USER, self.name)

    def start(self, new_cluster=False, timeout=90):
        """Start and wait until the node answers and is Synced."""
        if self.running:
            return self
        self.started_at = time.monotonic()
        self._out = open(self.base / "stdout.log", "ab")
        self.proc = subprocess.Popen(self.command(new_cluster), stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        H._track(self.proc, self._stop_at_exit)
        self.wait_synced(timeout)
        return self

    def wait_synced(self, timeout=90):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is None or self.proc.poll() is not None:
                rc = self.proc.returncode if self.proc is not None else None
                raise RuntimeError("%s: mariadbd exited with %s:\n%s" % (self.name, rc, H.tail(self.logfile, 60)))
            if self.status("wsrep_local_state_comment") == "Synced" and self.status("wsrep_ready") == "ON":
                return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError("%s: not Synced within %d s (state %r):\n%s"
                                   % (self.name, timeout, self.status("wsrep_local_state_comment"),
                                      H.tail(self.logfile, 60)))
            time.sleep(0.2)

    def _stop_at_exit(self):
        """harness's exit handler (or conftest's on SIGTERM): stop, and remove
        the cluster's folder once no node of it runs."""
        self.stop()
        if not any(n.running for n in self.cluster.nodes):
            self.cluster.remove()

    def kill(self):
        """kill -9 of mariadbd: the node is lost, nothing is flushed or said goodbye."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        H._untrack(self.proc)
        self.proc = None
        self._close_out()

    def stop(self):
        if self.proc is None:
            return
        H.mariadb_shutdown(self.socket, self.proc, 60)
        self.proc = None
        self._close_out()

    def _close_out(self):
        if self._out is not None:
            try:
                self._out.close()
            except Exception:
                pass
            self._out = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --- SQL as root over the socket: H.RootSql ---

    def status(self, name):
        """A global status variable, or None when the node does not answer."""
        try:
            out = self.sql("SHOW GLOBAL STATUS LIKE '%s'" % name, check=False, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        for line in out.splitlines():
            k, _, v = line.partition("\t")
            if k.lower() == name.lower():
                return v
        return None

    def log_text(self):
        try:
            return Path(self.logfile).read_text(errors="replace")
        except OSError:
            return ""


class GaleraCluster:
    """Three nodes on loopback.  start() bootstraps them and creates the
    module's database and account (replicated to every node)."""

    def __init__(self, size=3, provider_options=()):
        self.base = Path(tempfile.mkdtemp(prefix="vrms2fa-galera-", dir="/tmp"))
        os.chmod(self.base, 0o755)	# mysql must traverse it
        self.cluster_name = "vrms2fa-%s" % secrets.token_hex(4)
        self.db = "vrms2fa"
        self.user = "vrms2fa"
        self.password = secrets.token_hex(16)
        self.provider_options = list(provider_options)
        self.nodes = []
        pw = pwd.getpwnam(MYSQL_USER)
        for i in range(1, size + 1):
            d = self.base / ("node%d" % i)
            (d / "data").mkdir(parents=True)
            for p in (d, d / "data"):
                os.chown(p, pw.pw_uid, pw.pw_gid)
                os.chmod(p, 0o750 if p.name == "data" else 0o755)
            self.nodes.append(GaleraNode(self, i, d))
        self.timings = {}
        atexit.register(self._at_exit)

    def _at_exit(self):
        try:
            self.stop()
        except Exception:
            pass

    def remove(self):
        if not os.environ.get("VRMS2FA_KEEP_GALERA"):
            shutil.rmtree(self.base, ignore_errors=True)

    def __getitem__(self, i):
        return self.nodes[i]

    def start(self):
        t0 = time.monotonic()
        first = self.nodes[0]
        first.install()
        self.timings["install"] = time.monotonic() - t0
        first.start(new_cluster=True)
        self.timings["node1"] = time.monotonic() - t0
        for n in self.nodes[1:]:
            t = time.monotonic()
            n.start()
            self.timings[n.name] = time.monotonic() - t
        self.wait_size(len(self.nodes))
        pw = self.password
        first.sql(
            "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
            "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s';"
            "CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
            "GRANT ALL ON %s.* TO '%s'@'localhost';"
            "GRANT ALL ON %s.* TO '%s'@'127.0.0.1';"
            % (self.db, self.user, pw, self.user, pw, self.db, self.user, self.db, self.user))
        self.timings["total"] = time.monotonic() - t0
        return self

    def wait_size(self, size, timeout=60, nodes=None):
        """Wait until every running node (or `nodes`) says wsrep_cluster_size = size and Synced."""
        deadline = time.monotonic() + timeout
        while True:
            live = nodes or [n for n in self.nodes if n.running]
            states = [(n.status("wsrep_cluster_size"), n.status("wsrep_local_state_comment")) for n in live]
            if all(s == (str(size), "Synced") for s in states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("cluster not at size %d and Synced within %d s: %s"
                                   % (size, timeout, dict(zip((n.name for n in live), states))))
            time.sleep(0.2)

    def status_sum(self, name):
        total = 0
        for n in self.nodes:
            if n.running:
                v = n.status(name)
                total += int(v) if v and v.lstrip("-").isdigit() else 0
        return total

    def stop(self, keep=False):
        """Last node first; then remove the folder (kept when VRMS2FA_KEEP_GALERA is set)."""
        errors = []
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception as e:
                errors.append("%s: %s" % (n.name, e))
                try:
                    n.kill()
                except Exception:
                    pass
        if not keep:
            self.remove()
        if errors:
            raise RuntimeError("stopping the Galera cluster: %s" % "; ".join(errors))
