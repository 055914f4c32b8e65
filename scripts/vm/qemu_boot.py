"""One QEMU run of a vm-test guest: the console logged and watched for the
guest's requests to the host (QEMU monitor commands, booting its own kernel
next), kernel oopses and panics, and a time limit per boot."""
import re, socket, subprocess, threading, time

BOOT_TIMEOUT = 180   # seconds one guest boot may take under TCG, BPF load included
# The guest asks the host to boot its own /boot/vmlinuz-V and initrd.img-V
# next (as its boot loader would): "@@RW-BOOT-OWN V@@", then it reboots.
OWN_BOOT = re.compile(r"@@RW-BOOT-OWN (\S+)@@")
# A kernel that oopses is a finding, never noise: the run fails with the line.
OOPS = re.compile(r"\bOops\b|\bBUG: |general protection fault|Fatal exception|\bint3: 0000")


def kernel_oops(console):
    match = OOPS.search(console)
    return console[match.start():].splitlines()[0][:160] if match else None


class Boot:
    """One QEMU run (`argv`, its monitor on `monitor_path`); `own`: the guest's
    own kernel and initramfs are booting, not the suite's."""

    def __init__(self, argv, monitor_path, console_log, own=None):
        self.argv, self.monitor_path, self.console_log, self.own = argv, monitor_path, console_log, own

    def monitor(self, command):
        for _ in range(50):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.monitor_path)
                s.sendall((command + "\n").encode())
                time.sleep(0.2)
                s.close()
                return
            except OSError:
                time.sleep(0.1)

    def run(self):
        """Returns (console text, how it ended)."""
        proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        text, ended, booted = [], "exited", False
        timed_out, oopsed = threading.Event(), threading.Event()

        def expire():
            timed_out.set()
            proc.kill()

        # A run may span many guest resets: the limit applies to each boot.
        timer = threading.Timer(BOOT_TIMEOUT, expire)
        timer.start()
        with open(self.console_log, "ab") as logf:
            for raw in proc.stdout:
                logf.write(raw)
                line = raw.decode(errors="replace").rstrip("\r\n")
                text.append(line)
                action = re.search(r"@@RW-HOST ([\w -]+)@@", line)
                if action:
                    self.monitor(action.group(1))
                    ended = action.group(1)
                if "reboot: System halted" in line:
                    ended = "halted"
                    self.monitor("quit")
                if "reboot: Restarting system" in line or "reboot: machine restart" in line:
                    ended = "restarted"
                    if any(OWN_BOOT.search(l) for l in text[-400:]) and not self.own:
                        ended = "own-next"  # relaunched by the host with the guest's own kernel and initramfs
                        self.monitor("quit")
                if self.own and "Rebooting automatically due to panic=" in line:
                    ended = "own-failed"  # initramfs-tools gave up on root; the next launch is a normal boot
                    self.monitor("quit")
                if "@@RW-BOOT@@" in line:
                    booted = True
                    timer.cancel()
                    timer = threading.Timer(BOOT_TIMEOUT, expire)
                    timer.start()
                if OOPS.search(line) and not oopsed.is_set():
                    # A finding, not a reason to wait out the boot timeout: keep the
                    # trace that follows for a moment, then stop.
                    oopsed.set()
                    threading.Timer(3, proc.kill).start()
                if "Kernel panic - not syncing" in line:
                    ended = "panicked"
                    if self.own:
                        ended = "own-failed"
                        self.monitor("quit")
                    elif not booted:  # the guest itself is broken: no point retrying
                        text.append("@@RW-FAIL@@ kernel panicked before the guest init ran")
                        proc.kill()
        proc.wait()
        timer.cancel()
        if timed_out.is_set():
            ended = "timeout"
        return "\n".join(text), ended
