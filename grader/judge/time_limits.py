"""How a question's time limit is counted (judge side).

A question's limit was set from the wall-clock time its sandbox takes alone on an
idle machine. Beside other work (another grading, ``-j 2``, a browser) the same
code gets less of the processor and takes longer on the clock, through no fault of
the student's. So the limit counts the CPU time the sandbox's processes actually
got (the whole group: DataLoader workers too), per core it may use: a sandbox of
two torch threads that keeps both busy for a second has had one second of its
limit. Alone on an idle machine that is at most the wall-clock time (it never
counts more than the clock, even when DataLoader workers use more cores than the
sandbox's threads), so no submission is held to a stricter limit than the clock
would give; beside busy processes it grows only as fast as the sandbox is served.

Code that waits (``input()``, ``time.sleep``, a lock) uses no CPU: a wall-clock cap
of ``LIMITS.wall_cap_factor`` times the limit stops it. Where the CPU time cannot
be read (no /proc: macOS, Windows) the limit counts wall-clock time, as
``platform_support.limitations()`` says.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from grader.core.table import LIMITS
from grader.judge import platform_support

BUSY_SHARE = 0.9     # below this share of its cores, the message says how busy it was


@dataclass
class TimeUse:
    """What a sandbox used by the time it ended or was stopped."""
    limit: float                  # the question's limit, in seconds (scaled)
    wall: float = 0.0             # seconds on the clock
    cpu: float | None = None      # CPU seconds of the whole group (None: not measured)
    cores: int = 1                # the cores its CPU time is shared out over
    load: float | None = None     # the machine's load average when it ended
    machine_cores: int = 1
    hit: str | None = None        # 'cpu' or 'wall' when a limit stopped it

    @property
    def counted(self) -> float:
        """The seconds counted against the limit: CPU time per core, never more
        than the clock; the clock itself where CPU time is not measured."""
        if self.cpu is None:
            return self.wall
        return min(self.wall, self.cpu / self.cores)

    @property
    def wall_cap(self) -> float:
        """The wall-clock seconds after which the sandbox is stopped anyway."""
        return self.limit if self.cpu is None else self.limit * LIMITS.wall_cap_factor

    @property
    def share(self) -> float | None:
        """The share of its cores that the sandbox got (None: not measured)."""
        if self.cpu is None or self.wall <= 0:
            return None
        return min(1.0, self.cpu / (self.cores * self.wall))

    def observe(self, wall: float, cpu: float | None) -> str | None:
        """Record the time used so far; 'cpu' or 'wall' when a limit is reached.
        CPU time never goes back (a process that ended between two looks at the
        process table must not return seconds already counted)."""
        self.wall = wall
        if cpu is not None and self.cpu is not None:
            self.cpu = max(cpu, self.cpu)
        if self.cpu is not None and self.counted >= self.limit:
            return "cpu"
        if wall >= self.wall_cap:
            return "cpu" if self.cpu is None else "wall"
        return None

    def stopped_message(self) -> str:
        """Why the sandbox was stopped, with the figures: the limit that was hit and
        how much of the machine the code got."""
        advice = "(is there a loop that never ends, or is training very slow?)"
        if self.hit == "wall":
            return (f"was stopped after {self.wall:.0f} s of wall-clock time "
                    f"({LIMITS.wall_cap_factor:g}x its time limit of {self.limit:g} s) while "
                    f"using only {self.cpu or 0.0:.0f} s of CPU time (is it waiting or "
                    "sleeping: input(), time.sleep(), a lock, a process that never answers?)")
        if self.cpu is None:
            return (f"did not finish within the time limit of {self.limit:g} s (wall-clock "
                    f"time) and was stopped {advice}")
        return (f"did not finish within the time limit of {self.limit:g} s of CPU time and "
                f"was stopped {advice}; {self.machine_words()}")

    def machine_words(self) -> str:
        """E.g. 'it ran 1012 s on the clock and got 59% of the 1 core it may use (the
        machine's load average was 2.9 on 2 cores)'."""
        share = self.share or 0.0
        plural = "s" if self.cores > 1 else ""
        text = (f"it ran {self.wall:.0f} s on the clock and got {share:.0%} of the "
                f"{self.cores} core{plural} it may use")
        if share < BUSY_SHARE and self.load is not None:
            text += (f" (the machine's load average was {self.load:.1f} on "
                     f"{self.machine_cores} cores)")
        return text


def budget(limit: float, threads: int) -> TimeUse:
    """The time use of a sandbox about to start with ``threads`` torch threads
    (CPU time is counted where the process table can be read)."""
    cores = platform_support.usable_cores()
    return TimeUse(limit=limit, cores=max(1, min(threads, cores)),
                   cpu=0.0 if platform_support.measures_cpu() else None,
                   machine_cores=os.cpu_count() or cores)
