"""The systemd guests of the QEMU suite: Debian 12 with systemd and dbus, and
Debian 13 (systemd 257) for what only newer systemd does (soft-reboot).

A debootstrap'd root (built once, cached in .cache/vm/systemd-root[-SUITE], never
committed) with reboot-witness installed from its .deb (dpkg -i in the root:
the package's postinst enables the unit), the test helper rw-selftest, and a
test unit that runs the scenario's phase on every boot and prints the same
sentinels as the busybox guest. The suite's own initramfs loads the
modules, then switches to this root (rw.guest=systemd on the command line).
Each scenario run boots a qcow2 overlay of one base image.
"""
import os, re, shutil, subprocess, tempfile

DEFAULT_SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# sudo, OpenSSH and pam_systemd (logind sessions, as on a standard install): the never-armed
# scenario logs in by ssh on loopback and runs `sudo reboot`;
# bpftool: the package scenario checks that removal leaves no program or link behind;
# initramfs-tools, zstd: the preflight scenario installs a kernel package, which builds its initramfs;
# libarchive13: what the .deb recommends for preflight (apt installs it with the package, dpkg -i does not);
# rsyslog: the syslog-only scenarios (disabled in the image; they enable it); kexec-tools: the kexec scenario.
PACKAGES = ("systemd,systemd-sysv,dbus,udev,kmod,procps,sudo,openssh-server,openssh-client,libpam-systemd,bpftool,"
            "initramfs-tools,zstd,libarchive13,rsyslog,kexec-tools")
# Debian 13: only what its scenarios (soft-reboot) use.
SUITE_PACKAGES = {DEFAULT_SUITE: PACKAGES,
                  "trixie": "systemd,systemd-sysv,dbus,udev,kmod,procps,libpam-systemd,bpftool,libsystemd0"}


def ensure_root(cache, log, suite=DEFAULT_SUITE):
    packages = SUITE_PACKAGES[suite]
    root = os.path.join(cache, "systemd-root" if suite == DEFAULT_SUITE else f"systemd-root-{suite}")
    stamp = os.path.join(root, ".rw-packages")
    if os.path.exists(os.path.join(root, "lib", "systemd", "systemd")) and \
            os.path.exists(stamp) and open(stamp).read() == packages:
        return root
    shutil.rmtree(root, ignore_errors=True)
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"vm-test: debootstrap {suite} with {packages} (once, cached in {root})")
    subprocess.run(["debootstrap", "--variant=minbase", f"--include={packages}", suite, tmp, MIRROR],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, ".rw-packages"), "w") as f:
        f.write(packages)
    os.rename(tmp, root)
    return root


