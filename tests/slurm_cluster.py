"""A one-node Slurm for tests: munged, slurmctld and slurmd in the foreground, as
children of the test, with a minimal slurm.conf written into a temporary folder
(proctrack/linuxproc and task/none: no cgroups needed; no accounting database).

``Cluster.start(folder)`` returns a running cluster or raises ``Unavailable`` with the
reason (not root, the packages missing, a daemon that does not come up); ``stop()``
cancels every job and ends every daemon it started. ``env`` is the environment
sbatch, squeue and scancel need (SLURM_CONF)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo")
START_SECONDS = 60


class Unavailable(Exception):
    """Slurm cannot run here; the message says why."""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for each in sockets:
            each.bind(("127.0.0.1", 0))
        return [each.getsockname()[1] for each in sockets]
    finally:
        for each in sockets:
            each.close()


def _find(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(Path(folder) / name) for folder in ("/usr/sbin", "/usr/bin", "/sbin")
         if (Path(folder) / name).is_file()), None)


class Cluster:
    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.node = socket.gethostname().split(".")[0]
        self.conf = folder / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    @classmethod
    def start(cls, folder: Path) -> "Cluster":
        if os.geteuid() != 0:
            raise Unavailable("a one-node Slurm is started as root (slurmd), and this "
                              "test runs as another user")
        paths = {name: _find(name) for name in DAEMONS + CLIENTS}
        lacking = [name for name, path in paths.items() if path is None]
        if lacking:
            raise Unavailable(f"{', '.join(lacking)} not installed (Debian: apt-get install "
                              "slurm-wlm munge; .ci/run installs them)")
        cluster = cls(folder)
        cluster.paths = paths
        try:
            cluster._start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start(self) -> None:
        folder = self.folder
        for name in ("munge", "state", "spool", "log"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        key = folder / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        socket_path = folder / "munge" / "munge.sock"
        ctld_port, d_port = _free_ports(2)
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        self.conf.write_text("\n".join([
            "ClusterName=gradertest",
            f"SlurmctldHost={self.node}",
            "SlurmUser=root", "SlurmdUser=root",
            "AuthType=auth/munge", "CredType=cred/munge",
            f"AuthInfo=socket={socket_path}",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SchedulerType=sched/builtin",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
            "ReturnToService=2", "MpiDefault=none", "KillWait=5", "MinJobAge=2",
            f"SlurmctldPort={ctld_port}", f"SlurmdPort={d_port}",
            f"StateSaveLocation={folder / 'state'}", f"SlurmdSpoolDir={folder / 'spool'}",
            f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
            f"SlurmdPidFile={folder / 'slurmd.pid'}",
            f"SlurmctldLogFile={folder / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={folder / 'log' / 'slurmd.log'}",
            f"NodeName={self.node} CPUs={os.cpu_count() or 1} RealMemory={memory_mb} "
            "State=UNKNOWN",
            f"PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
            ""]))
        self._daemon([self.paths["munged"], "--foreground", "--force",
                      f"--socket={socket_path}", f"--key-file={key}",
                      f"--pid-file={folder / 'munge' / 'munged.pid'}",
                      f"--log-file={folder / 'log' / 'munged.log'}",
                      f"--seed-file={folder / 'munge' / 'seed'}"])
        self._wait(lambda: socket_path.exists(), "munged did not open its socket")
        self._daemon([self.paths["slurmctld"], "-D", "-i", "-f", str(self.conf)])
        self._daemon([self.paths["slurmd"], "-D", "-f", str(self.conf), "-N", self.node])
        self._wait(self._idle, "the node did not come up idle")

    def _daemon(self, command: list[str]) -> None:
        log = open(self.folder / "log" / (Path(command[0]).name + ".out"), "wb")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                               env=self.env, start_new_session=True))
        log.close()

    def _idle(self) -> bool:
        for process in self.processes:
            if process.poll() is not None:
                raise Unavailable(f"{Path(process.args[0]).name} exited with code "
                                  f"{process.returncode}: {self.logs()}")
        state = self.run("sinfo", "-h", "-o", "%t").stdout.strip()
        return state == "idle"

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise Unavailable(f"{what} within {START_SECONDS} s: {self.logs()}")

    def logs(self) -> str:
        tails = []
        for path in sorted((self.folder / "log").glob("*")):
            lines = path.read_text(errors="replace").strip().splitlines()[-5:]
            tails.append(f"{path.name}: " + " | ".join(lines))
        return "; ".join(tails)

    def run(self, *command: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([self.paths.get(command[0]) or command[0], *command[1:]],
                              env=self.env, capture_output=True, text=True, timeout=60,
                              check=check)

    def queue(self) -> list[str]:
        return self.run("squeue", "-h", "-o", "%i %T").stdout.split()

    def stop(self) -> None:
        """Cancel every job, wait for the queue to empty, end every daemon started."""
        if len(self.processes) == len(DAEMONS):
            self.run("scancel", "--user=root")
            deadline = time.monotonic() + 30
            while self.queue() and time.monotonic() < deadline:
                time.sleep(0.2)
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []
