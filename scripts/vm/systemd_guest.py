"""The systemd guest of the QEMU suite: Debian 12 with systemd and dbus.

A debootstrap'd root (built once, cached in .cache/vm/systemd-root, never
committed) plus the release binaries, reboot-witness.service from scripts/,
and a test unit that runs the scenario's phase on every boot and prints the
same sentinels as the busybox guest. The suite's own initramfs loads the
modules, then switches to this root (rw.guest=systemd on the command line).
Each scenario run boots a qcow2 overlay of one base image.
"""
import os, shutil, subprocess, tempfile

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = "systemd,systemd-sysv,dbus,udev,kmod,procps"


def ensure_root(cache, log):
    root = os.path.join(cache, "systemd-root")
    if os.path.exists(os.path.join(root, "lib", "systemd", "systemd")):
        return root
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"vm-test: debootstrap {SUITE} with {PACKAGES} (once, cached in {root})")
    subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, tmp, MIRROR],
                   check=True, stdout=subprocess.DEVNULL)
    os.rename(tmp, root)
    return root


def build_image(cache, root, binaries, libraries, scripts_dir, vm_dir, log):
    """A raw ext4 image of the root with the witness installed; returns its path."""
    stage = tempfile.mkdtemp(prefix="rw-systemd-")
    image = os.path.join(cache, "systemd-base.img")
    try:
        subprocess.run(["cp", "-a", root + "/.", stage], check=True)
        sbin = os.path.join(stage, "usr", "local", "sbin")
        for binary in binaries:
            shutil.copy(binary, sbin)
        for lib in libraries:  # what the binaries link that debootstrap's root lacks
            dest = os.path.join(stage, lib.lstrip("/"))
            if not os.path.exists(dest):
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(lib, dest)
        units = os.path.join(stage, "etc", "systemd", "system")
        shutil.copy(os.path.join(scripts_dir, "reboot-witness.service"), units)
        shutil.copy(os.path.join(vm_dir, "systemd", "rw-scenario.service"), units)
        for target, unit in (("sysinit.target.wants", "reboot-witness.service"),
                             ("multi-user.target.wants", "rw-scenario.service")):
            os.makedirs(os.path.join(units, target), exist_ok=True)
            os.symlink(f"/etc/systemd/system/{unit}", os.path.join(units, target, unit))
        for unit in ("serial-getty@ttyS0.service", "getty@tty1.service", "systemd-timesyncd.service"):
            path = os.path.join(units, unit)
            if not os.path.lexists(path):
                os.symlink("/dev/null", path)
        lib = os.path.join(stage, "usr", "local", "lib", "rw")
        os.makedirs(os.path.join(lib, "scenarios"))
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
        if os.path.exists(image):
            os.remove(image)
        subprocess.run(["truncate", "-s", "1200M", image], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^metadata_csum,^64bit", "-d", stage, image], check=True)
        log(f"vm-test: systemd guest image {image}")
        return image
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def overlay(base, path):
    if os.path.exists(path):
        os.remove(path)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", path], check=True)
    return path
