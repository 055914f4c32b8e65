"""The guest's kernel and initramfs for scripts/vm-test: a Debian kernel
package unpacked once into the cache, and an initramfs holding static
busybox, the binaries under test, the modules the scenarios load, the guest
init and the scenario scripts (scripts/vm/)."""
import os, re, shutil, subprocess, sys, tempfile

from debian_archive import Archive, sources  # scripts/debian_archive.py

# alias: (Debian suite, kernel meta-package). 5.10 (Debian 11) is the oldest
# LTS fleets still run; sid carries the newest kernel the mirror has.
KERNELS = {"5.10": ("bullseye", "linux-image-amd64"), "6.1": ("bookworm", "linux-image-amd64"),
           "6.12": ("bookworm", "linux-image-6.12-amd64"), "sid": ("sid", "linux-image-amd64")}
MODULES = [("virtio_pci", ""), ("virtio_blk", ""), ("crc32c_generic", ""), ("ext4", ""),
           ("ramoops", "mem_address=0x10000000 mem_size=0x100000 record_size=0x10000 "
                       "console_size=0x10000 ftrace_size=0 ecc=1 max_reason=4"),
           ("watchdog", "")]
# Copied into /modules/extra but not loaded at boot (scenarios insmod them).
EXTRA_MODULES = ["softdog", "evdev", "button", "ipmi_msghandler", "ipmi_si", "ipmi_devintf", "ipmi_watchdog"]


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, **kw)


class Kernel:
    """A Debian kernel package, downloaded (through a private apt configuration
    for its suite) and unpacked once into the cache."""

    def __init__(self, alias, cache):
        self.alias = alias
        suite, meta = KERNELS[alias]
        self.archive = Archive(os.path.join(cache, "apt", suite), sources(suite))
        self.package = self.archive.depends(meta, prefix="linux-image-")
        if not self.package or not self.package.startswith("linux-image-"):
            sys.exit(f"vm-test: {suite} has no {meta} (or it depends on no linux-image-*)")
        self.version = self.package[len("linux-image-"):]
        self.dir = os.path.join(cache, "kernels", self.version)

    def prepare(self):
        root = os.path.join(self.dir, "root")
        if not self.locate(root):
            os.makedirs(self.dir, exist_ok=True)
            # Newer suites split the image package: the kernel in linux-binary-*, its modules in linux-modules-*.
            parts = self.archive.dependencies(self.package, ("linux-binary-", "linux-modules-"))
            self.archive.download([self.package] + parts, self.dir)
            for deb in sorted(f for f in os.listdir(self.dir) if f.endswith(".deb")):
                sh("dpkg", "-x", os.path.join(self.dir, deb), root)
            # Kernels of merged-/usr suites (trixie on) ship their modules in
            # /usr/lib/modules; this machine's depmod looks in /lib/modules.
            if not os.path.exists(os.path.join(root, "lib")) and os.path.isdir(os.path.join(root, "usr", "lib")):
                os.symlink("usr/lib", os.path.join(root, "lib"))
            sh("depmod", "-b", root, self.version)
            if not self.locate(root):
                sys.exit(f"vm-test: {self.package} holds no vmlinuz")
        self.modules = os.path.join(root, "lib", "modules", self.version)

    def locate(self, root):
        """The kernel image: /boot/vmlinuz-V, or /usr/lib/modules/V/vmlinuz in newer packages."""
        for path in (os.path.join(root, "boot", f"vmlinuz-{self.version}"),
                     os.path.join(root, "usr", "lib", "modules", self.version, "vmlinuz")):
            if os.path.exists(path):
                self.vmlinuz = path
                return True
        return False

    def extra_modules(self):
        with open(os.path.join(self.modules, "modules.dep")) as f:
            paths = [line.partition(":")[0] for line in f]
        return [(name, p) for name in EXTRA_MODULES for p in paths
                if re.sub(r"\.ko(\.xz)?$", "", os.path.basename(p)) == name]

    def module_order(self):
        """(name, path, args) for MODULES and their dependencies, dependencies first."""
        deps = {}
        with open(os.path.join(self.modules, "modules.dep")) as f:
            for line in f:
                path, _, rest = line.partition(":")
                deps[path] = rest.split()
        by_name = {re.sub(r"\.ko(\.xz)?$", "", os.path.basename(p)).replace("-", "_"): p for p in deps}
        order, seen = [], set()

        def visit(path, args=""):
            if path in seen:
                return
            seen.add(path)
            for dep in deps[path]:
                visit(dep)
            order.append((re.sub(r"\.ko(\.xz)?$", "", os.path.basename(path)), path, args))

        for name, args in MODULES:
            if name in by_name:
                visit(by_name[name], args)
        return order


def shared_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=> (/\S+)", out) + re.findall(r"^\s*(/lib64/\S+)", out, re.M)
    return sorted(set(libs))


def build_initramfs(kernel, binaries, cache, vmdir):
    stage = tempfile.mkdtemp(prefix="rw-initramfs-")
    try:
        for d in ("bin", "etc", "modules", "scenarios", "proc", "sys", "dev", "lib64", "state"):
            os.makedirs(os.path.join(stage, d), exist_ok=True)
        shutil.copy("/bin/busybox", os.path.join(stage, "bin", "busybox"))
        for binary in binaries:
            shutil.copy(binary, os.path.join(stage, "bin"))
            for lib in shared_libraries(binary):
                dest = os.path.join(stage, lib.lstrip("/"))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(lib, dest)
        with open(os.path.join(stage, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        with open(os.path.join(stage, "etc", "group"), "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n")
        order = []
        for name, path, args in kernel.module_order():
            src = os.path.join(kernel.modules, path)
            dest = os.path.join(stage, "modules", name + ".ko")
            if src.endswith(".xz"):
                with open(dest, "wb") as out:
                    sh("xz", "-dc", src, stdout=out)
            else:
                shutil.copy(src, dest)
            order.append(f"{name} {args}".strip())
        with open(os.path.join(stage, "modules", "order"), "w") as f:
            f.write("\n".join(order) + "\n")
        os.makedirs(os.path.join(stage, "modules", "extra"))
        for name, path in kernel.extra_modules():
            dest = os.path.join(stage, "modules", "extra", name + ".ko")
            with open(dest, "wb") as out:
                sh("xz" if path.endswith(".xz") else "cat", *(["-dc"] if path.endswith(".xz") else []),
                   os.path.join(kernel.modules, path), stdout=out)
        sh("gcc", "-static", "-O2", "-o", os.path.join(stage, "bin", "guest-reboot"),
           os.path.join(vmdir, "guest-reboot.c"))
        shutil.copy(os.path.join(vmdir, "init"), os.path.join(stage, "init"))
        for script in os.listdir(os.path.join(vmdir, "scenarios")):
            shutil.copy(os.path.join(vmdir, "scenarios", script), os.path.join(stage, "scenarios"))
        image = os.path.join(cache, f"initramfs-{kernel.version}.cpio.gz")
        files = subprocess.run(["find", "."], cwd=stage, capture_output=True, check=True).stdout
        with open(image, "wb") as out:
            cpio = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"], cwd=stage,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            gz = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=out)
            cpio.stdin.write(files)
            cpio.stdin.close()
            gz.wait()
            cpio.wait()
        return image
    finally:
        shutil.rmtree(stage)