def build_image(cache, root, deb, selftest, libraries, vm_dir, log, kernel_deb=None, suite=DEFAULT_SUITE):
    """A raw ext4 image of the root with the witness installed; returns its path.
    With `kernel_deb`, the kernel package is installed too (dpkg -i: initramfs-tools
    builds its initramfs in /boot, as on an installed system)."""
    stage = tempfile.mkdtemp(prefix="rw-systemd-")
    # One image per kernel package: lanes running two kernels' scenarios at once must not share it.
    image = os.path.join(cache, f"systemd-{os.path.basename(kernel_deb)[:-len('.deb')]}.img" if kernel_deb
                         else "systemd-base.img" if suite == DEFAULT_SUITE else f"systemd-{suite}.img")
    try:
        subprocess.run(["cp", "-a", root + "/.", stage], check=True)
        shutil.copy(deb, os.path.join(stage, "tmp"))
        # As an administrator would: the package's maintainer scripts enable the unit.
        subprocess.run(["chroot", stage, "dpkg", "-i", "/tmp/" + os.path.basename(deb)], check=True,
                       stdout=subprocess.DEVNULL)
        os.remove(os.path.join(stage, "tmp", os.path.basename(deb)))
        upgrade = os.path.join(stage, "usr", "local", "lib", "rw", "upgrade.deb")
        os.makedirs(os.path.dirname(upgrade), exist_ok=True)
        newer_version(deb, upgrade)
        wanted = os.path.join(stage, "etc", "systemd", "system", "sysinit.target.wants", "reboot-witness.service")
        if not os.path.lexists(wanted):
            raise RuntimeError("dpkg -i did not enable reboot-witness.service")
        # kexec-tools must not turn every reboot into a kexec (its kexec-load.service with LOAD_KEXEC=true).
        with open(os.path.join(stage, "etc", "default", "kexec"), "w") as f:
            f.write("LOAD_KEXEC=false\nUSE_GRUB_CONFIG=false\n")
        # Only the syslog-only scenarios run rsyslog (they enable it, as a RHEL host has it).
        if os.path.exists(os.path.join(stage, "lib", "systemd", "system", "rsyslog.service")):
            subprocess.run(["chroot", stage, "systemctl", "disable", "--quiet", "rsyslog.service"], check=True)
        shutil.copy(selftest, os.path.join(stage, "usr", "local", "sbin"))
        for lib in libraries:  # what the test helper links that debootstrap's root lacks
            dest = os.path.join(stage, lib.lstrip("/"))
            if not os.path.exists(dest):
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(lib, dest)
        units = os.path.join(stage, "etc", "systemd", "system")
        shutil.copy(os.path.join(vm_dir, "systemd", "rw-scenario.service"), units)
        os.makedirs(os.path.join(units, "multi-user.target.wants"), exist_ok=True)
        os.symlink("/etc/systemd/system/rw-scenario.service", os.path.join(units, "multi-user.target.wants", "rw-scenario.service"))
        for unit in ("serial-getty@ttyS0.service", "getty@tty1.service", "systemd-timesyncd.service"):
            path = os.path.join(units, unit)
            if not os.path.lexists(path):
                os.symlink("/dev/null", path)
        lib = os.path.join(stage, "usr", "local", "lib", "rw")
        os.makedirs(os.path.join(lib, "scenarios"), exist_ok=True)
        for name in ("run", "lib.sh"):
            shutil.copy(os.path.join(vm_dir, "systemd", name), lib)
        os.chmod(os.path.join(lib, "run"), 0o755)
        for script in os.listdir(os.path.join(vm_dir, "scenarios")):
            shutil.copy(os.path.join(vm_dir, "scenarios", script), os.path.join(lib, "scenarios"))
        os.makedirs(os.path.join(stage, "var", "log", "journal"), exist_ok=True)  # a persistent journal
        with open(os.path.join(stage, "etc", "hostname"), "w") as f:
            f.write("rw-guest\n")
        with open(os.path.join(stage, "etc", "fstab"), "w") as f:
            f.write("/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
        if kernel_deb:
            install_kernel(stage, kernel_deb)
        if os.path.exists(image):
            os.remove(image)
        subprocess.run(["truncate", "-s", "2400M" if kernel_deb else "1200M", image], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^metadata_csum,^64bit", "-d", stage, image], check=True)
        log(f"vm-test: systemd guest image {image}")
        return image
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def install_kernel(stage, kernel_deb):
    """dpkg -i of a Debian kernel package in the staged root (with /proc, for
    update-initramfs), so that /boot holds its vmlinuz and initrd.img."""
    shutil.copy(kernel_deb, os.path.join(stage, "tmp", "kernel.deb"))
    proc = os.path.join(stage, "proc")
    subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    try:
        subprocess.run(["chroot", stage, "dpkg", "-i", "/tmp/kernel.deb"], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    finally:
        subprocess.run(["umount", proc], check=False)
        os.remove(os.path.join(stage, "tmp", "kernel.deb"))


def extract(disk, paths, out_dir):
    """Files of the guest's root, read from its qcow2 disk (qemu-img to raw, then debugfs)."""
    raw = os.path.join(out_dir, "disk.raw")
    subprocess.run(["qemu-img", "convert", "-O", "raw", disk, raw], check=True)
    try:
        found = []
        for path in paths:
            target = os.path.join(out_dir, os.path.basename(path))
            subprocess.run(["debugfs", "-R", f"dump {path} {target}", raw], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            found.append(target)
        return found
    finally:
        os.remove(raw)


def newer_version(deb, path):
    """The same package under a newer version ("+upgrade1"): what an upgrade installs."""
    work = tempfile.mkdtemp(prefix="rw-upgrade-")
    try:
        subprocess.run(["dpkg-deb", "-R", deb, work], check=True)
        control = os.path.join(work, "DEBIAN", "control")
        text = open(control).read()
        version = re.search(r"^Version: (.+)$", text, re.M).group(1)
        with open(control, "w") as f:
            f.write(text.replace(f"Version: {version}", f"Version: {version}+upgrade1"))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", work, path], check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(work)


def overlay(base, path):
    if os.path.exists(path):
        os.remove(path)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", path], check=True)
    return path
